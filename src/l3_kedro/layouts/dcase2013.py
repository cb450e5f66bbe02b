"""DCASE 2013 acoustic scene classification (SCD), as published.

The development set (``scenes_stereo/``, 100 clips) and the evaluation set
(``scenes_stereo_testset/``, 100 clips) each hold 30 s stereo WAV files
named after their scene, e.g. ``bus01.wav``. The paper trains on the
development set and tests on the evaluation set: they become folds 1 and 2.
Each file is its own source (``source_id``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from l3_kedro.errors import DatasetLayoutError
from l3_kedro.layouts.base import finish_manifest, require_dir, stem_label

DCASE2013_SCENES = (
    "bus",
    "busystreet",
    "office",
    "openairmarket",
    "park",
    "quietstreet",
    "restaurant",
    "supermarket",
    "tube",
    "tubestation",
)
DCASE2013_DEVELOPMENT_FOLD = 1
DCASE2013_EVALUATION_FOLD = 2


def _list_scene_files(directory: Path, *, fold: int, split: str) -> pd.DataFrame:
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in (".wav", ".flac"))
    labels = [stem_label(p.stem) for p in files]
    unknown = sorted({lab for lab in labels if lab not in DCASE2013_SCENES})
    if unknown:
        raise DatasetLayoutError(
            f"DCASE 2013 {split} set '{directory}' has files of unknown scene(s) {unknown}; "
            f"expected names like 'bus01.wav' for the scenes {list(DCASE2013_SCENES)}."
        )
    return pd.DataFrame(
        {
            "clip_id": [f"{split}/{p.stem}" for p in files],
            "path": files,
            "label": labels,
            "label_index": [DCASE2013_SCENES.index(lab) for lab in labels],
            "fold": fold,
        }
    )


def read_dcase2013(
    *, development_dir: str | Path, evaluation_dir: str | Path | None = None
) -> pd.DataFrame:
    """List the clips of DCASE 2013 SCD.

    Parameters
    ----------
    development_dir : str or Path
        Folder of the development (training) set, fold 1.
    evaluation_dir : str or Path, optional
        Folder of the evaluation (test) set, fold 2.
    """
    dev = require_dir(
        development_dir, what="DCASE 2013 development set", parameter="development_dir"
    )
    parts = [_list_scene_files(dev, fold=DCASE2013_DEVELOPMENT_FOLD, split="development")]
    if evaluation_dir is not None:
        evaluation = require_dir(
            evaluation_dir, what="DCASE 2013 evaluation set", parameter="evaluation_dir"
        )
        parts.append(
            _list_scene_files(evaluation, fold=DCASE2013_EVALUATION_FOLD, split="evaluation")
        )
    return finish_manifest(pd.concat(parts, ignore_index=True), dataset="dcase2013")
