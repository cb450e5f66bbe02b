"""Probe every clip of a manifest: read its header, optionally decode it.

Turns a manifest (see :mod:`l3_kedro.layouts.base`) into the validated clip
table, applying the ingest error policy to clips that cannot be used.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import pandas as pd
from rich.progress import track

from l3_kedro.audio import audio_info, load_audio
from l3_kedro.errors import AudioError, ParameterError

logger = logging.getLogger(__name__)

CLIP_TABLE_COLUMNS = (
    "clip_id",
    "path",
    "label",
    "label_index",
    "fold",
    "source_id",
    "duration_s",
    "sample_rate",
    "channels",
)
"""Columns of a clip table, one row per usable clip (durations in seconds, rates in Hz;
``source_id`` the recording the clip was cut from, see
:data:`l3_kedro.layouts.base.MANIFEST_COLUMNS`)."""

SKIP_REPORT_COLUMNS = ("clip_id", "path", "label", "fold", "reason")
"""Columns of a skip report, one row per clip left out and why."""

ON_ERROR_CHOICES = ("error", "skip")
PROBE_CHOICES = ("decode", "header")


@dataclass(frozen=True)
class IngestPolicy:
    """What ingest does with a clip it cannot use.

    Attributes
    ----------
    on_error : {"error", "skip"}
        ``"error"`` stops at the first bad clip; ``"skip"`` leaves it out and
        records why in the skip report.
    probe : {"decode", "header"}
        ``"decode"`` decodes every clip, catching truncated data, zero-length
        audio and NaN/Inf samples; ``"header"`` only reads headers (faster).
    """

    on_error: Literal["error", "skip"] = "skip"
    probe: Literal["decode", "header"] = "decode"

    def __post_init__(self) -> None:
        if self.on_error not in ON_ERROR_CHOICES:
            raise ParameterError(
                f"Parameter 'ingest.policy.on_error' must be one of {ON_ERROR_CHOICES}, "
                f"not {self.on_error!r}."
            )
        if self.probe not in PROBE_CHOICES:
            raise ParameterError(
                f"Parameter 'ingest.policy.probe' must be one of {PROBE_CHOICES}, "
                f"not {self.probe!r}."
            )


def _probe_one(path: str, *, decode: bool) -> dict[str, float | int]:
    """Header facts of one clip; decoding it too when ``decode`` (raises AudioError)."""
    info = audio_info(path)
    duration_s = info.duration_s
    if decode:
        audio, sr = load_audio(path, mono=True)
        duration_s = len(audio) / sr
    if not duration_s > 0:
        raise AudioError(f"'{path}' holds no audio (duration {duration_s} s).")
    return {"duration_s": duration_s, "sample_rate": info.sample_rate, "channels": info.channels}


def probe_clips(
    manifest: pd.DataFrame, *, policy: IngestPolicy, dataset: str = "dataset"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Validate every clip of ``manifest``.

    Parameters
    ----------
    manifest : pandas.DataFrame
        Columns ``clip_id, path, label, fold`` and optionally ``label_index``.
    policy : IngestPolicy
        Error policy and probe depth.
    dataset : str
        Name shown in the progress bar and log messages.

    Returns
    -------
    clips : pandas.DataFrame
        Usable clips, columns :data:`CLIP_TABLE_COLUMNS`.
    skips : pandas.DataFrame
        Clips left out, columns :data:`SKIP_REPORT_COLUMNS`.

    Raises
    ------
    AudioError
        With ``on_error="error"``, for the first unusable clip (naming its file).
    """
    facts, skipped = [], []
    rows = manifest.to_dict("records")
    for row in track(rows, description=f"Probing {dataset} clips", total=len(rows)):
        try:
            facts.append({**row, **_probe_one(row["path"], decode=policy.probe == "decode")})
        except AudioError as exc:
            if policy.on_error == "error":
                raise
            logger.warning("Skipping clip %s of %s: %s", row["clip_id"], dataset, exc)
            skipped.append({**row, "reason": str(exc)})
    clips = pd.DataFrame(
        facts, columns=[*manifest.columns, "duration_s", "sample_rate", "channels"]
    )
    if "source_id" not in clips:  # a manifest made without sources: every clip is its own
        clips["source_id"] = clips["clip_id"].astype(str)
    if "label_index" not in clips:
        labels = sorted(manifest["label"].unique())
        clips["label_index"] = clips["label"].map({lab: i for i, lab in enumerate(labels)})
    clips = clips.astype({"label_index": int, "fold": int, "sample_rate": int, "channels": int})
    skips = pd.DataFrame(skipped, columns=[*manifest.columns, "reason"])
    return clips.loc[:, list(CLIP_TABLE_COLUMNS)], skips.loc[:, list(SKIP_REPORT_COLUMNS)]
