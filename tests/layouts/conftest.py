"""Official dataset layouts built from tiny cuts of real recordings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from tests.conftest import EMBEDDED_RAW

REAL_RECORDING = EMBEDDED_RAW / "urbansound8k" / "audio" / "fold1" / "101415-3-0-2.flac"


@pytest.fixture(scope="session")
def real_cut() -> tuple[np.ndarray, int]:
    """0.25 s of a real dog bark (UrbanSound8K, 22,050 Hz mono)."""
    audio, sr = sf.read(REAL_RECORDING, dtype="float32", frames=22050 // 4)
    return audio, sr


@pytest.fixture
def write_clip(real_cut) -> Callable[[Path], Path]:
    """Write the real cut to ``path`` (format from the suffix); returns the path."""

    def write(path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        audio, sr = real_cut
        sf.write(path, audio, sr)
        return path

    return write


@pytest.fixture
def us8k_root(tmp_path, write_clip) -> Path:
    """UrbanSound8K layout: 3 classes x folds 1-3; the CSV lists .wav, files are .flac."""
    rows = []
    for fold in (1, 2, 3):
        for class_id, name in ((0, "air_conditioner"), (3, "dog_bark"), (8, "siren")):
            stem = f"{1000 + 10 * fold + class_id}-{class_id}-0-0"
            write_clip(tmp_path / "audio" / f"fold{fold}" / f"{stem}.flac")
            rows.append((f"{stem}.wav", 1000 + fold, 0.0, 0.25, 1, fold, class_id, name))
    meta = pd.DataFrame(
        rows,
        columns=["slice_file_name", "fsID", "start", "end", "salience", "fold", "classID", "class"],
    )
    (tmp_path / "metadata").mkdir()
    meta.to_csv(tmp_path / "metadata" / "UrbanSound8K.csv", index=False)
    return tmp_path


@pytest.fixture
def esc50_root(tmp_path, write_clip) -> Path:
    """ESC-50 layout: 2 classes (one in ESC-10) x 5 folds."""
    rows = []
    for fold in range(1, 6):
        for target, category, esc10 in ((0, "dog", True), (5, "cat", False)):
            filename = f"{fold}-{100 + target}-A-{target}.wav"
            write_clip(tmp_path / "audio" / filename)
            rows.append((filename, fold, target, category, esc10, 100 + target, "A"))
    meta = pd.DataFrame(
        rows, columns=["filename", "fold", "target", "category", "esc10", "src_file", "take"]
    )
    (tmp_path / "meta").mkdir()
    meta.to_csv(tmp_path / "meta" / "esc50.csv", index=False)
    return tmp_path


@pytest.fixture
def dcase2013_dirs(tmp_path, write_clip) -> tuple[Path, Path]:
    """DCASE 2013 SCD development and evaluation folders, 2 clips of 3 scenes each."""
    dev, evaluation = tmp_path / "scenes_stereo", tmp_path / "scenes_stereo_testset"
    for folder in (dev, evaluation):
        for scene in ("bus", "park", "tubestation"):
            for i in (1, 2):
                write_clip(folder / f"{scene}{i:02d}.wav")
    return dev, evaluation


@pytest.fixture
def fsdd_root(tmp_path, write_clip) -> Path:
    """FSDD layout: digits 0-2, speakers george and theo, takes 0-9."""
    for digit in range(3):
        for speaker in ("george", "theo"):
            for take in range(10):
                write_clip(tmp_path / "recordings" / f"{digit}_{speaker}_{take}.wav")
    return tmp_path
