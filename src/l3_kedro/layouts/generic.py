"""A user's own dataset: a CSV manifest, or one folder per class.

- ``manifest``: a CSV with columns ``path,label[,fold][,source_id]``;
  relative paths are relative to the CSV's folder. ``source_id`` names the
  recording a clip was cut from (clips of one source are never split
  between folds or between training and validation); without it every clip
  is its own source. Without a ``fold`` column, folds are assigned by the
  rule below.
- ``root`` (no manifest): ``<root>/<label>/<file>`` for every audio file.

Fold rule when none is given: the clips are dealt into ``n_folds`` folds
(1..n_folds), each source whole, every class spread evenly
(:func:`~l3_kedro.layouts.folds.assign_grouped_bins`, seeded by ``seed``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from l3_kedro.errors import DatasetLayoutError, ParameterError
from l3_kedro.layouts.base import (
    AUDIO_SUFFIXES,
    finish_manifest,
    read_metadata_csv,
    require_dir,
    select_folds,
)
from l3_kedro.layouts.folds import assign_grouped_bins

VIDEO_SUFFIXES = (".mp4", ".webm", ".mkv", ".mov", ".avi")


def _deal_folds(rows: pd.DataFrame, n_folds: int, seed: int) -> pd.Series:
    ordered = rows.sort_values(["label", "path"], kind="stable")
    paths = ordered["path"].astype(str)
    groups = ordered["source_id"].fillna(paths) if "source_id" in ordered else paths
    bins = assign_grouped_bins(
        ordered["label"].to_numpy(),
        groups.to_numpy(),
        shares=[1 / n_folds] * n_folds,
        seed=seed,
    )
    return pd.Series(bins + 1, index=ordered.index).reindex(rows.index)


def _clip_ids(paths: pd.Series, base: Path) -> list[str]:
    ids = []
    for p in paths:
        try:
            ids.append(str(Path(p).relative_to(base).with_suffix("")))
        except ValueError:
            ids.append(str(Path(p).with_suffix("")))
    return ids


def read_generic(
    *,
    manifest: str | Path | None = None,
    root: str | Path | None = None,
    n_folds: int = 5,
    folds: list[int] | None = None,
    seed: int = 0,
) -> pd.DataFrame:
    """List the clips of a user's dataset (see the module docstring)."""
    if (manifest is None) == (root is None):
        raise ParameterError("A generic dataset needs exactly one of 'manifest' or 'root'.")
    if n_folds < 1:
        raise ParameterError(f"Parameter 'n_folds' must be at least 1, not {n_folds}.")
    if manifest is not None:
        manifest = Path(manifest)
        table = read_metadata_csv(manifest, required=("path", "label"))
        base = manifest.parent
        rows = pd.DataFrame(
            {
                "path": [
                    p if Path(p).is_absolute() else base / p for p in table["path"].astype(str)
                ],
                "label": table["label"].astype(str),
            }
        )
        if "fold" in table:
            rows["fold"] = table["fold"]
        if "source_id" in table:
            rows["source_id"] = table["source_id"]
    else:
        base = require_dir(root, what="Dataset root", parameter="root")
        suffixes = AUDIO_SUFFIXES + VIDEO_SUFFIXES
        files = sorted(p for p in base.glob("*/*") if p.is_file() and p.suffix.lower() in suffixes)
        if not files:
            raise DatasetLayoutError(
                f"No audio files found in class folders under '{base}' "
                f"(expected <root>/<label>/<file> with a suffix in {suffixes})."
            )
        rows = pd.DataFrame({"path": files, "label": [p.parent.name for p in files]})
    if "fold" not in rows:
        rows["fold"] = _deal_folds(rows, n_folds, seed)
    rows["clip_id"] = _clip_ids(rows["path"], base)
    return select_folds(finish_manifest(rows, dataset="generic"), folds, parameter="folds")
