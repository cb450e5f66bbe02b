"""Keep every library of the stack offline: no telemetry.

Imported by the package itself (``l3_kedro/__init__.py``), so ``kedro run``,
``python -m l3_kedro``, the ``l3-kedro`` command, the Python API and the
notebooks are offline however they are started, not only under ``make``.

Each switch is the library's own documented opt-out:

- MLflow 3: ``MLFLOW_DISABLE_TELEMETRY=true`` or ``DO_NOT_TRACK=true``
  (MLflow reads ``true``; ``1`` does not count);
- Kedro (kedro-telemetry): ``KEDRO_DISABLE_TELEMETRY`` / ``DO_NOT_TRACK``,
  and the project's ``.telemetry`` file (``consent: false``).
"""

from __future__ import annotations

import os
import sys

OFFLINE_ENVIRONMENT = {
    "DO_NOT_TRACK": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "KEDRO_DISABLE_TELEMETRY": "true",
}
"""Environment variables set (overriding any other value) when the package loads."""


def go_offline() -> None:
    """Set :data:`OFFLINE_ENVIRONMENT` and drop a telemetry client already made.

    MLflow builds its telemetry client when ``mlflow`` is first imported (Kedro
    may import it, through the kedro-mlflow plugin, before this package); the
    client only reaches the network once a record is sent, so re-checking the
    switches here, before any MLflow call, keeps it from ever doing so.
    """
    os.environ.update(OFFLINE_ENVIRONMENT)
    if "mlflow.telemetry.client" in sys.modules:
        sys.modules["mlflow.telemetry.client"].set_telemetry_client()
