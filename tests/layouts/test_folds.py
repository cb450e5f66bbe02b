"""Clips dealt into bins by source, stratified by class."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from l3_kedro.errors import ParameterError
from l3_kedro.layouts.folds import assign_grouped_bins, refold_by_source, share_counts


def _us8k_like(rng: np.random.Generator, n_sources: int = 60) -> pd.DataFrame:
    """Sources of 1-12 slices each, one class per source (as UrbanSound8K's fsID)."""
    rows = []
    for source in range(n_sources):
        label = f"class{source % 10}"
        rows += [{"source_id": f"fs{source}", "label": label}] * int(rng.integers(1, 13))
    return pd.DataFrame(rows)


def test_share_counts_is_largest_remainder_per_class(rng):
    targets = share_counts(np.array([10, 7, 3]), shares=[0.9, 0.1], rng=rng)
    assert targets.sum(axis=0).tolist() == [10, 7, 3]
    assert targets[1].tolist() == [1, 1, 0]  # 1.0, 0.7, 0.3 -> 1, 1, 0


def test_every_source_lands_in_one_bin_and_bins_follow_their_shares(rng):
    clips = _us8k_like(rng)
    bins = assign_grouped_bins(clips["label"], clips["source_id"], shares=[0.25] * 4, seed=3)
    assert (pd.Series(bins).groupby(clips["source_id"]).nunique() == 1).all()
    sizes = np.bincount(bins, minlength=4)
    assert abs(sizes - len(clips) / 4).max() <= 12  # within one source of the share
    per_class = pd.crosstab(clips["label"], bins)
    assert (per_class > 0).sum(axis=1).min() >= 3  # six sources per class spread over the bins


def test_single_clip_sources_meet_every_class_target_exactly(rng):
    labels = rng.integers(0, 5, size=203)
    bins = assign_grouped_bins(labels, np.arange(labels.size), shares=[0.9, 0.1], seed=0)
    expected = share_counts(np.bincount(labels), shares=[0.9, 0.1], rng=np.random.default_rng(0))
    assert pd.crosstab(bins, labels).to_numpy().tolist() == expected.tolist()


def test_same_seed_same_bins_other_seed_other_bins(rng):
    clips = _us8k_like(rng)
    first = assign_grouped_bins(clips["label"], clips["source_id"], shares=[0.5, 0.5], seed=1)
    again = assign_grouped_bins(clips["label"], clips["source_id"], shares=[0.5, 0.5], seed=1)
    other = assign_grouped_bins(clips["label"], clips["source_id"], shares=[0.5, 0.5], seed=2)
    assert (first == again).all()
    assert (first != other).any()


def test_speakers_held_out_whole():
    # FSDD-like: 5 speakers, each saying every digit 5 times; 10 % asked for
    labels = np.tile(np.repeat(np.arange(10), 5), 5)
    speakers = np.repeat(np.arange(5), 50)
    bins = assign_grouped_bins(labels, speakers, shares=[0.9, 0.1], seed=0)
    held = np.unique(speakers[bins == 1])
    assert held.size == 1  # the nearest whole-speaker share to 10 %: one of five
    assert (bins[speakers == held[0]] == 1).all()


def test_bad_shares_are_refused():
    with pytest.raises(ParameterError, match="shares"):
        assign_grouped_bins(["a", "b"], [1, 2], shares=[0.5, 0.6], seed=0)
    with pytest.raises(ParameterError, match="one entry per clip"):
        assign_grouped_bins(["a", "b"], [1], shares=[1.0], seed=0)


def test_refold_by_source_numbers_folds_from_one_and_keeps_sources_whole(rng):
    clips = _us8k_like(rng).assign(fold=1)
    refolded = refold_by_source(clips, n_folds=6, seed=0, dataset="us8k")
    assert sorted(refolded["fold"].unique()) == [1, 2, 3, 4, 5, 6]
    assert (refolded.groupby("source_id")["fold"].nunique() == 1).all()
    assert (clips["fold"] == 1).all()  # the input is not modified
    with pytest.raises(ParameterError, match=r"ingest\.datasets\.us8k\.refold\.n_folds"):
        refold_by_source(clips, n_folds=1, seed=0, dataset="us8k")
    with pytest.raises(ParameterError, match="number of sources"):
        refold_by_source(clips, n_folds=1000, seed=0, dataset="us8k")


def test_a_class_reaches_every_fold_its_sources_can_cover():
    # UrbanSound8K's embedded jackhammer: 10 recordings, two of 4 slices, eight of 1
    sizes = [4, 4, 1, 1, 1, 1, 1, 1, 1, 1]
    groups = np.repeat(np.arange(10), sizes)
    other = np.arange(100, 260)  # another class of 160 single-clip sources
    bins = assign_grouped_bins(
        np.r_[np.zeros(16), np.ones(160)], np.r_[groups, other], shares=[0.1] * 10, seed=0
    )
    assert np.unique(bins[:16]).size == 10
