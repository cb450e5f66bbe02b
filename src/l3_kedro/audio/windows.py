"""Cut audio into the overlapping fixed-length windows that L3 embeds.

The framing follows the released OpenL3 (0.4): with ``center=True`` half a
window of zeros is prepended so that timestamp ``t`` is the centre of its
window; the end is zero-padded so that the last window is complete; a signal
of ``L`` samples (after centring) gives ``1`` window if ``L <= window``, else
``1 + ceil((L - window) / hop)`` windows, where ``hop = int(hop_size * sr)``
(truncated, as OpenL3 does) and ``window = round(window_s * sr)``;
timestamps are ``i * hop_size`` seconds.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from numbers import Real
from typing import Generic, TypeVar

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from l3_kedro.audio.constants import DEFAULT_HOP_SIZE_S
from l3_kedro.errors import AudioError, AudioWarning, ParameterError

Tag = TypeVar("Tag")


def frame_audio(
    audio: np.ndarray,
    sr: float,
    *,
    window_s: float = 1.0,
    hop_size: float = DEFAULT_HOP_SIZE_S,
    center: bool = True,
    copy: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut audio into overlapping windows, OpenL3-style.

    Parameters
    ----------
    audio : np.ndarray [shape=(n,) or (channels, n), floating]
        Samples in [-1, 1]; several channels are averaged (:func:`mono_float32`).
    sr : float > 0
        Sampling rate of `audio` in Hz.
    window_s : float > 0
        Window length in seconds; a window holds ``round(window_s * sr)``
        samples.
    hop_size : float > 0
        Hop between window starts in seconds; ``int(hop_size * sr)`` samples.
    center : bool
        If True, prepend half a window of zeros so that each timestamp is the
        centre of its window (the first is the start of the audio).
    copy : bool
        If True (default), return an independent, writable, C-contiguous
        array. If False, return a read-only strided view whose overlapping
        rows share memory (no copy; do not ``np.copyto`` into it).

    Returns
    -------
    windows : np.ndarray [shape=(n_windows, round(window_s * sr)), dtype=float32]
        The windows, zero-padded at the start (if `center`) and the end.
    timestamps : np.ndarray [shape=(n_windows,), dtype=float64]
        ``i * hop_size`` in seconds.

    Raises
    ------
    AudioError
        `audio` is empty, not floating-point, of the wrong shape, or holds
        NaN or Inf.
    ParameterError
        `sr`, `window_s`, `hop_size` or `center` is out of its domain.

    Warns
    -----
    AudioWarning
        The audio is all zeros, or shorter than one window (it is padded).
    """
    signal = pad_for_windows(audio, sr, window_s=window_s, hop_size=hop_size, center=center)
    windows = sliding_window_view(signal.samples, signal.window)[:: signal.hop]
    if copy:
        windows = np.ascontiguousarray(windows)
    return windows, signal.timestamps


@dataclass(frozen=True)
class PaddedSignal:
    """A clip zero-padded as :func:`frame_audio` pads it, before it is cut.

    Window ``i`` is ``samples[i * hop : i * hop + window]``.

    Attributes
    ----------
    samples : np.ndarray [shape=(window + (n_windows - 1) * hop,), dtype=float32]
        The padded mono signal.
    window, hop : int
        Window length and hop, in samples.
    timestamps : np.ndarray [shape=(n_windows,), dtype=float64]
        ``i * hop_size`` in seconds.
    """

    samples: np.ndarray
    window: int
    hop: int
    timestamps: np.ndarray

    @property
    def n_windows(self) -> int:
        """Number of windows."""
        return len(self.timestamps)


def pad_for_windows(
    audio: np.ndarray,
    sr: float,
    *,
    window_s: float = 1.0,
    hop_size: float = DEFAULT_HOP_SIZE_S,
    center: bool = True,
) -> PaddedSignal:
    """Check and pad a clip as :func:`frame_audio` does (same parameters, errors, warnings)."""
    samples = mono_float32(audio)
    window, hop = _window_and_hop(sr, window_s=window_s, hop_size=hop_size)
    if not isinstance(center, (bool, np.bool_)):
        raise ParameterError(f"center must be True or False, got {center!r}.")
    if not np.isfinite(samples).all():
        raise AudioError("audio holds NaN or Inf samples; repair or drop the clip before framing.")
    _warn_if_unusual(samples, window, sr)
    head = window // 2 if center else 0
    n_windows = _count(head + samples.size, window, hop)
    padded = np.zeros(window + (n_windows - 1) * hop, dtype=np.float32)
    padded[head : head + samples.size] = samples
    timestamps = np.arange(n_windows, dtype=np.float64) * hop_size
    return PaddedSignal(samples=padded, window=window, hop=hop, timestamps=timestamps)


def count_windows(
    n_samples: int,
    sr: float,
    *,
    window_s: float = 1.0,
    hop_size: float = DEFAULT_HOP_SIZE_S,
    center: bool = True,
) -> int:
    """Number of windows :func:`frame_audio` makes of `n_samples` samples.

    Parameters
    ----------
    n_samples : int >= 1
        Length of the audio in samples.
    sr : float > 0
        Sampling rate in Hz.
    window_s, hop_size : float > 0
        Window length and hop in seconds.
    center : bool
        Whether half a window of zeros is prepended.

    Returns
    -------
    int
        The number of windows (at least 1).
    """
    if not isinstance(n_samples, (int, np.integer)) or n_samples < 1:
        raise ParameterError(f"n_samples must be a positive integer, got {n_samples!r}.")
    window, hop = _window_and_hop(sr, window_s=window_s, hop_size=hop_size)
    head = window // 2 if center else 0
    return _count(head + int(n_samples), window, hop)


