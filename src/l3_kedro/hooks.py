"""Project hooks."""

from __future__ import annotations

import os
import time
from pathlib import Path

from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.pipeline.node import Node

from l3_kedro.project_config import set_active_env


class ActiveEnvHook:
    """Record the run's configuration so pipeline shapes follow ``--env`` and ``--params``."""

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        set_active_env(context.env, context.config_loader.conf_source, loader=context.config_loader)


NODE_TIMES_VARIABLE = "L3_KEDRO_NODE_TIMES"
"""Environment variable naming a CSV file: when set, every run writes its node timings there."""


class NodeTimingHook:
    """Wall time of every node, written as CSV when ``$L3_KEDRO_NODE_TIMES`` names a file.

    Off unless the variable is set (``benchmarks/default_run.py`` sets it).
    Columns: node, started (seconds since the epoch), seconds. The file is
    replaced atomically at the end of the run, so it never holds half a table.
    """

    def __init__(self) -> None:
        self._started: dict[str, float] = {}
        self._rows: list[tuple[str, float, float]] = []

    @hook_impl
    def before_node_run(self, node: Node) -> None:
        self._started[node.name] = time.time()

    @hook_impl
    def after_node_run(self, node: Node) -> None:
        started = self._started.pop(node.name, None)
        if started is not None:
            self._rows.append((node.name, started, time.time() - started))

    @hook_impl
    def after_pipeline_run(self) -> None:
        target = os.environ.get(NODE_TIMES_VARIABLE)
        if not target:
            return
        path = Path(target)
        partial = path.with_name(f".{path.name}.partial")
        lines = ["node,started,seconds"] + [f'"{n}",{s:.3f},{d:.3f}' for n, s, d in self._rows]
        partial.write_text("\n".join(lines) + "\n")
        os.replace(partial, path)
        self._rows.clear()
