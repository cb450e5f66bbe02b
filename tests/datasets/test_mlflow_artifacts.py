"""Versioned files logged as MLflow artifacts, with the catalog's save version."""

from __future__ import annotations

import mlflow
from kedro.io.core import Version

from l3_kedro.datasets import VersionedMlflowArtifactDataset


def test_saves_under_the_catalog_version_and_logs_the_file(tmp_path, mlflow_store):
    uri = mlflow_store
    version = "2026-01-02T03.04.05.678Z"
    dataset = VersionedMlflowArtifactDataset(
        dataset={"type": "text.TextDataset", "filepath": str(tmp_path / "report.md")},
        artifact_path="reporting",
        version=Version(None, version),
    )
    with mlflow.start_run() as run:
        dataset.save("# report\n")
    saved = tmp_path / "report.md" / version / "report.md"
    assert saved.read_text() == "# report\n"
    artifacts = mlflow.MlflowClient(uri).list_artifacts(run.info.run_id, "reporting")
    assert [a.path for a in artifacts] == ["reporting/report.md"]
