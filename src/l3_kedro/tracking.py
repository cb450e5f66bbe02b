"""MLflow runs per design-choice variant, nested under the Kedro run.

kedro-mlflow opens one MLflow run per ``kedro run`` and logs the parameters
of the pipelines. The paper's comparisons need one run per variant (an
embedding on a dataset, an AVC training variant, a significance test) so
that the MLflow UI can filter and compare them side by side; those nested
runs are made here, and only here, from plain :class:`VariantRun` records
that nodes return (nodes stay unaware of MLflow; the catalog dataset
:class:`~l3_kedro.datasets.MlflowVariantRunsDataset` calls this module).

kedro-mlflow names its run after the pipeline (``__default__`` for all of
them), stores the runner as an object repr and leaves the experiment without
a kind (MLflow 3 then opens it in its GenAI view): :func:`run_name`,
:func:`run_tags` and :data:`EXPERIMENT_KIND` give what
:class:`l3_kedro.project.hooks.MlflowRunLabelsHook` sets instead.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.entities import Metric

logger = logging.getLogger(__name__)

MAX_PARAM_LENGTH = 500


@dataclass
class VariantRun:
    """One nested MLflow run.

    Attributes
    ----------
    name : str
        Run name, e.g. ``"us8k / l3_mel256_music"``.
    params : dict
        Logged as parameters (values are stringified, long ones truncated).
    metrics : dict
        Final metrics, ``{name: value}``.
    metric_steps : dict
        Metric histories, ``{name: [(step, value), ...]}`` (e.g. per fold or epoch).
    tags : dict
        Run tags (e.g. ``{"l3_kedro.kind": "downstream"}``).
    figures : dict
        ``{file name: matplotlib Figure}``, logged as PNG artifacts.
    tables : dict
        ``{file name: DataFrame}``, logged as CSV artifacts.
    files : dict
        ``{artifact folder: file path}``, logged as they are (e.g. a model).
    key : str or None
        Set to the key of a :func:`live_run`: the record completes that run
        (metric histories it already holds are not logged again) instead of
        starting a new one.
    """

    name: str
    params: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    metric_steps: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    files: dict[str, str | Path] = field(default_factory=dict)
    key: str | None = None


def design_tags(**values: Any) -> dict[str, str]:
    """``{"l3_kedro.<key>": str(value)}`` for the values that are not None.

    The keys every nested run uses alike: ``variant``, ``input_repr``,
    ``subset``, ``dataset``, ``embedding``, ``embedding_kind`` (``l3``,
    ``handcrafted`` ...; ``l3_kedro.kind`` is the kind of run), so one filter
    (``tags.l3_kedro.input_repr = "mel256"``) finds AVC and downstream runs.
    """
    return {f"l3_kedro.{key}": str(value) for key, value in values.items() if value is not None}


def _param_value(value: Any) -> str:
    text = str(value)
    return text if len(text) <= MAX_PARAM_LENGTH else text[: MAX_PARAM_LENGTH - 3] + "..."


def log_variant_runs(runs: Iterable[VariantRun]) -> list[str]:
    """Log each record as a run nested under the active run; return the run ids.

    Without an active run (e.g. tracking disabled), each record becomes a
    top-level run of the current experiment.
    """
    import matplotlib.pyplot as plt

    parent = mlflow.active_run()
    ids = []
    for record in runs:
        waiting = _awaiting_run(record.key) if record.key else None
        logged = set(waiting.data.metrics) if waiting else set()
        start = {"run_id": waiting.info.run_id} if waiting else {"run_name": record.name}
        with mlflow.start_run(**start, nested=parent is not None) as run:
            mlflow.log_params({k: _param_value(v) for k, v in record.params.items()})
            if record.metrics:
                mlflow.log_metrics({k: float(v) for k, v in record.metrics.items()})
            for key, steps in record.metric_steps.items():
                if key in logged:  # logged live, epoch by epoch
                    continue
                for step, value in steps:
                    mlflow.log_metric(key, float(value), step=int(step))
            source = record.tags.get("l3_kedro.source_run_key")
            lineage = lineage_tags(source) if source else {}
            if record.tags.get("l3_kedro.selection") == "checkpoint":
                lineage.pop("l3_kedro.source_model", None)  # registered: the best model only
            completed = {AWAITING_TAG: "false"} if record.key else {}
            mlflow.set_tags({**record.tags, **lineage, **completed})
            with tempfile.TemporaryDirectory() as tmp:
                for file_name, figure in record.figures.items():
                    path = Path(tmp) / file_name
                    figure.savefig(path, dpi=120, bbox_inches="tight")
                    plt.close(figure)
                    mlflow.log_artifact(str(path))
                for file_name, table in record.tables.items():
                    path = Path(tmp) / file_name
                    table.to_csv(path, index=False)
                    mlflow.log_artifact(str(path))
            for folder, file_path in record.files.items():
                mlflow.log_artifact(str(file_path), artifact_path=folder)
            ids.append(run.info.run_id)
            logger.info("Logged MLflow run %r (%s)", record.name, run.info.run_id)
    return ids


RUN_KEY_TAG = "l3_kedro.run_key"
"""Tag naming the work a :func:`live_run` tracks (e.g. a variant's training fingerprint)."""
AWAITING_TAG = "l3_kedro.awaiting_summary"
"""``"true"`` on a live run until the :class:`VariantRun` with its key has completed it."""


def _awaiting_run(key: str) -> Any:
    """The newest run of the active run's experiment with ``key`` awaiting its summary, or None."""
    active = mlflow.active_run()
    if active is None:
        return None
    experiment_id = active.info.experiment_id
    found = mlflow.MlflowClient().search_runs(
        [experiment_id],
        filter_string=f"tags.`{RUN_KEY_TAG}` = '{key}' and tags.`{AWAITING_TAG}` = 'true'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return found[0] if found else None


@dataclass
class LiveRun:
    """Handle on a :func:`live_run`; with ``run_id`` None (tracking off) it does nothing."""

    run_id: str | None
    key: str

    def log(self, metrics: dict[str, float], step: int) -> None:
        """Log ``metrics`` at ``step`` now."""
        if self.run_id is None:
            return
        stamp = int(time.time() * 1000)
        mlflow.MlflowClient().log_batch(
            self.run_id, metrics=[Metric(k, float(v), stamp, int(step)) for k, v in metrics.items()]
        )

    def log_file(self, path: Path, artifact_path: str) -> None:
        """Log the file ``path`` now, as an artifact under ``artifact_path``."""
        if self.run_id is None:
            return
        mlflow.MlflowClient().log_artifact(self.run_id, str(path), artifact_path)

    def register_keras_model(
        self, build: Callable[[], Any], *, name: str, example: Any
    ) -> str | None:
        """Log ``build()`` as an MLflow Keras model of this run and register it as ``name``.

        Once per key: when a version of ``name`` tagged with this run's key
        exists (training reused by a later ``kedro run``), nothing is built
        or logged. The signature comes from ``example`` (an input batch) and
        the model's output for it. Returns the version, or None.
        """
        if self.run_id is None:
            return None
        client = mlflow.MlflowClient()
        found = registered_version(self.key, name=name)
        if found is not None:
            return str(found.version)
        from mlflow import keras as mlflow_keras
        from mlflow.models import infer_signature

        model = build()
        signature = infer_signature(example, model.predict(example, verbose=0))
        with mlflow.start_run(run_id=self.run_id, nested=True):
            info = mlflow_keras.log_model(
                model,
                name="embedding_model",
                signature=signature,
                registered_model_name=name,
                pip_requirements=_keras_requirements(),
            )
        version = str(info.registered_model_version)
        client.set_model_version_tag(name, version, RUN_KEY_TAG, self.key)
        client.update_run(self.run_id, status="RUNNING")  # start_run's exit finished it
        logger.info("Registered MLflow model %s version %s", name, version)
        return version


def _keras_requirements() -> list[str]:
    """Pinned requirements of a logged Keras model (MLflow would infer them slowly)."""
    from importlib.metadata import version

    return [f"{package}=={version(package)}" for package in ("keras", "tensorflow")]


def registered_version(key: str, *, name: str | None = None) -> Any:
    """The newest registered model version tagged with run key ``key``, or None."""
    query = f"tags.`{RUN_KEY_TAG}` = '{key}'"
    if name is not None:
        query = f"name = '{name}' and {query}"
    versions = mlflow.MlflowClient().search_model_versions(query)
    return max(versions, key=lambda v: int(v.version)) if versions else None


def lineage_tags(key: str) -> dict[str, str]:
    """Tags of a run that evaluated what the run with ``key`` made: its run id and model.

    ``l3_kedro.source_run_id`` (the run tagged ``key``) and
    ``l3_kedro.source_model`` (``"<registered name>/<version>"``), each when found.
    """
    active = mlflow.active_run()
    if active is None:
        return {}
    tags = {}
    runs = mlflow.MlflowClient().search_runs(
        [active.info.experiment_id],
        filter_string=f"tags.`{RUN_KEY_TAG}` = '{key}'",
        order_by=["attributes.start_time ASC"],
        max_results=1,
    )
    if runs:
        tags["l3_kedro.source_run_id"] = runs[0].info.run_id
    version = registered_version(key)
    if version is not None:
        tags["l3_kedro.source_model"] = f"{version.name}/{version.version}"
        tags["l3_kedro.source_run_id"] = version.run_id
    return tags


@contextmanager
def live_run(name: str, *, key: str, tags: dict[str, str] | None = None) -> Iterator[LiveRun]:
    """A nested MLflow run that shows long work while it runs; yields a :class:`LiveRun`.

    Under the active (kedro-mlflow) run, opens the run ``name`` tagged
    ``key`` (:data:`RUN_KEY_TAG`), or reopens the unfinished one with the
    same key (a killed variant, resumed by a later ``kedro run``). The run is
    marked awaiting its summary until a :class:`VariantRun` with the same
    ``key`` completes it (:func:`log_variant_runs`). Uses the client API, so
    the active run stays the active run. Without an active run (tracking
    off), the handle does nothing.
    """
    parent = mlflow.active_run()
    if parent is None:
        yield LiveRun(run_id=None, key=key)
        return
    client = mlflow.MlflowClient()
    waiting = _awaiting_run(key)
    if waiting is None:
        run_id = client.create_run(
            parent.info.experiment_id,
            run_name=name,
            tags={
                "mlflow.parentRunId": parent.info.run_id,
                RUN_KEY_TAG: key,
                AWAITING_TAG: "true",
                **(tags or {}),
            },
        ).info.run_id
    else:
        run_id = waiting.info.run_id
        client.update_run(run_id, status="RUNNING")
        logger.info("Continuing MLflow run %r (%s)", name, run_id)
    try:
        yield LiveRun(run_id=run_id, key=key)
    except BaseException:
        client.set_terminated(run_id, status="FAILED")
        raise
    client.set_terminated(run_id, status="FINISHED")


EXPERIMENT_KIND_TAG = "mlflow.experimentKind"
EXPERIMENT_KIND = "custom_model_development"
"""The experiment kind for which the MLflow UI opens the runs table."""


def pipeline_label(run_params: dict[str, Any]) -> str:
    """``"ingest+embed"``; ``"__default__"`` when no pipeline was named."""
    names = run_params.get("pipeline_names") or run_params.get("pipeline_name") or "__default__"
    return names if isinstance(names, str) else "+".join(names)


def run_name(run_params: dict[str, Any], started: datetime) -> str:
    """``"all pipelines · local · 2026-12-06 21:30"`` for a plain ``kedro run``."""
    label = pipeline_label(run_params)
    label = "all pipelines" if label == "__default__" else label
    return f"{label} · {run_params.get('env') or 'local'} · {started:%Y-%m-%d %H:%M}"


def runner_name(value: Any) -> str:
    """``"SequentialRunner"`` from a runner, its class or Kedro's repr of it."""
    if isinstance(value, str):
        found = re.search(r"<(?:[\w.]+\.)?(\w+) object at", value)
        return found.group(1) if found else value
    return getattr(value, "__name__", type(value).__name__)


def parameters_digest(parameters: dict[str, Any]) -> str:
    """First 12 hex digits of the SHA-256 of the parameters as sorted JSON."""
    text = json.dumps(parameters, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def git_commit(project_path: str | Path) -> tuple[str, bool] | None:
    """(commit sha, uncommitted changes?) of the project's git checkout, or None."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=project_path,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=project_path,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None
    return sha, bool(status)


def run_tags(run_params: dict[str, Any], parameters: dict[str, Any]) -> dict[str, str]:
    """Tags of the parent run: environment, runner, parameters digest, git commit."""
    tags = {
        "l3_kedro.env": str(run_params.get("env") or "local"),
        "l3_kedro.pipeline": pipeline_label(run_params),
        "l3_kedro.params_digest": parameters_digest(parameters),
        "runner": runner_name(run_params.get("runner", "")),
    }
    commit = git_commit(run_params.get("project_path") or ".")
    if commit is not None:
        tags["mlflow.source.git.commit"], dirty = commit
        tags["l3_kedro.git_dirty"] = str(dirty).lower()
    return tags
