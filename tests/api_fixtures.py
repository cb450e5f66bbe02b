"""Helpers shared by the API, HEAR and CLI tests: tiny models and real clips.

The models are L3 audio towers at width 0.125 (64-dim embeddings at the 512
size): the real architecture and front-ends, fast enough for CPU tests.
They are cached per process, so the three test modules build each only once.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import soundfile as sf

from l3_kedro.api import load_audio_embedding_model
from tests.conftest import EMBEDDED_RAW

TINY_WIDTH = 0.125
TINY_SIZE = 512
US8K_FILES = sorted((EMBEDDED_RAW / "urbansound8k" / "audio" / "fold1").glob("*.flac"))
"""Real UrbanSound8K clips: 4 s, 22,050 Hz, mono FLAC."""
FSDD_FILES = sorted((EMBEDDED_RAW / "fsdd" / "recordings").glob("*.wav"))
"""Real spoken digits: 0.3-0.7 s, 8 kHz, mono WAV."""


@cache
def tiny_model(input_repr: str = "mel256"):
    """A random width-0.125 L3 audio embedding model, (batch, 48000) -> (batch, 64)."""
    return load_audio_embedding_model(
        input_repr=input_repr, embedding_size=TINY_SIZE, width=TINY_WIDTH
    )


def save_tiny_checkpoint(folder: Path, input_repr: str = "mel256") -> Path:
    """Save :func:`tiny_model` as ``folder/tiny_<repr>.keras``; return the path."""
    path = folder / f"tiny_{input_repr}.keras"
    tiny_model(input_repr).save(path)
    return path


def read_clip(path: Path) -> tuple[np.ndarray, int]:
    """A file's samples (n,) or (n, channels) float32, and its rate in Hz."""
    audio, sr = sf.read(path, dtype="float32")
    return audio, sr


def assert_same_embeddings(actual: np.ndarray, expected: np.ndarray) -> None:
    """Assert two embedding arrays agree up to float32 convolution round-off.

    The same windows embedded in batches of other sizes go through other
    oneDNN kernels: measured differences reach 2e-4 on values up to 330
    (about 1e-6 of the largest value), so the absolute tolerance is 1e-5 of
    the largest expected value.
    """
    scale = float(np.abs(expected).max())
    np.testing.assert_allclose(actual, expected, rtol=1e-4, atol=1e-5 * scale)


def write_broken(path: Path) -> Path:
    """Write a file with an audio suffix that no decoder can read."""
    path.write_bytes(b"RIFF....WAVEfmt this is not audio")
    return path
