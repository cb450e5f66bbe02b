"""A tiny real video corpus (synthetic generator -> mp4 -> manifest) shared by the AVC tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import EMBEDDED_RAW

TINY_TRAINING = {
    "width": 0.0625,
    "image_size": 16,
    "frame_short_side": 20,
    "frame_rate": None,
    "batch_size": 4,
    "epochs": 3,
    "batches_per_epoch": 2,
    "validation_batches": 1,
    "test_batches": 1,
    "learning_rate": 1.0e-3,
    "weight_decay": 1.0e-5,
    "beta_1": 0.9,
    "beta_2": 0.999,
    "ema_momentum": 0.9,  # the resume test then covers the averaged weights too
    "checkpoint_every_samples": 8,
    "videos_per_batch": 4,
    "cache_videos": 64,
    "workers": 0,
    "distribution": "one_device",
    "mixed_precision": False,
    "fft_dtype": "float32",
    "seed": 0,
}
"""Training settings small enough for a test (3 epochs of 2 batches of 4 pairs)."""

ROOT = Path(__file__).resolve().parents[2]


def json_from_child(code: str, *, timeout: int, **env: str):
    """Run ``code`` in a fresh Python (repo root on the path, ``env`` added) and
    return the JSON of its last output line; its stderr if it fails."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")]), **env},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    """Segments CSV of 8 + 8 synthetic 3 s videos (32 x 32 px, 4 fps)."""
    from l3_kedro.video.synthetic import generate_synthetic_corpus

    root = tmp_path_factory.mktemp("avc") / "corpus"
    return generate_synthetic_corpus(
        root, n_videos_per_subset=8, duration_s=3.0, frame_rate=4.0, image_size=32, seed=1
    )


@pytest.fixture(scope="session")
def tiny_manifest(tiny_corpus: Path) -> pd.DataFrame:
    """The tiny corpus's video manifest, with a forced split of 4 / 2 / 2 videos per subset."""
    from l3_kedro.video import build_video_manifest

    source = {
        "layout": "audioset",
        "segments": str(tiny_corpus),
        "video_dir": str(tiny_corpus.parent / "videos"),
        "ontology": str(EMBEDDED_RAW / "audioset" / "ontology.json"),
        "subsets": {
            "music": str(EMBEDDED_RAW / "audioset" / "filter_music.csv"),
            "environmental": str(EMBEDDED_RAW / "audioset" / "filter_environmental.csv"),
        },
    }
    manifest, skips = build_video_manifest(source, on_error="error", probe="header")
    assert skips.empty
    # Hash splits of 8 videos are lumpy; fix them so every split has two or more.
    manifest = manifest.sort_values(["subset", "video_id"]).reset_index(drop=True)
    manifest["split"] = (
        manifest.groupby("subset")
        .cumcount()
        .map(lambda i: "train" if i < 4 else ("validation" if i < 6 else "test"))
    )
    return manifest
