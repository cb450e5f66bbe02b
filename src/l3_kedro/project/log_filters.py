"""Keep two library warnings that nobody running the project can act on off the console."""

from __future__ import annotations

import logging
import re

KNOWN_NOISE = re.compile(
    "|".join(
        (
            # kedro-mlflow 2.0 defines its pipeline model's `predict` without type
            # hints; MLflow 3 says so (ten lines, in colour) whenever kedro-mlflow is
            # imported, inside its own `simplefilter("once")`, which
            # `warnings.filterwarnings` cannot override.
            r"Add type hints to the `predict` method",
            # `collect_results` gathers `<dataset>.<embedding>.downstream_folds` across
            # the branch namespaces on purpose; Kedro warns about any dotted name
            # outside a namespace.
            r"One or more dataset names contain '\.' characters",
        )
    )
)
"""Captured warnings (logger ``py.warnings``) that are dropped."""


class DropKnownNoise(logging.Filter):
    """Drop records whose message matches :data:`KNOWN_NOISE`."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not KNOWN_NOISE.search(record.getMessage())


def quiet_known_noise() -> None:
    """Filter :data:`KNOWN_NOISE` out of ``py.warnings``, where Kedro's logging sends warnings.

    A logger filter, not a logging.yml entry: Kedro 1.x refuses ``()``
    factories and classes outside ``logging``/``kedro.logging`` there.
    Idempotent.
    """
    warnings_logger = logging.getLogger("py.warnings")
    if not any(isinstance(f, DropKnownNoise) for f in warnings_logger.filters):
        warnings_logger.addFilter(DropKnownNoise())
