"""Nodes of the ``ingest`` pipeline (downstream half): datasets -> clip tables."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from l3_kedro.errors import ParameterError
from l3_kedro.sources import read_manifest
from l3_kedro.sources.probe import IngestPolicy, probe_clips

logger = logging.getLogger(__name__)


def build_clip_table(
    source: dict[str, Any], policy: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """List, probe and validate one dataset's clips.

    Parameters
    ----------
    source : dict
        ``layout`` (a name of :data:`l3_kedro.sources.LAYOUT_READERS`) and that
        reader's options (``root``, ``folds``, ...), from ``parameters_ingest.yml``.
    policy : dict
        ``on_error`` and ``probe``, see :class:`IngestPolicy`.

    Returns
    -------
    clips : pandas.DataFrame
        The clip table, one row per usable clip.
    skips : pandas.DataFrame
        The skip report, one row per clip left out and why.
    """
    options = dict(source)
    layout = options.pop("layout", None)
    if layout is None:
        raise ParameterError(f"A dataset under 'ingest.datasets' lacks its 'layout': {source}")
    name = options.pop("name", layout)
    manifest = read_manifest(layout, **options)
    clips, skips = probe_clips(manifest, policy=IngestPolicy(**policy), dataset=name)
    logger.info(
        "%s: %d clips, %d classes, folds %s; %d skipped",
        name,
        len(clips),
        clips["label"].nunique(),
        ", ".join(str(f) for f in sorted(clips["fold"].unique())),
        len(skips),
    )
    return clips, skips
