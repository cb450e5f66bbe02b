"""Reference L3-Net spectrogram front-ends computed with librosa and numpy.

These functions compute, outside any model, exactly what the Keras front-end
layers of :mod:`l3_kedro.models.frontends` compute inside the graph: a
magnitude STFT (periodic Hann window, frames from sample 0, no centring),
optionally an HTK mel filterbank, then decibels relative to the loudest
point of each example, floored at -80 dB. They import neither Keras nor
TensorFlow.
"""

from __future__ import annotations

import math
import warnings

import librosa
import numpy as np

from l3_kedro.audio.constants import (
    DB_AMIN,
    DB_DYNAMIC_RANGE,
    FRONTEND_SETTINGS,
    MEL_FMAX,
    MEL_FMIN,
    TARGET_SR,
    FrontendSettings,
    check_input_repr,
)
from l3_kedro.errors import AudioError, ParameterError

__all__ = [
    "amplitude_to_db",
    "compute_spectrogram",
    "compute_spectrograms",
    "frame_layout",
    "mel_filterbank",
]


def mel_filterbank(*, n_mels: int, n_fft: int = 2048, dtype: type = np.float32) -> np.ndarray:
    """Return the HTK mel filterbank used by the mel front-ends.

    Filters span 0 Hz to 24 kHz at 48 kHz and are area-normalised (librosa's
    default ``norm="slaney"``). With 256 bands and ``n_fft=2048`` the lowest
    HTK bands are narrower than an FFT bin, so some filters are all zeros;
    librosa's warning about it is silenced because this is a property of the
    published representation, not a mistake.

    Parameters
    ----------
    n_mels : int
        Number of mel bands (128 or 256 for L3-Net).
    n_fft : int
        FFT size, in samples.
    dtype : type
        Floating dtype of the result.

    Returns
    -------
    np.ndarray, shape (n_mels, n_fft // 2 + 1)
        Filter weights; ``mel @ magnitude`` gives the mel spectrogram.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Empty filters detected", category=UserWarning)
        return librosa.filters.mel(
            sr=TARGET_SR,
            n_fft=n_fft,
            n_mels=n_mels,
            fmin=MEL_FMIN,
            fmax=MEL_FMAX,
            htk=True,
            dtype=dtype,
        )


def frame_layout(n_samples: int, *, settings: FrontendSettings) -> tuple[int, int]:
    """Return the number of STFT frames and of end-padding zeros for a window.

    Parameters
    ----------
    n_samples : int
        Length of the audio window, in samples.
    settings : FrontendSettings
        STFT settings of the representation.

    Returns
    -------
    n_frames : int
        ``ceil(n_samples / hop)`` with end padding, else
        ``1 + (n_samples - n_fft) // hop``.
    n_pad : int
        Zeros appended at the end (0 without end padding). For a 1 s window
        at 48 kHz with ``n_fft=2048``: 199 frames and 1,964 zeros.

    Raises
    ------
    ParameterError
        If the window is too short to give one frame.
    """
    hop, n_fft = settings.hop_length, settings.n_fft
    if settings.pad_end and n_samples >= 1:
        n_frames = math.ceil(n_samples / hop)
        return n_frames, (n_frames - 1) * hop + n_fft - n_samples
    if not settings.pad_end and n_samples >= n_fft:
        return 1 + (n_samples - n_fft) // hop, 0
    minimum = 1 if settings.pad_end else n_fft
    raise ParameterError(
        f"An audio window of {n_samples} samples is too short for this front-end; "
        f"pass at least {minimum} samples (one 1 s window is {TARGET_SR})."
    )


def amplitude_to_db(magnitude: np.ndarray, *, n_example_axes: int = 2) -> np.ndarray:
    """Convert magnitudes to decibels relative to each example's maximum.

    ``10 * log10(max(S, 1e-10))`` minus its maximum over the last
    ``n_example_axes`` axes, floored at -80 dB (the rule of kapre 0.1.x used
    to train L3-Net: the factor is 10 although ``S`` is a magnitude).

    Parameters
    ----------
    magnitude : np.ndarray, shape (..., bins, frames)
        Non-negative magnitudes.
    n_example_axes : int
        Number of trailing axes that make one example.

    Returns
    -------
    np.ndarray, same shape as ``magnitude``
        Values in [-80, 0] dB; each example's maximum is exactly 0.
    """
    magnitude = np.maximum(magnitude, DB_AMIN)
    axes = tuple(range(-n_example_axes, 0))
    # log10(S / max S) rather than log10(S) - max log10(S): the same value,
    # but the maximum maps to exactly 0 whatever rounding log10 has.
    ratio = magnitude / np.max(magnitude, axis=axes, keepdims=True)
    return np.maximum(10.0 * np.log10(ratio), -DB_DYNAMIC_RANGE)


def compute_spectrograms(windows: np.ndarray, *, input_repr: str) -> np.ndarray:
    """Compute the L3-Net input spectrograms of a batch of audio windows.

    Parameters
    ----------
    windows : np.ndarray, shape (n, n_samples)
        Mono audio at 48 kHz, nominally in [-1, 1]; L3-Net windows are 1 s
        (48,000 samples) long.
    input_repr : {"linear", "mel128", "mel256"}
        Input representation.

    Returns
    -------
    np.ndarray, shape (n, bins, frames), float32
        Spectrograms in dB in [-80, 0]. For 1 s windows: (n, 257, 197) for
        ``linear``, (n, 128, 199) for ``mel128``, (n, 256, 199) for
        ``mel256``.

    Raises
    ------
    ParameterError
        If ``input_repr`` is unknown, ``windows`` is not 2-D or the windows
        are too short.
    AudioError
        If ``windows`` holds NaN or infinite values.
    """
    settings = FRONTEND_SETTINGS[check_input_repr(input_repr)]
    windows = np.asarray(windows)
    if windows.ndim != 2:
        raise ParameterError(
            f"windows must have shape (n, n_samples); got shape {windows.shape}. "
            "Use compute_spectrogram for a single window."
        )
    windows = windows.astype(np.float32, copy=False)
    if not np.all(np.isfinite(windows)):
        raise AudioError("windows contain NaN or infinite samples; clean the audio first.")
    _, n_pad = frame_layout(windows.shape[-1], settings=settings)
    if n_pad:
        windows = np.pad(windows, ((0, 0), (0, n_pad)))
    magnitude = np.abs(
        librosa.stft(
            windows,
            n_fft=settings.n_fft,
            hop_length=settings.hop_length,
            window="hann",
            center=False,
        )
    )
    if settings.n_mels is not None:
        magnitude = mel_filterbank(n_mels=settings.n_mels, n_fft=settings.n_fft) @ magnitude
    return amplitude_to_db(magnitude).astype(np.float32)


def compute_spectrogram(window: np.ndarray, *, input_repr: str) -> np.ndarray:
    """Compute the L3-Net input spectrogram of one audio window.

    Parameters
    ----------
    window : np.ndarray, shape (n_samples,)
        Mono audio at 48 kHz, nominally 1 s (48,000 samples).
    input_repr : {"linear", "mel128", "mel256"}
        Input representation.

    Returns
    -------
    np.ndarray, shape (bins, frames), float32
        Spectrogram in dB in [-80, 0] with maximum exactly 0; (257, 197),
        (128, 199) or (256, 199) for a 1 s window.

    Raises
    ------
    ParameterError
        If ``input_repr`` is unknown or ``window`` is not 1-D or too short.
    AudioError
        If ``window`` holds NaN or infinite values.
    """
    window = np.asarray(window)
    if window.ndim != 1:
        raise ParameterError(
            f"window must have shape (n_samples,); got shape {window.shape}. "
            "Use compute_spectrograms for a batch."
        )
    return compute_spectrograms(window[np.newaxis], input_repr=input_repr)[0]
