"""Clips dealt into bins by source, stratified by class: folds and validation hold-outs.

Slices of one recording (an UrbanSound8K ``fsID``, an ESC-50 ``src_file``, a
speaker of FSDD) are near-duplicates: a split that puts some on each side
measures memory, not generalisation. Here a *group* (every clip of one
source) always lands in one bin, and the bins get each class in proportion
to their shares as closely as whole groups allow.

The rule, deterministic by seed: every class's clips are first shared out
among the bins in proportion (largest remainder, ties at random), which
gives integer per-bin, per-class targets; the groups are then placed one by
one, largest first (equal sizes in a seeded random order), each in the bin
where it brings the per-class counts closest to the targets (L1 distance;
ties to the bin where the group's classes are still missing, then to the bin
filled least, relative to its target). When every group is a
single clip, this meets every target exactly: a plain stratified split.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from l3_kedro.errors import ParameterError


def share_counts(
    counts: np.ndarray, *, shares: Sequence[float], rng: np.random.Generator
) -> np.ndarray:
    """Split each class count among bins in proportion to ``shares``, in whole clips.

    Parameters
    ----------
    counts : np.ndarray [shape=(K,)], int
        Clips per class.
    shares : sequence of float, shape (B,)
        Non-negative, summing to 1.
    rng : numpy.random.Generator
        Breaks ties between equal remainders.

    Returns
    -------
    np.ndarray [shape=(B, K)], int64
        Column ``k`` sums to ``counts[k]``; largest-remainder rounding of
        ``shares[b] * counts[k]``.
    """
    counts = np.asarray(counts, dtype=np.int64)
    shares = np.asarray(shares, dtype=float)
    ideal = shares[:, None] * counts[None, :]
    targets = np.floor(ideal).astype(np.int64)
    for k in range(counts.size):
        left = int(counts[k] - targets[:, k].sum())
        remainder = ideal[:, k] - targets[:, k]
        order = np.lexsort((rng.random(shares.size), -remainder))
        targets[order[:left], k] += 1
    return targets


def assign_grouped_bins(
    labels: Sequence[object],
    groups: Sequence[object],
    *,
    shares: Sequence[float],
    seed: int | Sequence[int] | np.random.Generator,
    targets: np.ndarray | None = None,
) -> np.ndarray:
    """Deal clips into bins, keeping every group whole and each class in proportion.

    Parameters
    ----------
    labels : sequence, shape (n,)
        Class of each clip.
    groups : sequence, shape (n,)
        Source of each clip; clips of one source share a bin.
    shares : sequence of float, shape (B,)
        Share of the clips each bin should get (non-negative, summing to 1).
    seed : int, sequence of int or numpy.random.Generator
        Seeds :func:`numpy.random.default_rng` (a generator is used as it
        is); same seed, same bins.
    targets : np.ndarray [shape=(B, K)], int, optional
        Per-bin, per-class clip targets (classes in sorted order) instead of
        those :func:`share_counts` derives from ``shares``.

    Returns
    -------
    np.ndarray [shape=(n,)], int64
        The bin (0 .. B-1) of every clip.
    """
    shares = np.asarray(shares, dtype=float)
    if shares.ndim != 1 or shares.size < 1 or (shares < 0).any() or not np.isclose(shares.sum(), 1):
        raise ParameterError(f"bin shares must be >= 0 and sum to 1; got {shares.tolist()}")
    labels, groups = np.asarray(labels), np.asarray(groups)
    if labels.shape != groups.shape:
        raise ParameterError("labels and groups must have one entry per clip")
    rng = np.random.default_rng(seed)
    _, label_code = np.unique(labels, return_inverse=True)
    _, group_code = np.unique(groups, return_inverse=True)
    n_classes, n_groups = int(label_code.max(initial=-1)) + 1, int(group_code.max(initial=-1)) + 1
    per_group = np.zeros((n_groups, n_classes), dtype=np.int64)
    np.add.at(per_group, (group_code, label_code), 1)
    if targets is None:
        targets = share_counts(per_group.sum(axis=0), shares=shares, rng=rng)
    filled = np.zeros_like(targets)
    wanted = np.maximum(targets.sum(axis=1), 1)
    sizes = per_group.sum(axis=1)
    bin_of_group = np.empty(n_groups, dtype=np.int64)
    for g in np.lexsort((rng.permutation(n_groups), -sizes)):
        gap = np.abs(targets - filled)
        cost = (np.abs(targets - filled - per_group[g]) - gap).sum(axis=1)
        new_classes = ((filled == 0) & (per_group[g] > 0)).sum(axis=1)
        choice = int(np.lexsort((filled.sum(axis=1) / wanted, -new_classes, cost))[0])
        bin_of_group[g] = choice
        filled[choice] += per_group[g]
    return bin_of_group[group_code]


def refold_by_source(clips: pd.DataFrame, *, n_folds: int, seed: int, dataset: str) -> pd.DataFrame:
    """Deal a clip table's clips into ``n_folds`` new folds, grouped by source.

    For datasets (or subsets) with too few predefined folds for paired tests:
    the folds are numbered 1 .. n_folds, each source in one fold, every class
    spread evenly. The predefined folds are given up; the clip table says so
    in the log, and the README of the dataset should.

    Parameters
    ----------
    clips : pandas.DataFrame
        A clip table with ``label``, ``source_id`` and ``fold``. Not modified.
    n_folds : int
        At least 2, at most the number of sources.
    seed : int
    dataset : str
        For messages.

    Returns
    -------
    pandas.DataFrame
        A copy with the new ``fold``.
    """
    n_sources = clips["source_id"].nunique()
    if not isinstance(n_folds, int) or not 2 <= n_folds <= n_sources:
        raise ParameterError(
            f"ingest.datasets.{dataset}.refold.n_folds must be an integer from 2 to the "
            f"number of sources ({n_sources}); got {n_folds!r}"
        )
    bins = assign_grouped_bins(
        clips["label"].to_numpy(),
        clips["source_id"].to_numpy(),
        shares=np.full(n_folds, 1 / n_folds),
        seed=seed,
    )
    return clips.assign(fold=bins + 1)
