"""UrbanSound8K in its official layout.

``<root>/metadata/UrbanSound8K.csv`` (``slice_file_name,fsID,start,end,
salience,fold,classID,class``) and ``<root>/audio/fold<k>/<slice_file_name>``.
A listed ``.wav`` resolves to the file present (e.g. a FLAC re-encoding).
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

US8K_COLUMNS = ("slice_file_name", "fsID", "start", "end", "salience", "fold", "classID", "class")
US8K_N_FOLDS = 10


def read_urbansound8k(*, root: str | Path, folds: list[int] | None = None) -> pd.DataFrame:
    """List the clips of UrbanSound8K.

    Parameters
    ----------
    root : str or Path
        Dataset root holding ``metadata/`` and ``audio/``.
    folds : list of int, optional
        Official folds (1-10) to keep; all folds listed in the CSV by default.

    Returns
    -------
    pandas.DataFrame
        Manifest (see :data:`l3_kedro.layouts.base.MANIFEST_COLUMNS`) with the
        official ``classID`` as ``label_index`` and the Freesound recording
        (``fsID``) the slice was cut from as ``source_id``.
    """
    root = require_dir(root, what="UrbanSound8K root", parameter="root")
    meta = read_metadata_csv(root / "metadata" / "UrbanSound8K.csv", required=US8K_COLUMNS)
    audio_dir = root / "audio"
    rows = pd.DataFrame(
        {
            "clip_id": meta["slice_file_name"].map(lambda n: Path(str(n)).stem),
            "path": [
                resolve_audio_path(audio_dir / f"fold{int(fold)}", str(name))
                for name, fold in zip(meta["slice_file_name"], meta["fold"], strict=True)
            ],
            "label": meta["class"],
            "label_index": meta["classID"].astype(int),
            "fold": meta["fold"].astype(int),
            "source_id": meta["fsID"].astype(str),
        }
    )
    manifest = finish_manifest(rows, dataset="urbansound8k")
    return select_folds(manifest, folds, parameter="folds")
