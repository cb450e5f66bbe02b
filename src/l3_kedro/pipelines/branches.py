"""What every pipeline's ``create_pipeline`` shares: section parameters and its kedro-viz group.

Two rules keep ``kedro viz`` readable at first open (a handful of groups, not
a hundred boxes):

- each node reads its pipeline's whole parameters section (``params:embed``,
  not ``params:embed.models.soundnet``); :func:`from_section` picks the keys
  the node function takes. kedro-viz draws every parameter entry a group reads
  at the top level, so one entry per section keeps that row short;
- each pipeline's nodes sit in one top-level namespace (:func:`grouped`),
  nested above the per-dataset and per-variant branches, without renaming any
  dataset: the catalog stays as it is.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial, update_wrapper
from typing import Any

from kedro.pipeline import Node, Pipeline

from l3_kedro.errors import ParameterError

INGEST = "ingest"
AVC_TRAINING = "avc_training"
DOWNSTREAM = "downstream"
"""``embed`` and ``downstream_eval`` share one group: each ``<dataset>.<model>``
branch makes its store and evaluates it, so no store crosses between groups."""
REPORTING = "reporting"


def pick(section: dict[str, Any] | None, key: str, *, name: str) -> Any:
    """``section[k1][k2]...`` for the dotted ``key`` (``""``: the whole section).

    Raises
    ------
    ParameterError
        Naming ``<name>.<key>`` when a key is missing.
    """
    value: Any = section if section is not None else {}
    if not key:
        return value
    for part in key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise ParameterError(
                f"Parameter {name}.{key} is not set: add it under `{name}:` in "
                f"conf/base/parameters_{name}.yml (or your environment's copy)."
            )
        value = value[part]
    return value


def from_section(
    func: Callable[..., Any], section: str, *keys: str, **bound: Any
) -> Callable[..., Any]:
    """A node function: ``func``'s data inputs, then the whole ``params:<section>``.

    The returned function takes ``func``'s leading (data) arguments followed by
    the section's dict, and calls ``func(*data, *[section[key] for key in keys],
    **bound)``. ``keys`` are dotted paths inside the section (``""`` passes the
    whole section). kedro-viz and ``kedro run`` report ``func``'s name (and kedro-viz shows its code).
    """

    def node_function(*arguments: Any) -> Any:
        *data, values = arguments
        picked = [pick(values, key, name=section) for key in keys]
        return func(*data, *picked, **bound)

    # name, docstring and ``__wrapped__`` of ``func``: kedro-viz shows its code;
    # Kedro checks the inputs against this function's own signature
    return update_wrapper(node_function, func)


def parsed_section(func: Callable[..., Any], parse: Callable[[Any], Any]) -> Callable[..., Any]:
    """A node function: ``func``'s data inputs, then the whole ``params:<section>``,
    which ``parse`` turns into the config object ``func`` takes last.

    One parser per section (e.g. ``ReportingConfig.from_parameters``), so the
    node functions take a typed config and none of them parses it itself. The
    node's last argument is annotated as the plain section dict it receives:
    Kedro 1.x would otherwise see the config class in ``func``'s annotations
    and build it itself, with ``cls(**section)``, before ``parse`` runs.
    """

    def node_function(*arguments: Any) -> Any:
        *data, values = arguments
        return func(*data, parse(values))

    update_wrapper(node_function, func)
    last = list(inspect.signature(func).parameters)[-1]
    node_function.__annotations__ = {**func.__annotations__, last: "dict[str, Any]"}
    return node_function


def grouped(pipeline: Pipeline, group: str) -> Pipeline:
    """``pipeline`` with every node in the namespace ``group`` (dataset names unchanged)."""
    return Pipeline(pipeline, namespace=group, prefix_datasets_with_namespace=False)


def gather(
    func: Callable[..., Any],
    inputs: list[str],
    output: str,
    *,
    tags: list[str],
    **bound: Any,
) -> Node:
    """A node that reads one dataset of every branch (``inputs``, in order) into ``output``.

    ``bound`` keywords (e.g. which branch each input came from) are passed to
    ``func`` after the inputs; the node is named after ``func``.
    """
    function = update_wrapper(partial(func, **bound), func) if bound else func
    return Node(function, inputs=inputs, outputs=output, name=func.__name__, tags=tags)
