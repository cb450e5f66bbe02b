"""End-to-end tests of l3_kedro.evaluation.protocol on stores written with write_store."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from l3_kedro.datasets import EmbeddingStore
from l3_kedro.errors import EvaluationError, ParameterError
from l3_kedro.evaluation import (
    DownstreamMLP,
    ProtocolConfig,
    code_classes,
    evaluate_fold,
    evaluate_store,
    split_fold,
)
from tests.evaluation.stores import gaussian_embeddings, toy_clips, write_clips_store

FAST = {"epochs": 3, "patience": 2, "batch_size": 16}
ONE_POINT = {"learning_rate": [1e-3], "weight_decay": [1e-4]}


@pytest.mark.slow
def test_end_to_end_on_real_embeddings(us8k_store, us8k_embeddings):
    clips, _ = us8k_embeddings
    result = evaluate_store(
        us8k_store, dataset="us8k", grid=ONE_POINT, seed=0, clip_table=clips, **FAST
    )
    assert result.class_names == ("air_conditioner", "dog_bark", "jackhammer", "siren")
    folds = result.folds.set_index("fold")
    assert folds.index.tolist() == [1, 2]
    assert (folds["n_test_clips"] == 32).all()
    assert (folds["n_train_clips"] + folds["n_val_clips"] == 32).all()
    assert (folds["n_val_clips"] == 3).all()  # round(10 % of 32 training clips)
    assert (folds[["learning_rate", "weight_decay"]] == [1e-3, 1e-4]).all().all()
    assert folds["clip_accuracy"].between(0.5, 1).all()  # chance is 0.25
    for fold, confusion in result.confusion.items():
        assert confusion.shape == (4, 4) and confusion.sum() == 32
        assert np.trace(confusion) / 32 == pytest.approx(folds.loc[fold, "clip_accuracy"])
    assert result.per_class_accuracy.shape == (2, 4)
    assert len(result.grid) == 2 and result.grid["chosen"].all()
    assert result.mean_clip_accuracy == pytest.approx(folds["clip_accuracy"].mean())
    assert set(result.metrics()) >= {"clip_accuracy_mean", "clip_accuracy_fold1", "macro_f1_mean"}


def test_same_seed_gives_the_same_numbers(toy_store):
    runs = [
        evaluate_store(toy_store, dataset="toy", grid=ONE_POINT, test_folds=[2], seed=4, **FAST)
        for _ in range(2)
    ]
    pd.testing.assert_frame_equal(runs[0].folds, runs[1].folds)
    pd.testing.assert_frame_equal(
        runs[0].grid.drop(columns="seconds"), runs[1].grid.drop(columns="seconds")
    )


def test_grid_point_is_chosen_on_validation(tmp_path, rng):
    # harder classes (6 validation clips) so that the learning rate matters
    clips = toy_clips(clips_per_class=20, windows=(3, 5), rng=rng)
    embeddings = gaussian_embeddings(clips, separation=0.7, rng=rng)
    path = write_clips_store(tmp_path / "hard.h5", clips, embeddings)
    grid = {"learning_rate": [1e3, 1e-2], "weight_decay": [1e-4]}  # the absurd one first
    result = evaluate_store(path, dataset="toy", grid=grid, test_folds=[1], **FAST)
    table = result.grid.set_index("learning_rate")
    assert table.loc[1e-2, "chosen"] and not table.loc[1e3, "chosen"]
    assert table.loc[1e-2, "val_clip_accuracy"] == table["val_clip_accuracy"].max()
    assert table.loc[1e3, "val_clip_accuracy"] < table.loc[1e-2, "val_clip_accuracy"]
    assert result.folds.loc[0, "learning_rate"] == 1e-2
    assert result.folds.loc[0, "val_clip_accuracy"] == table.loc[1e-2, "val_clip_accuracy"]


def fold_two(path, config):
    """Evaluate test fold 2 of the store at ``path``."""
    with EmbeddingStore(path) as store:
        table, names = code_classes(store.clips, dataset="toy")
        split = split_fold(
            table, test_fold=2, validation_fraction=0.1, seed=0, class_names=names, dataset="toy"
        )
        mlp = DownstreamMLP(input_dim=store.embedding_size, n_classes=len(names))
        options = {"class_names": names, "config": config, "dataset": "toy", "chunk_rows": 8}
        return evaluate_fold(store.embeddings, table, split=split, mlp=mlp, **options)


def test_test_fold_takes_no_part_in_scaling_or_selection(tmp_path, toy):
    clips, embeddings = toy
    shifted = [e + 50.0 if f == 2 else e for e, f in zip(embeddings, clips["fold"], strict=True)]
    config = ProtocolConfig(
        learning_rates=(1e-2, 1e-3), weight_decays=(1e-4,), **{**FAST, "epochs": 2}
    )
    plain = fold_two(write_clips_store(tmp_path / "plain.h5", clips, embeddings), config)
    moved = fold_two(write_clips_store(tmp_path / "moved.h5", clips, shifted), config)
    np.testing.assert_array_equal(plain.scaler.mean, moved.scaler.mean)
    np.testing.assert_array_equal(plain.scaler.scale, moved.scaler.scale)
    grids = [pd.DataFrame(o.grid).drop(columns="seconds") for o in (plain, moved)]
    pd.testing.assert_frame_equal(*grids)  # same validation scores, same choice
    assert plain.summary["clip_accuracy"] > moved.summary["clip_accuracy"]


def test_single_fold_store_is_refused(tmp_path, toy):
    clips, embeddings = toy
    path = write_clips_store(tmp_path / "one.h5", clips.assign(fold=1), embeddings)
    with pytest.raises(EvaluationError, match="'dcase2013' dataset has a single fold"):
        evaluate_store(path, dataset="dcase2013", grid=ONE_POINT, **FAST)


def test_training_split_missing_a_class_is_refused_before_training(tmp_path, toy):
    clips, embeddings = toy
    keep = ~((clips["label"] == "class1") & (clips["fold"] == 1)).to_numpy()
    path = write_clips_store(
        tmp_path / "gap.h5", clips[keep], [e for e, k in zip(embeddings, keep, strict=True) if k]
    )
    with pytest.raises(EvaluationError, match=r"'esc50' dataset for test fold 2.*'class1'"):
        evaluate_store(path, dataset="esc50", grid=ONE_POINT, **FAST)


def test_store_not_matching_the_clip_table_is_refused(toy_store, toy):
    clips, _ = toy
    other = clips.assign(label=clips["label"].where(clips.index != 6, "class0"))
    assert other.loc[6, "label"] != clips.loc[6, "label"]
    with pytest.raises(EvaluationError, match=r"'us8k' embedding store does not match"):
        evaluate_store(toy_store, dataset="us8k", grid=ONE_POINT, clip_table=other, **FAST)
    renamed = clips.assign(clip_id=clips["clip_id"] + "x")
    with pytest.raises(EvaluationError, match=r"'us8k' embedding store does not match"):
        evaluate_store(toy_store, dataset="us8k", grid=ONE_POINT, clip_table=renamed, **FAST)


def test_nan_embeddings_are_refused_naming_dataset_fold_and_clip(tmp_path, toy):
    clips, embeddings = toy
    embeddings = [e.copy() for e in embeddings]
    embeddings[20][1, 3] = np.nan
    path = write_clips_store(tmp_path / "nan.h5", clips, embeddings, dtype="float16")
    clip = clips.iloc[20]
    with pytest.raises(
        EvaluationError, match=rf"'toy' embeddings.*'{clip['clip_id']}' \(fold {clip['fold']}"
    ):
        evaluate_store(path, dataset="toy", grid=ONE_POINT, **FAST)


def test_bad_parameters_name_the_parameter(toy_store):
    with pytest.raises(ParameterError, match="epochs=0"):
        evaluate_store(toy_store, dataset="toy", grid=ONE_POINT, epochs=0)
    with pytest.raises(ParameterError, match="grid="):
        evaluate_store(toy_store, dataset="toy", grid={"learning_rate": [1e-3]})
    with pytest.raises(ParameterError, match=r"test_folds=\[7\]"):
        evaluate_store(toy_store, dataset="toy", grid=ONE_POINT, test_folds=[7])


class CountingArray:
    """A (n, D) array that counts the rows read from it, as from a store."""

    def __init__(self, values: np.ndarray) -> None:
        self.values, self.shape, self.rows_read = values, values.shape, 0

    def __getitem__(self, index):
        out = self.values[index]
        self.rows_read += len(out)
        return out


def test_grid_points_share_one_read_of_the_fold(toy):
    clips, embeddings = toy
    stops = np.cumsum(clips["n_windows"])
    table, names = code_classes(
        clips.assign(start=stops - clips["n_windows"], stop=stops), dataset="toy"
    )
    split = split_fold(
        table, test_fold=1, validation_fraction=0.1, seed=0, class_names=names, dataset="toy"
    )
    mlp = DownstreamMLP(input_dim=8, n_classes=len(names))
    reads = []
    for rates in ((1e-2,), (1e-2, 1e-3, 1e-4)):
        store = CountingArray(np.concatenate(embeddings))
        config = ProtocolConfig(learning_rates=rates, weight_decays=(1e-4,), **FAST)
        evaluate_fold(
            store, table, split=split, mlp=mlp, class_names=names, config=config,
            dataset="toy", chunk_rows=16,
        )  # fmt: skip
        reads.append(store.rows_read)
    fitted = table.iloc[split.train]
    n_fit = int((fitted["stop"] - fitted["start"]).sum())
    # the scaler's pass over the training windows, then one read of every window
    assert reads[0] == reads[1] == n_fit + int(clips["n_windows"].sum())
