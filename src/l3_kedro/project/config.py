"""Read the project's parameters while pipelines are being registered.

Kedro builds pipelines before it hands parameters to nodes, but the *shape*
of some pipelines comes from YAML: the datasets to ingest, the AVC variants
to train. This module reads those lists with the same ``OmegaConfigLoader``
and environment as the run: the environment (and conf folder) is recorded by
:class:`l3_kedro.project.hooks.ActiveEnvHook` when the Kedro context is created
(``kedro run --env paper``), else taken from ``KEDRO_ENV``, else ``local``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kedro.config import OmegaConfigLoader

from l3_kedro.errors import ParameterError

PROJECT_ROOT = Path(__file__).resolve().parents[3]
"""The repository root (this file lives in ``src/l3_kedro/project/``)."""

_active: dict[str, Any] = {"env": None, "conf_source": None, "loader": None}


def set_active_env(
    env: str | None, conf_source: str | Path | None = None, *, loader: Any = None
) -> None:
    """Record the Kedro environment, conf folder and config loader of the session.

    The session's loader also carries runtime parameters (``kedro run
    --params ...``), so they shape the pipelines too.
    """
    _active["env"] = env
    _active["conf_source"] = None if conf_source is None else Path(conf_source)
    _active["loader"] = loader


def active_env() -> str:
    """The environment whose configuration shapes the pipelines."""
    return _active["env"] or os.environ.get("KEDRO_ENV") or "local"


def load_parameters(*, env: str | None = None, conf_source: Path | None = None) -> dict[str, Any]:
    """All parameters of ``env`` (default :func:`active_env`), merged over ``base``.

    Inside a Kedro session (no arguments), the session's own loader answers,
    runtime parameters included.
    """
    if env is None and conf_source is None and _active["loader"] is not None:
        return _active["loader"]["parameters"]
    loader = OmegaConfigLoader(
        conf_source=str(conf_source or _active["conf_source"] or PROJECT_ROOT / "conf"),
        env=env or active_env(),
        base_env="base",
        default_run_env="local",
        merge_strategy={"parameters": "soft"},
    )
    return loader["parameters"]


def configured_names(key: str, *, parameters: dict[str, Any] | None = None) -> list[str]:
    """Names (mapping keys) configured under the dotted parameter ``key``.

    Entries whose value sets ``enabled: false`` are left out.
    """
    node: Any = load_parameters() if parameters is None else parameters
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            raise ParameterError(f"Parameter '{key}' is missing from the configuration.")
        node = node[part]
    if not isinstance(node, dict):
        raise ParameterError(f"Parameter '{key}' must be a mapping of names to settings.")
    return [name for name, value in node.items() if (value or {}).get("enabled", True)]


def selection(value: Any, *, available: list[str], parameter: str) -> list[str]:
    """Names chosen by a selection parameter, in ``available``'s order.

    ``None`` (or ``"all"``) keeps everything; a list, or a string of names
    joined by ``+`` or spaces (``--params key=soundnet+handcrafted``: Kedro
    splits ``--params`` on commas), keeps those. Unknown names are an error.
    """
    if value is None or value == "all":
        return list(available)
    names = value.replace("+", " ").split() if isinstance(value, str) else [str(v) for v in value]
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ParameterError(
            f"Parameter '{parameter}' names {unknown}, which are not configured; "
            f"choose among {available}."
        )
    return [n for n in available if n in names]
