"""Tests for l3_kedro.evaluation.splits and .clips (fold and validation splits, clip checks)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from l3_kedro.errors import EvaluationError, ParameterError
from l3_kedro.evaluation import code_classes, plan_test_folds, split_fold, window_rows
from l3_kedro.evaluation.clips import check_against_clip_table
from l3_kedro.evaluation.splits import allocate_validation, stratified_holdout
from tests.evaluation.stores import toy_clips


def coded(clips: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Give a toy clip table the store's start/stop columns and code it."""
    stops = np.cumsum(clips["n_windows"].to_numpy())
    table = clips.assign(start=stops - clips["n_windows"], stop=stops)
    return code_classes(table, dataset="toy")


@pytest.fixture
def clips(rng) -> pd.DataFrame:
    """4 classes, folds 1-3, 10 clips per class and fold."""
    return toy_clips(n_classes=4, folds=(1, 2, 3), clips_per_class=10, rng=rng)


def test_every_fold_is_a_test_fold_unless_test_folds_says_otherwise():
    folds = np.array([3, 1, 2, 1, 3])
    assert plan_test_folds(folds, test_folds=None, dataset="d") == (1, 2, 3)
    assert plan_test_folds(folds, test_folds=[2], dataset="d") == (2,)


def test_unknown_test_fold_is_a_parameter_error():
    with pytest.raises(ParameterError, match=r"test_folds=\[4\].*'esc50'.*\[1, 2\]"):
        plan_test_folds(np.array([1, 2]), test_folds=[4], dataset="esc50")


def test_single_fold_dataset_is_refused_naming_it():
    with pytest.raises(EvaluationError, match="'dcase2013' dataset has a single fold"):
        plan_test_folds(np.array([1, 1, 1]), test_folds=None, dataset="dcase2013")
    with pytest.raises(EvaluationError, match="single fold"):
        plan_test_folds(np.array([1, 1]), test_folds=[1], dataset="dcase2013")


def test_no_clip_and_no_window_in_two_splits(clips):
    table, names = coded(clips)
    for test_fold in (1, 2, 3):
        split = split_fold(
            table, test_fold=test_fold, validation_fraction=0.1, seed=0,
            class_names=names, dataset="toy",
        )  # fmt: skip
        parts = (split.train, split.validation, split.test)
        assert sum(p.size for p in parts) == len(table)
        assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(len(table)))
        assert (table["fold"].iloc[split.test] == test_fold).all()
        assert (table["fold"].iloc[np.concatenate(parts[:2])] != test_fold).all()
        rows = [window_rows(table["start"].iloc[p], table["stop"].iloc[p])[0] for p in parts]
        assert sum(r.size for r in rows) == len(np.unique(np.concatenate(rows)))


def test_validation_is_stratified_by_class_and_drawn_by_clip(clips):
    table, names = coded(clips)
    split = split_fold(
        table, test_fold=1, validation_fraction=0.1, seed=0, class_names=names, dataset="toy"
    )
    # 20 training clips per class: 2 of each held out, every class in both parts
    assert np.bincount(table["target"].iloc[split.validation], minlength=4).tolist() == [2] * 4
    assert np.bincount(table["target"].iloc[split.train], minlength=4).tolist() == [18] * 4


def test_validation_never_splits_a_source(clips):
    # pairs of clips cut from one recording, as UrbanSound8K slices of one fsID
    table, names = coded(clips.assign(source_id=[f"rec{i // 2}" for i in range(len(clips))]))
    for test_fold in (1, 2, 3):
        split = split_fold(
            table, test_fold=test_fold, validation_fraction=0.1, seed=0,
            class_names=names, dataset="toy",
        )  # fmt: skip
        held = set(table["source_id"].iloc[split.validation])
        kept = set(table["source_id"].iloc[split.train])
        assert held and not held & kept
        counts = np.bincount(table["target"].iloc[split.validation], minlength=4)
        assert counts.tolist() == [2] * 4  # whole pairs still meet the 2-per-class target


def test_validation_holds_out_whole_speakers(rng):
    # FSDD-like: every speaker says every digit, so the hold-out is one whole speaker
    clips = toy_clips(n_classes=4, folds=(1, 2), clips_per_class=15, rng=rng)
    speakers = [f"speaker{i % 5}" for i in range(len(clips))]
    table, names = coded(clips.assign(source_id=speakers))
    split = split_fold(
        table, test_fold=1, validation_fraction=0.1, seed=0, class_names=names, dataset="fsdd"
    )
    held = set(table["source_id"].iloc[split.validation])
    assert len(held) == 1 and not held & set(table["source_id"].iloc[split.train])


