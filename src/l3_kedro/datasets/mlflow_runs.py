"""A catalog dataset that logs :class:`~l3_kedro.tracking.VariantRun` records to MLflow."""

from __future__ import annotations

from typing import Any

from kedro.io import AbstractDataset, DatasetError

from l3_kedro.tracking import VariantRun, log_variant_runs


class MlflowVariantRunsDataset(AbstractDataset[list[VariantRun], list[str]]):
    """Save-only: each saved record becomes an MLflow run nested under the Kedro run.

    Example catalog entry::

        "{dataset}.{model}.mlflow_runs":
          type: l3_kedro.datasets.MlflowVariantRunsDataset

    ``load`` returns the ids of the runs saved in this session (for a node
    that indexes them); the dataset is ephemeral, so a resumed run
    (``kedro run --from-nodes``) starts from the node that logs them.
    """

    _EPHEMERAL = True

    def __init__(self, *, metadata: dict[str, Any] | None = None) -> None:
        self.metadata = metadata
        self._run_ids: list[str] = []

    def save(self, data: list[VariantRun] | VariantRun) -> None:
        records = [data] if isinstance(data, VariantRun) else list(data)
        self._run_ids = log_variant_runs(records)

    def load(self) -> list[str]:
        if not self._run_ids:
            raise DatasetError("MlflowVariantRunsDataset is save-only: find its runs in MLflow.")
        return list(self._run_ids)

    def _describe(self) -> dict[str, Any]:
        return {"logged_runs": len(self._run_ids)}
