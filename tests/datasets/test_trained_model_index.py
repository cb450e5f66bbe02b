"""``trained_models``: one versioned index of every trained model, nothing copied."""

from __future__ import annotations

import shutil

import pytest
from kedro.io.core import DatasetError, Version

from l3_kedro.datasets.trained_model import (
    TrainedModel,
    TrainedModelDataset,
    TrainedModelIndexDataset,
)
from l3_kedro.pipelines.avc_training.nodes import index_trained_models


def _saved_model(root, variant: str, name: str, **info) -> TrainedModel:
    """A model file saved by the catalog's dataset, loaded back as the index node gets it."""
    source = root / "work" / f"{variant}_{name}.keras"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(f"{variant}/{name}".encode())
    dataset = TrainedModelDataset(
        filepath=str(root / "models" / variant / f"{name}.keras"), version=Version(None, None)
    )
    dataset.save(TrainedModel(path=source, info={"variant": variant, **info}))
    return TrainedModelDataset(
        filepath=str(root / "models" / variant / f"{name}.keras"), version=Version(None, None)
    ).load()


def test_index_round_trips_names_versions_facts_and_run_ids(tmp_path):
    best = _saved_model(tmp_path, "l3_mel128_music", "best", samples_seen=64)
    checkpoint = _saved_model(tmp_path, "l3_mel128_music", "checkpoint_32", samples_seen=32)
    other = _saved_model(tmp_path, "l3_linear_env", "best", samples_seen=64)
    index = index_trained_models(
        best,
        checkpoint,
        other,
        ["run-a"],
        [],  # a variant whose run was not logged in this session: no id, nothing invented
        names=["l3_mel128_music", "l3_mel128_music_s32", "l3_linear_env"],
        variants=["l3_mel128_music", "l3_linear_env"],
    )
    dataset = TrainedModelIndexDataset(
        filepath=str(tmp_path / "models" / "trained_models.json"), version=Version(None, None)
    )
    dataset.save(index)
    loaded = TrainedModelIndexDataset(
        filepath=str(tmp_path / "models" / "trained_models.json"), version=Version(None, None)
    ).load()
    assert list(loaded) == ["l3_mel128_music", "l3_mel128_music_s32", "l3_linear_env"]
    assert loaded["l3_mel128_music_s32"].path == checkpoint.path.resolve()
    assert loaded["l3_mel128_music_s32"].path.read_bytes() == b"l3_mel128_music/checkpoint_32"
    assert loaded["l3_mel128_music"].info["mlflow_run_id"] == "run-a"
    assert loaded["l3_mel128_music_s32"].info["samples_seen"] == 32
    assert "mlflow_run_id" not in loaded["l3_linear_env"].info
    # the index holds pointers, not copies, and survives moving the project folder
    assert not list((tmp_path / "models").glob("trained_models.json/*/*.keras"))
    shutil.move(tmp_path / "models", tmp_path / "moved")
    moved = TrainedModelIndexDataset(
        filepath=str(tmp_path / "moved" / "trained_models.json"), version=Version(None, None)
    ).load()
    assert moved["l3_linear_env"].path.read_bytes() == b"l3_linear_env/best"


def test_index_names_what_to_run_when_absent_or_stale(tmp_path):
    absent = TrainedModelIndexDataset(
        filepath=str(tmp_path / "trained_models.json"), version=Version(None, None)
    )
    with pytest.raises(DatasetError, match="run the `avc_training` pipeline first"):
        absent.load()
    model = _saved_model(tmp_path, "l3_mel256_env", "best")
    absent.save({"l3_mel256_env": model})
    model.path.unlink()
    with pytest.raises(DatasetError, match=r"'l3_mel256_env'.*gone.*avc_training"):
        TrainedModelIndexDataset(
            filepath=str(tmp_path / "trained_models.json"), version=Version(None, None)
        ).load()