def mono_float32(audio: np.ndarray) -> np.ndarray:
    """Return audio as one float32 channel.

    Parameters
    ----------
    audio : np.ndarray [shape=(n,) or (channels, n), floating]
        Samples; channels first, as :func:`~l3_kedro.audio.load_audio` gives.

    Returns
    -------
    np.ndarray [shape=(n,), dtype=float32]
        The mean of the channels (the input itself, cast, if already 1-D).

    Raises
    ------
    AudioError
        `audio` is empty, not floating-point, not 1-D or 2-D, or looks like
        (n, channels) (more channels than samples).
    """
    audio = np.asarray(audio)
    if not np.issubdtype(audio.dtype, np.floating):
        raise AudioError(
            f"audio must be floating-point samples in [-1, 1], got {audio.dtype}. "
            "Scale integer PCM first (e.g. int16 / 32768)."
        )
    if audio.ndim not in (1, 2):
        raise AudioError(f"audio must have shape (n,) or (channels, n), got {audio.shape}.")
    if audio.size == 0:
        raise AudioError(f"audio is empty (shape {audio.shape}); there is nothing to frame.")
    if audio.ndim == 2 and audio.shape[0] > audio.shape[1]:
        raise AudioError(
            f"audio of shape {audio.shape} has more channels than samples; pass it "
            "as (channels, n) (transpose an (n, channels) array)."
        )
    if audio.ndim == 2:
        audio = audio.mean(axis=0)
    return audio.astype(np.float32, copy=False)


def _window_and_hop(sr: float, *, window_s: float, hop_size: float) -> tuple[int, int]:
    """Window and hop lengths in samples, validating the parameters."""
    for name, value in (("sr", sr), ("window_s", window_s), ("hop_size", hop_size)):
        if (
            not isinstance(value, Real)
            or isinstance(value, bool)
            or not math.isfinite(value)
            or value <= 0
        ):
            raise ParameterError(f"{name} must be a positive finite number, got {value!r}.")
    window = round(window_s * sr)
    hop = int(hop_size * sr)
    if window < 1:
        raise ParameterError(
            f"window_s={window_s} s is shorter than one sample at sr={sr} Hz; use a longer window."
        )
    if hop < 1:
        raise ParameterError(
            f"hop_size={hop_size} s is shorter than one sample at sr={sr} Hz; use a longer hop."
        )
    return window, hop


def _count(length: int, window: int, hop: int) -> int:
    """Windows covering `length` samples: 1 + ceil((length - window) / hop)."""
    if length <= window:
        return 1
    return 1 + -(-(length - window) // hop)


def _warn_if_unusual(samples: np.ndarray, window: int, sr: float) -> None:
    """Warn (AudioWarning) about all-zero audio and audio shorter than a window."""
    if not samples.any():
        warnings.warn("audio is all zeros (silent).", AudioWarning, stacklevel=3)
    if samples.size < window:
        warnings.warn(
            f"audio ({samples.size / sr:.3f} s) is shorter than one window "
            f"({window / sr:.3f} s); it is zero-padded.",
            AudioWarning,
            stacklevel=3,
        )


@dataclass
class WindowBatch(Generic[Tag]):
    """One model batch of windows cut from consecutive clips.

    Attributes
    ----------
    windows : np.ndarray [shape=(rows, window), dtype=float32]
        C-contiguous; ``rows`` is the batch size, or ``n_valid`` for a short
        last batch that is not padded.
    n_valid : int
        Rows that hold windows; the rest repeat the last one (padding).
    finished : list
        The tags of the clips whose last window is in this batch, in order.
    """

    windows: np.ndarray
    n_valid: int
    finished: list[Tag]


def batch_windows(
    clips: Iterable[tuple[Tag, np.ndarray]], batch_size: int, *, pad_last: bool
) -> Iterator[WindowBatch[Tag]]:
    """Pack the windows of consecutive clips into batches of ``batch_size`` rows.

    A clip's windows may run over into the next batch; ``finished`` tells the
    caller where each clip ends. Every batch but the last is full; the last is
    padded to ``batch_size`` with copies of its last window when ``pad_last``
    (one batch shape for jit-compiling backends), else cut to its rows.

    Parameters
    ----------
    clips : iterable of (tag, windows)
        ``windows`` is (n_windows, window) from :func:`frame_audio`; ``tag``
        is anything the caller needs back (a clip row, its timestamps).
    batch_size : int >= 1
        Rows per batch.
    pad_last : bool
        Pad the last batch (True) or shorten it (False).
    """
    buffer: np.ndarray | None = None
    filled = 0
    finished: list[Tag] = []
    for tag, windows in clips:
        start = 0
        while True:
            if buffer is None:
                buffer = np.empty((batch_size, windows.shape[1]), dtype=np.float32)
                filled = 0
            n = min(batch_size - filled, len(windows) - start)
            buffer[filled : filled + n] = windows[start : start + n]
            filled += n
            start += n
            if start == len(windows):
                break
            yield WindowBatch(buffer, batch_size, finished)  # full; the clip goes on
            buffer, finished = None, []
        finished.append(tag)
        if filled == batch_size:
            yield WindowBatch(buffer, batch_size, finished)
            buffer, finished = None, []
    if buffer is not None:
        if pad_last:
            buffer[filled:] = buffer[filled - 1]
        yield WindowBatch(buffer if pad_last else buffer[:filled], filled, finished)
