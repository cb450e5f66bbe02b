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
def tracking(tmp_path, monkeypatch):
    """A private SQLite tracking store."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("test")
    yield mlflow.MlflowClient(uri)
    mlflow.set_tracking_uri(None)


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
