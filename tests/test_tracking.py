"""Nested MLflow runs per variant, through the catalog dataset."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import mlflow
import pandas as pd
import pytest

from l3_kedro.datasets import MlflowVariantRunsDataset
from l3_kedro.tracking import VariantRun


@pytest.fixture
def tracking(mlflow_store):
    """A client of a private SQLite tracking store."""
    return mlflow.MlflowClient(mlflow_store)


def test_each_record_is_a_nested_run_with_params_metrics_and_artifacts(tracking):
    figure, ax = plt.subplots()
    ax.plot([0, 1])
    record = VariantRun(
        name="us8k / l3",
        params={"input_repr": "mel256", "long": "x" * 900},
        metrics={"clip_accuracy_mean": 0.75},
        metric_steps={"clip_accuracy_by_fold": [(1, 0.7), (2, 0.8)]},
        tags={"dataset": "us8k"},
        figures={"confusion_matrix.png": figure},
        tables={"folds.csv": pd.DataFrame({"fold": [1, 2]})},
    )
    with mlflow.start_run() as parent:
        MlflowVariantRunsDataset().save([record])
    runs = tracking.search_runs(
        [parent.info.experiment_id],
        filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'",
    )
    assert len(runs) == 1
    run = runs[0]
    assert run.info.run_name == "us8k / l3"
    assert run.data.params["input_repr"] == "mel256"
    assert len(run.data.params["long"]) == 500
    assert run.data.metrics["clip_accuracy_mean"] == 0.75
    history = tracking.get_metric_history(run.info.run_id, "clip_accuracy_by_fold")
    assert [(m.step, m.value) for m in history] == [(1, 0.7), (2, 0.8)]
    assert run.data.tags["dataset"] == "us8k"
    artifacts = {a.path for a in tracking.list_artifacts(run.info.run_id)}
    assert artifacts == {"confusion_matrix.png", "folds.csv"}


def test_the_dataset_is_save_only(tracking):
    with pytest.raises(Exception, match="save-only"):
        MlflowVariantRunsDataset().load()


def test_run_labels_name_the_pipeline_env_and_start():
    from datetime import datetime

    from l3_kedro.tracking import parameters_digest, run_name, run_tags, runner_name

    started = datetime(2026, 12, 6, 21, 30, 5)
    assert run_name({"env": "paper", "pipeline_names": None}, started) == (
        "all pipelines · paper · 2026-12-06 21:30"
    )
    assert run_name({"env": None, "pipeline_names": ["embed", "downstream_eval"]}, started) == (
        "embed+downstream_eval · local · 2026-12-06 21:30"
    )
    repr_ = "<kedro.runner.sequential_runner.SequentialRunner object at 0x7f3b2c1d9e50>"
    assert runner_name(repr_) == "SequentialRunner"
    assert runner_name("ParallelRunner") == "ParallelRunner"
    assert parameters_digest({"a": 1, "b": [2]}) == parameters_digest({"b": [2], "a": 1})
    assert parameters_digest({"a": 1}) != parameters_digest({"a": 2})
    tags = run_tags({"env": "local", "runner": repr_, "project_path": "/"}, {"a": 1})
    assert tags["runner"] == "SequentialRunner" and "mlflow.source.git.commit" not in tags


def test_run_tags_carry_the_git_commit_of_the_project(tmp_path):
    import subprocess

    from l3_kedro.tracking import run_tags

    def git(*args):
        return subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
            cwd=tmp_path,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    git("init", "-q")
    (tmp_path / "f.txt").write_text("a")
    git("add", "f.txt")
    git("commit", "-q", "-m", "one")
    tags = run_tags({"project_path": str(tmp_path)}, {})
    assert tags["mlflow.source.git.commit"] == git("rev-parse", "HEAD")
    assert tags["l3_kedro.git_dirty"] == "false"
    (tmp_path / "f.txt").write_text("b")
    assert run_tags({"project_path": str(tmp_path)}, {})["l3_kedro.git_dirty"] == "true"


def test_a_live_run_shows_epochs_as_they_end_and_its_summary_completes_it(tracking):
    from l3_kedro.tracking import live_run, log_variant_runs

    with mlflow.start_run() as parent:
        with live_run("avc / v", key="avc_training/v/abc", tags={"l3_kedro.kind": "avc"}) as live:
            live.log({"val_accuracy": 0.6}, step=512)
            (shown,) = tracking.search_runs(
                [parent.info.experiment_id], "tags.`l3_kedro.run_key` = 'avc_training/v/abc'"
            )
            assert shown.info.status == "RUNNING"  # visible while it trains
            assert shown.data.tags["mlflow.parentRunId"] == parent.info.run_id
            assert mlflow.active_run().info.run_id == parent.info.run_id
            live.log({"val_accuracy": 0.7}, step=1024)
        summary = VariantRun(
            name="avc / v",
            metrics={"best_val_accuracy": 0.7},
            metric_steps={"val_accuracy": [(512, 0.6), (1024, 0.7)], "lr": [(512, 1e-3)]},
            key="avc_training/v/abc",
        )
        (run_id,) = log_variant_runs([summary])
    assert run_id == shown.info.run_id == live.run_id  # completed, not a second run
    run = tracking.get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.tags["l3_kedro.awaiting_summary"] == "false"
    steps = [(m.step, m.value) for m in tracking.get_metric_history(run_id, "val_accuracy")]
    assert sorted(steps) == [(512, 0.6), (1024, 0.7)]  # logged once, live
    assert len(tracking.get_metric_history(run_id, "lr")) == 1
    assert run.data.metrics["best_val_accuracy"] == 0.7


def test_a_killed_live_run_is_continued_by_the_next_kedro_run(tracking):
    from l3_kedro.tracking import live_run

    with (
        mlflow.start_run(),
        pytest.raises(KeyboardInterrupt),
        live_run("avc / v", key="k1") as live,
    ):
        live.log({"loss": 0.9}, step=512)
        raise KeyboardInterrupt  # the run dies mid-training
    with mlflow.start_run() as second:
        with live_run("avc / v", key="k1") as live:
            live.log({"loss": 0.8}, step=1024)
        runs = tracking.search_runs([second.info.experiment_id], "tags.`l3_kedro.run_key` = 'k1'")
    assert len(runs) == 1
    history = tracking.get_metric_history(runs[0].info.run_id, "loss")
    assert sorted((m.step, m.value) for m in history) == [(512, 0.9), (1024, 0.8)]
    assert tracking.get_run(runs[0].info.run_id).info.status == "FINISHED"


def test_without_tracking_a_live_run_logs_nothing(tracking):
    from l3_kedro.tracking import live_run

    with live_run("avc / v", key="k2") as live:
        live.log({"loss": 1.0}, step=1)
        assert live.register_keras_model(lambda: None, name="v", example=None) is None
    assert tracking.search_runs([mlflow.get_experiment_by_name("test").experiment_id]) == []


def test_the_trained_model_is_registered_once_and_evaluations_point_back_to_it(tracking):
    import keras
    import numpy as np

    from l3_kedro.tracking import live_run, log_variant_runs

    def build():
        inputs = keras.Input((16,))
        return keras.Model(inputs, keras.layers.Dense(3, name="embedding")(inputs))

    example = np.ones((2, 16), np.float32)
    with mlflow.start_run():
        with live_run("avc / v", key="avc_training/v/abc") as live:
            version = live.register_keras_model(build, name="l3_v", example=example)
            assert live.register_keras_model(build, name="l3_v", example=example) == version
        evaluation = VariantRun(name="us8k / v", tags={"l3_kedro.source_run_key": live.key})
        checkpoint = VariantRun(
            name="us8k / v_s512",
            tags={"l3_kedro.source_run_key": live.key, "l3_kedro.selection": "checkpoint"},
        )
        evaluation_id, checkpoint_id = log_variant_runs([evaluation, checkpoint])
    assert version == "1"  # the second call found it: one version per training
    (registered,) = tracking.search_model_versions("name = 'l3_v'")
    assert registered.run_id == live.run_id
    model = mlflow.keras.load_model("models:/l3_v/1")
    assert model.predict(example, verbose=0).shape == (2, 3)
    signature = mlflow.models.get_model_info("models:/l3_v/1").signature
    assert list(signature.inputs.to_dict()[0]["tensor-spec"]["shape"]) == [-1, 16]
    tags = tracking.get_run(evaluation_id).data.tags
    assert tags["l3_kedro.source_run_id"] == live.run_id
    assert tags["l3_kedro.source_model"] == "l3_v/1"
    checkpoint_tags = tracking.get_run(checkpoint_id).data.tags
    assert checkpoint_tags["l3_kedro.source_run_id"] == live.run_id
    assert (
        "l3_kedro.source_model" not in checkpoint_tags
    )  # a checkpoint is not the registered model
    assert tracking.get_run(live.run_id).info.status == "FINISHED"
