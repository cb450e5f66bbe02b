"""Tests of the librosa reference front-ends (l3_kedro.audio.features)."""

from __future__ import annotations

import os
import subprocess
import sys

import librosa
import numpy as np
import pytest

from l3_kedro.audio.constants import FRONTEND_SETTINGS, INPUT_SHAPES, TARGET_SR
from l3_kedro.audio.features import (
    amplitude_to_db,
    compute_spectrogram,
    compute_spectrograms,
    frame_layout,
    mel_filterbank,
)
from l3_kedro.errors import AudioError, ParameterError

SR = TARGET_SR


@pytest.fixture
def chirp() -> np.ndarray:
    """1 s exponential chirp 50 Hz -> 20 kHz at 48 kHz, amplitude 0.5, shape (48000,)."""
    return 0.5 * librosa.chirp(fmin=50, fmax=20_000, sr=SR, duration=1.0).astype(np.float32)


def test_import_does_not_load_tensorflow():
    """The reference front-end stays usable without Keras (lazy models package)."""
    code = "import sys, l3_kedro.audio.features; print('tensorflow' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("input_repr", ["linear", "mel128", "mel256"])
def test_shape_range_and_maximum(chirp, input_repr):
    spec = compute_spectrogram(chirp, input_repr=input_repr)
    assert spec.shape == INPUT_SHAPES[input_repr]
    assert spec.dtype == np.float32
    assert spec.max() == 0.0
    assert spec.min() >= -80.0


@pytest.mark.parametrize(
    ("input_repr", "expected"),
    [("linear", (197, 0)), ("mel128", (199, 1964)), ("mel256", (199, 1964))],
)
def test_frame_layout_of_one_second(input_repr, expected):
    assert frame_layout(SR, settings=FRONTEND_SETTINGS[input_repr]) == expected


def test_frame_layout_rejects_short_windows():
    with pytest.raises(ParameterError, match="too short"):
        frame_layout(511, settings=FRONTEND_SETTINGS["linear"])
    assert frame_layout(1, settings=FRONTEND_SETTINGS["mel256"]) == (1, 2047)


def test_linear_matches_explicit_dft(rng):
    """Frames start at sample 0, no centring, periodic Hann, magnitude, 10*log10."""
    audio = rng.standard_normal(SR).astype(np.float32) * 0.1
    n_fft, hop = 512, 242
    starts = np.arange(197) * hop
    frames = np.stack([audio[s : s + n_fft] for s in starts]).astype(np.float64)
    window = np.hanning(n_fft + 1)[:-1]  # periodic Hann
    magnitude = np.abs(np.fft.rfft(frames * window, axis=1)).T
    expected = 10 * np.log10(np.maximum(magnitude, 1e-10))
    expected = np.maximum(expected - expected.max(), -80)
    got = compute_spectrogram(audio, input_repr="linear")
    np.testing.assert_allclose(got, expected, atol=1e-3)


def test_peak_of_a_sine_is_in_the_right_bin():
    audio = np.sin(2 * np.pi * 3000 * np.arange(SR) / SR).astype(np.float32)
    linear = compute_spectrogram(audio, input_repr="linear")
    assert np.argmax(linear.mean(axis=1)) == round(3000 / (SR / 512))
    mel = compute_spectrogram(audio, input_repr="mel128")
    centres = librosa.mel_frequencies(n_mels=130, fmin=0, fmax=SR / 2, htk=True)[1:-1]
    assert abs(centres[np.argmax(mel.mean(axis=1))] - 3000) < 150


def test_end_padding_zeros_reach_the_last_frames():
    audio = np.ones(SR, dtype=np.float32)
    mel = compute_spectrogram(audio, input_repr="mel128")
    # The last frame holds 2048 - 1964 = 84 samples of signal: much less energy.
    assert mel[:, -1].max() < mel[:, 0].max() - 6


def test_silence_gives_zero_decibels_everywhere():
    spec = compute_spectrogram(np.zeros(SR, dtype=np.float32), input_repr="mel256")
    np.testing.assert_array_equal(spec, 0.0)


def test_batched_matches_single(rng, chirp):
    batch = np.stack([chirp, rng.standard_normal(SR).astype(np.float32) * 1e-3])
    specs = compute_spectrograms(batch, input_repr="mel256")
    assert specs.shape == (2, 256, 199)
    for window, spec in zip(batch, specs, strict=True):
        np.testing.assert_array_equal(spec, compute_spectrogram(window, input_repr="mel256"))
    # Per-example normalisation: a quiet example still peaks at exactly 0 dB.
    np.testing.assert_array_equal(specs.max(axis=(1, 2)), [0.0, 0.0])


def test_gain_invariance(chirp):
    # A power-of-two gain is exact in floating point, so only the dB reference
    # moves, as long as the -80 dB floor stays above the absolute 1e-10 floor
    # (peak mel magnitude here: about 10, then 0.6).
    loud = compute_spectrogram(chirp, input_repr="mel128")
    quiet = compute_spectrogram(chirp * 2.0**-4, input_repr="mel128")
    np.testing.assert_allclose(loud, quiet, atol=1e-4)


def test_amplitude_to_db_floor_and_reference():
    magnitude = np.array([[[1.0, 1e-4, 1e-9, 0.0]]])
    np.testing.assert_allclose(amplitude_to_db(magnitude), [[[0.0, -40.0, -80.0, -80.0]]])


def test_mel_filterbank_is_htk_and_area_normalised():
    basis = mel_filterbank(n_mels=256)
    assert basis.shape == (256, 1025)
    assert basis.dtype == np.float32
    # HTK 256 bands at n_fft 2048: the narrowest low bands fall between bins.
    assert 0 < np.sum(basis.max(axis=1) == 0) < 10
    expected = librosa.filters.mel(sr=SR, n_fft=2048, n_mels=128, htk=True, fmax=SR / 2)
    np.testing.assert_array_equal(mel_filterbank(n_mels=128), expected)


def test_rejects_bad_arguments(chirp):
    with pytest.raises(ParameterError, match="input_repr"):
        compute_spectrogram(chirp, input_repr="mel64")
    with pytest.raises(ParameterError, match="compute_spectrograms"):
        compute_spectrogram(chirp[np.newaxis], input_repr="linear")
    with pytest.raises(ParameterError, match="compute_spectrogram "):
        compute_spectrograms(chirp, input_repr="linear")
    with pytest.raises(ParameterError, match="too short"):
        compute_spectrogram(chirp[:100], input_repr="linear")
    bad = chirp.copy()
    bad[10] = np.nan
    with pytest.raises(AudioError, match="NaN"):
        compute_spectrogram(bad, input_repr="mel256")
