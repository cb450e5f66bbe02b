"""Fixtures of the model tests: synthetic and real 1 s windows at 48 kHz."""

from __future__ import annotations

from pathlib import Path

import librosa
import numpy as np
import pytest
import soundfile as sf

SR = 48_000


@pytest.fixture(scope="session")
def chirps() -> np.ndarray:
    """Four 1 s synthetic windows at 48 kHz, shape (4, 48000) float32.

    An exponential chirp 50 Hz -> 20 kHz, a linear chirp 20 kHz -> 100 Hz
    under a decaying envelope, a 440 Hz tone burst in silence and a chirp in
    white noise 30 dB below it.
    """
    rng = np.random.default_rng(20190512)
    t = np.arange(SR) / SR
    up = 0.5 * librosa.chirp(fmin=50, fmax=20_000, sr=SR, duration=1.0)
    down = (
        0.8
        * np.exp(-4 * t)
        * librosa.chirp(fmin=20_000, fmax=100, sr=SR, duration=1.0, linear=True)
    )
    burst = np.where((t > 0.3) & (t < 0.5), 0.3 * np.sin(2 * np.pi * 440 * t), 0.0)
    noisy = up + 0.5 * 10 ** (-30 / 20) * rng.standard_normal(SR)
    return np.stack([up, down, burst, noisy]).astype(np.float32)


@pytest.fixture(scope="session")
def real_windows(shared_data: Path) -> np.ndarray:
    """Six real 1 s windows: UrbanSound8K fold-1 clips resampled to 48 kHz (soxr).

    Shape (6, 48000) float32: the first and last second of three clips.
    """
    files = sorted((shared_data / "urbansound8k_subset" / "audio" / "fold1").glob("*.flac"))[:3]
    if len(files) < 3:
        pytest.skip("UrbanSound8K subset not found in the shared data")
    windows = []
    for path in files:
        audio, sr = sf.read(path, dtype="float32", always_2d=True)
        audio = librosa.resample(audio.mean(axis=1), orig_sr=sr, target_sr=SR, res_type="soxr_hq")
        windows += [audio[:SR], audio[-SR:]]
    return np.stack(windows).astype(np.float32)
