"""kedro-mlflow's ``MlflowArtifactDataset`` that takes the catalog's save version.

``kedro_mlflow.io.artifacts.MlflowArtifactDataset`` (2.0) builds the wrapped
dataset itself; with ``versioned: true`` inside it, each wrapped dataset gets
its own timestamp, and Kedro 1.x refuses a catalog whose versioned datasets
disagree (``VersionAlreadyExistsError``). Here ``versioned: true`` goes on the
wrapper: the catalog hands it the run's version, passed on to the wrapped one.
"""

from __future__ import annotations

from typing import Any

from kedro.io.core import Version
from kedro_mlflow.io.artifacts import MlflowArtifactDataset


class VersionedMlflowArtifactDataset(MlflowArtifactDataset):
    """Save a versioned dataset and log the saved file as an artifact of the active run.

    Example catalog entry::

        report_html:
          type: l3_kedro.datasets.VersionedMlflowArtifactDataset
          versioned: true
          artifact_path: reporting
          dataset:
            type: text.TextDataset
            filepath: data/08_reporting/report.html
    """

    def __new__(
        cls,
        dataset: dict[str, Any],
        *,
        run_id: str | None = None,
        artifact_path: str | None = None,
        credentials: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
        version: Version | None = None,
    ):
        inner = {**dataset, "versioned": True} if version is not None else dict(dataset)
        wrapped = MlflowArtifactDataset(
            dataset=inner,
            run_id=run_id,
            artifact_path=artifact_path,
            credentials=credentials,
            metadata=metadata,
        )
        if version is not None:
            # kedro-mlflow's factory cannot pass a version through (Kedro drops a
            # "version" key from dataset configs), so set the catalog's afterwards.
            wrapped._version = version
        return wrapped
