"""The manifest contract every dataset layout reader fulfils.

A *manifest* is the unvalidated list of a dataset's clips, read from its
metadata and directory layout without decoding audio: one row per clip with
the columns of :data:`MANIFEST_COLUMNS`. Ingest then probes every listed file
and turns the manifest into the validated clip table.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from l3_kedro.errors import DatasetLayoutError, ParameterError

MANIFEST_COLUMNS = ("clip_id", "path", "label", "fold", "source_id")
"""Columns of a manifest: unique clip id, absolute path, class label, integer
fold, and the source recording the clip was cut from.

``source_id`` groups near-duplicates that no split may separate: UrbanSound8K
``fsID``, ESC-50 ``src_file``, the FSDD speaker; a reader that knows no
source leaves it out and every clip is its own source. A reader may add
``label_index`` where the dataset defines official class ids (UrbanSound8K
``classID``, ESC-50 ``target``); otherwise ingest numbers the sorted labels
from 0."""

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".m4a", ".aiff", ".aif")
"""File suffixes tried, in order, when a listed file name does not exist as written."""


def require_dir(path: str | Path, *, what: str, parameter: str) -> Path:
    """Return ``path`` as a Path if it is a directory, else raise a clear error."""
    path = Path(path)
    if not path.is_dir():
        raise DatasetLayoutError(
            f"{what} not found: '{path}' is not a directory. "
            f"Set the parameter '{parameter}' to where the dataset lies."
        )
    return path


def read_metadata_csv(path: Path, *, required: tuple[str, ...], **read_csv_kwargs) -> pd.DataFrame:
    """Read a metadata CSV and check it has the ``required`` columns.

    Raises
    ------
    DatasetLayoutError
        If the file is missing, unreadable, or lacks a required column.
    """
    if not path.is_file():
        raise DatasetLayoutError(f"Metadata file '{path}' is missing: is the dataset root right?")
    try:
        table = pd.read_csv(path, **read_csv_kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DatasetLayoutError(f"Metadata file '{path}' cannot be parsed as CSV: {exc}") from exc
    table.columns = [str(c).strip() for c in table.columns]
    missing = [c for c in required if c not in table.columns]
    if missing:
        raise DatasetLayoutError(
            f"Metadata file '{path}' lacks the column(s) {missing}; "
            f"expected at least {list(required)}, found {list(table.columns)}."
        )
    return table


def resolve_audio_path(directory: Path, name: str) -> Path:
    """Resolve a listed file name to the file actually present.

    Official metadata may list ``x.wav`` where a re-encoded copy holds
    ``x.flac``: if ``directory / name`` does not exist, every suffix of
    :data:`AUDIO_SUFFIXES` is tried on the same stem. The returned path may
    still not exist; ingest reports that clip as missing.
    """
    listed = directory / name
    if listed.exists():
        return listed
    for suffix in AUDIO_SUFFIXES:
        candidate = listed.with_suffix(suffix)
        if candidate.exists():
            return candidate
    return listed


def finish_manifest(rows: pd.DataFrame, *, dataset: str) -> pd.DataFrame:
    """Order, type and check a manifest built by a layout reader.

    Parameters
    ----------
    rows : pandas.DataFrame
        At least the columns of :data:`MANIFEST_COLUMNS`.
    dataset : str
        Name used in error messages.

    Returns
    -------
    pandas.DataFrame
        The manifest sorted by fold then clip id, with a fresh index;
        ``source_id`` (a string) is the clip id where the reader gave none.
    """
    if rows.empty:
        raise DatasetLayoutError(f"Dataset '{dataset}' lists no clips: check its root and folds.")
    duplicated = rows["clip_id"][rows["clip_id"].duplicated()].unique()
    if len(duplicated):
        raise DatasetLayoutError(
            f"Dataset '{dataset}' lists clip ids more than once: {sorted(duplicated)[:5]}"
        )
    rows = rows.copy()
    if "source_id" not in rows:
        rows["source_id"] = rows["clip_id"]
    missing_source = rows["source_id"].isna() | (rows["source_id"].astype(str).str.strip() == "")
    rows.loc[missing_source, "source_id"] = rows.loc[missing_source, "clip_id"]
    columns = [*MANIFEST_COLUMNS, *(["label_index"] if "label_index" in rows else [])]
    manifest = rows.loc[:, columns].copy()
    manifest["source_id"] = manifest["source_id"].astype(str)
    manifest["path"] = manifest["path"].map(lambda p: str(Path(p).absolute()))
    manifest["label"] = manifest["label"].astype(str)
    manifest["fold"] = manifest["fold"].astype(int)
    return manifest.sort_values(["fold", "clip_id"], kind="stable").reset_index(drop=True)


def select_folds(
    manifest: pd.DataFrame, folds: list[int] | None, *, parameter: str
) -> pd.DataFrame:
    """Keep only the clips of ``folds`` (all when None); error on an unknown fold."""
    if folds is None:
        return manifest
    present = set(manifest["fold"].unique())
    unknown = sorted(set(int(f) for f in folds) - present)
    if unknown:
        raise ParameterError(
            f"Parameter '{parameter}' asks for fold(s) {unknown}, but the dataset only has "
            f"fold(s) {sorted(present)}."
        )
    return manifest[manifest["fold"].isin([int(f) for f in folds])].reset_index(drop=True)


def stem_label(stem: str) -> str:
    """Strip trailing digits (and separators) from a file stem: ``'bus07'`` -> ``'bus'``."""
    return re.sub(r"[_\- ]*\d+$", "", stem)