def test_one_source_per_training_split_cannot_hold_out_validation(clips):
    table, names = coded(clips.assign(source_id="one recording"))
    with pytest.raises(EvaluationError, match="1 sources: too few to hold out"):
        split_fold(
            table, test_fold=1, validation_fraction=0.1, seed=0, class_names=names, dataset="d"
        )


def test_a_store_without_sources_counts_each_clip_as_its_own(clips, caplog):
    table, _ = coded(clips.drop(columns="source_id", errors="ignore"))
    assert (table["source_id"] == table["clip_id"].astype(str)).all()
    assert "no source_id column" in caplog.text


def test_validation_split_follows_the_seed(rng):
    targets = rng.integers(0, 5, size=200)
    first = stratified_holdout(targets, fraction=0.1, seed=(7, 1, 0))
    again = stratified_holdout(targets, fraction=0.1, seed=(7, 1, 0))
    other = stratified_holdout(targets, fraction=0.1, seed=(8, 1, 0))
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[1], other[1])
    assert first[1].size == 20  # round(0.1 * 200)


def test_validation_shares_add_up_to_the_fraction(rng):
    # ESC-50 training split: 50 classes x 32 clips -> 160 validation clips, 3 or 4 per class
    shares = allocate_validation(np.full(50, 32), fraction=0.1, rng=rng)
    assert shares.sum() == 160 and set(shares.tolist()) == {3, 4}
    # DCASE 2013 SCD: 10 classes x 10 clips -> 1 each; a lone clip stays in training
    assert allocate_validation(np.full(10, 10), fraction=0.1, rng=rng).tolist() == [1] * 10
    assert allocate_validation(np.array([1, 9]), fraction=0.5, rng=rng).tolist() == [0, 5]


def test_training_split_missing_a_class_names_dataset_fold_and_class(clips):
    clips = clips[~((clips["label"] == "class2") & (clips["fold"] != 3))]
    table, names = coded(clips)
    with pytest.raises(EvaluationError, match=r"'us8k' dataset for test fold 3.*\['class2'\]"):
        split_fold(
            table, test_fold=3, validation_fraction=0.1, seed=0, class_names=names, dataset="us8k"
        )


def test_too_few_training_clips_for_validation_is_an_error(rng):
    table, names = coded(toy_clips(n_classes=2, clips_per_class=1, rng=rng))
    with pytest.raises(EvaluationError, match="too few to hold out"):
        split_fold(
            table, test_fold=1, validation_fraction=0.1, seed=0, class_names=names, dataset="d"
        )


def test_classes_follow_label_index_and_labels_must_agree(clips):
    table, names = coded(clips.assign(label_index=3 - clips["label_index"]))
    assert names == ("class3", "class2", "class1", "class0")
    assert (table["target"] == 3 - clips["label_index"].to_numpy()).all()
    broken = clips.copy()
    broken.loc[0, "label_index"] = 2
    with pytest.raises(EvaluationError, match="disagree"):
        coded(broken)


def test_bad_store_clip_tables_are_refused(clips):
    with pytest.raises(EvaluationError, match="lists clip ids twice"):
        coded(pd.concat([clips.iloc[:2], clips.iloc[:1]]))
    with pytest.raises(EvaluationError, match="no embedding window"):
        coded(clips.assign(n_windows=0))
    with pytest.raises(EvaluationError, match="lacks the column"):
        code_classes(clips, dataset="toy")


def test_store_must_match_the_clip_table(clips):
    table = clips.drop(columns="n_windows")
    check_against_clip_table(table, table, dataset="esc50")
    relabelled = table.assign(label=table["label"].where(table.index != 3, "class9"))
    with pytest.raises(EvaluationError, match=r"'esc50' embedding store.*label differs"):
        check_against_clip_table(relabelled, table, dataset="esc50")
    renamed = table.assign(clip_id=table["clip_id"].where(table.index != 0, "other"))
    with pytest.raises(EvaluationError, match=r"'esc50'.*not in the table: 'other'"):
        check_against_clip_table(renamed, table, dataset="esc50")
    with pytest.raises(EvaluationError, match="not in the store"):
        check_against_clip_table(table.iloc[1:], table, dataset="esc50")
    # a clip the embedding step skipped may be absent
    check_against_clip_table(
        table.iloc[1:], table, dataset="esc50", skipped_ids=[table["clip_id"].iloc[0]]
    )
