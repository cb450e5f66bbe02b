"""Readers of dataset layouts: each lists a dataset's clips as a manifest.

``read_manifest(layout, **options)`` dispatches on the ``layout`` name used in
``parameters_ingest.yml``; each reader documents its options.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from l3_kedro.errors import ParameterError
from l3_kedro.layouts.base import MANIFEST_COLUMNS
from l3_kedro.layouts.dcase2013 import read_dcase2013
from l3_kedro.layouts.esc50 import read_esc50
from l3_kedro.layouts.fsdd import read_fsdd
from l3_kedro.layouts.generic import read_generic
from l3_kedro.layouts.urbansound8k import read_urbansound8k

LAYOUT_READERS: dict[str, Callable[..., pd.DataFrame]] = {
    "urbansound8k": read_urbansound8k,
    "esc50": read_esc50,
    "dcase2013": read_dcase2013,
    "fsdd": read_fsdd,
    "generic": read_generic,
}


def read_manifest(layout: str, **options: Any) -> pd.DataFrame:
    """List a dataset's clips with the reader registered for ``layout``."""
    if layout not in LAYOUT_READERS:
        raise ParameterError(
            f"Unknown dataset layout {layout!r}: choose one of {sorted(LAYOUT_READERS)}."
        )
    try:
        return LAYOUT_READERS[layout](**options)
    except TypeError as exc:
        raise ParameterError(f"Bad options {sorted(options)} for layout {layout!r}: {exc}") from exc


__all__ = ["LAYOUT_READERS", "MANIFEST_COLUMNS", "read_manifest"]
