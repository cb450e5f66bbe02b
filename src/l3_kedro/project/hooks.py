"""Project hooks."""

from __future__ import annotations

import csv
import logging
import os
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.pipeline.node import Node

from l3_kedro.atomic_files import replace_atomically
from l3_kedro.cluster import close_clusters
from l3_kedro.project.config import set_active_env

logger = logging.getLogger(__name__)


class ActiveEnvHook:
    """Record the run's configuration so pipeline shapes follow ``--env`` and ``--params``."""

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        set_active_env(context.env, context.config_loader.conf_source, loader=context.config_loader)


class MlflowRunLabelsHook:
    """Name and tag the MLflow run that kedro-mlflow opens for each ``kedro run``.

    Runs after kedro-mlflow's own ``before_pipeline_run`` (``trylast``), when
    its run is active: renames it ``"<pipeline> · <env> · <start time>"``
    unless ``tracking.run.name`` is set in ``mlflow.yml``, adds the tags of
    :func:`l3_kedro.tracking.run_tags` (git commit, env, parameters digest,
    runner class) and tags the experiment so the MLflow UI opens its runs
    table. Does nothing when tracking is off for the pipeline.
    """

    @hook_impl(trylast=True)
    def before_pipeline_run(self, run_params: dict[str, Any], catalog: Any) -> None:
        import mlflow

        from l3_kedro.tracking import (
            EXPERIMENT_KIND,
            EXPERIMENT_KIND_TAG,
            pipeline_label,
            run_name,
            run_tags,
        )

        run = mlflow.active_run()
        if run is None:
            return
        client = mlflow.MlflowClient()
        experiment = client.get_experiment(run.info.experiment_id)
        if experiment.tags.get(EXPERIMENT_KIND_TAG) != EXPERIMENT_KIND:
            client.set_experiment_tag(
                experiment.experiment_id, EXPERIMENT_KIND_TAG, EXPERIMENT_KIND
            )
        parameters = catalog.load("parameters") if "parameters" in catalog else {}
        tags = run_tags(run_params, parameters)
        if run.info.run_name == pipeline_label(run_params):  # kedro-mlflow's default name
            started = datetime.fromtimestamp(run.info.start_time / 1000)
            tags["mlflow.runName"] = run_name(run_params, started)
        mlflow.set_tags(tags)
        logger.info("MLflow run %r (%s)", tags.get("mlflow.runName"), run.info.run_id)


NODE_TIMES_VARIABLE = "L3_KEDRO_NODE_TIMES"
"""Environment variable naming a CSV file: when set, every run writes its node timings there."""


class NodeTimingHook:
    """Wall time of every node, written as CSV when ``$L3_KEDRO_NODE_TIMES`` names a file.

    Off unless the variable is set (``benchmarks/default_run.py`` sets it).
    A node's time runs from its start to the start of the next node (or the
    end of the run): it includes saving its outputs, which Kedro does after
    ``after_node_run`` and which is where streamed datasets (embedding stores)
    do their work. Columns: node, started (seconds since the epoch), seconds.
    The file is replaced atomically at the end of the run.
    """

    def __init__(self) -> None:
        self._starts: list[tuple[str, float]] = []

    @hook_impl
    def before_node_run(self, node: Node) -> None:
        self._starts.append((node.name, time.time()))

    @hook_impl
    def after_pipeline_run(self) -> None:
        target, starts = os.environ.get(NODE_TIMES_VARIABLE), self._starts
        self._starts = []
        if not target:
            return
        ends = [t for _, t in starts[1:]] + [time.time()]

        def write(partial: Path) -> None:
            with partial.open("w", newline="") as stream:
                writer = csv.writer(stream)
                writer.writerow(["node", "started", "seconds"])
                for (name, began), end in zip(starts, ends, strict=True):
                    writer.writerow([name, f"{began:.3f}", f"{end - began:.3f}"])

        replace_atomically(Path(target), write)


class ClusterHook:
    """Closes the Dask clusters a run started (``engine: dask``), after it ends well or not."""

    @hook_impl
    def after_pipeline_run(self) -> None:
        close_clusters()

    @hook_impl
    def on_pipeline_error(self) -> None:
        close_clusters()
