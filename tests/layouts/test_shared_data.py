"""Layout readers and probing on the real datasets in ../shared/data (skipped when absent)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from l3_kedro.evaluation import code_classes, split_fold
from l3_kedro.layouts.fsdd import read_fsdd
from l3_kedro.layouts.probe import IngestPolicy, probe_clips
from l3_kedro.layouts.urbansound8k import read_urbansound8k


def test_us8k_subset_lists_every_clip_with_a_present_file(shared_data):
    manifest = read_urbansound8k(root=shared_data / "urbansound8k_subset")
    assert len(manifest) == 1761
    assert sorted(manifest["fold"].unique()) == [1, 2]
    assert manifest["label"].nunique() == 10
    assert manifest["label_index"].between(0, 9).all()
    official = pd.read_csv(shared_data / "urbansound8k_subset" / "metadata" / "UrbanSound8K.csv")
    fsid = dict(
        zip(official["slice_file_name"].str.rsplit(".", n=1).str[0], official["fsID"], strict=True)
    )
    assert (manifest["source_id"] == manifest["clip_id"].map(fsid).astype(str)).all()


def test_us8k_validation_hold_out_never_splits_a_source_recording(shared_data):
    """Official folds 1 and 2: slices of one fsID all held out or all kept, per test fold."""
    manifest = read_urbansound8k(root=shared_data / "urbansound8k_subset")
    windows = np.arange(len(manifest) + 1)
    table, names = code_classes(
        manifest.assign(start=windows[:-1], stop=windows[1:]), dataset="us8k"
    )
    for test_fold in (1, 2):
        split = split_fold(
            table, test_fold=test_fold, validation_fraction=0.1, seed=0,
            class_names=names, dataset="us8k",
        )  # fmt: skip
        held = set(table["source_id"].iloc[split.validation])
        kept = set(table["source_id"].iloc[split.train])
        assert held and not held & kept
        assert set(table["label"].iloc[split.validation]) == set(names)
        share = split.validation.size / (split.validation.size + split.train.size)
        assert 0.07 < share < 0.13


@pytest.mark.slow
def test_us8k_subset_fold_2_probes_clean(shared_data):
    manifest = read_urbansound8k(root=shared_data / "urbansound8k_subset", folds=[2])
    clips, skips = probe_clips(manifest, policy=IngestPolicy(on_error="error", probe="header"))
    assert skips.empty
    assert set(clips["sample_rate"]) == {22050}
    assert clips["duration_s"].round(3).eq(4.0).all()


def test_fsdd_full_dataset_index_and_speaker_folds(shared_data):
    by_index = read_fsdd(root=shared_data / "fsdd")
    assert len(by_index) == 3000
    assert by_index.groupby("fold").size().tolist() == [300] * 10
    by_speaker = read_fsdd(root=shared_data / "fsdd", fold_rule="speaker")
    assert by_speaker.groupby("fold").size().tolist() == [500] * 6


def test_fsdd_probe_reads_8khz_headers(shared_data):
    manifest = read_fsdd(root=shared_data / "fsdd", folds=[1])
    clips, skips = probe_clips(manifest, policy=IngestPolicy(on_error="error", probe="header"))
    assert skips.empty
    assert set(clips["sample_rate"]) == {8000}
    assert clips["duration_s"].between(0.1, 3.0).all()
