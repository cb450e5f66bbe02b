"""ESC-50 in its official layout.

``<root>/meta/esc50.csv`` (``filename,fold,target,category,esc10,src_file,take``)
and ``<root>/audio/<filename>``; 5 folds. ``esc10_only`` keeps the ESC-10 subset.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from l3_kedro.layouts.base import (
    finish_manifest,
    read_metadata_csv,
    require_dir,
    resolve_audio_path,
    select_folds,
)

ESC50_COLUMNS = ("filename", "fold", "target", "category", "esc10", "src_file", "take")
ESC50_N_FOLDS = 5


def read_esc50(
    *, root: str | Path, folds: list[int] | None = None, esc10_only: bool = False
) -> pd.DataFrame:
    """List the clips of ESC-50 (or its ESC-10 subset).

    Returns
    -------
    pandas.DataFrame
        Manifest with the official ``target`` as ``label_index`` (ESC-50) or
        labels renumbered from 0 (ESC-10), and the Freesound source file
        (``src_file``) as ``source_id``.
    """
    root = require_dir(root, what="ESC-50 root", parameter="root")
    meta = read_metadata_csv(root / "meta" / "esc50.csv", required=ESC50_COLUMNS)
    if esc10_only:
        meta = meta[meta["esc10"].astype(str).str.lower().isin(["true", "1"])]
    audio_dir = root / "audio"
    rows = pd.DataFrame(
        {
            "clip_id": meta["filename"].map(lambda n: Path(str(n)).stem),
            "path": [resolve_audio_path(audio_dir, str(n)) for n in meta["filename"]],
            "label": meta["category"],
            "fold": meta["fold"].astype(int),
            "source_id": meta["src_file"].astype(str),
        }
    )
    if not esc10_only:
        rows["label_index"] = meta["target"].astype(int).to_numpy()
    manifest = finish_manifest(rows, dataset="esc50")
    return select_folds(manifest, folds, parameter="folds")
