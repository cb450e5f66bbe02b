"""Header reading and decoding with PyAV (FFmpeg): mp3 and video containers.

Private backend of :mod:`l3_kedro.audio.io`; every FFmpeg failure leaves this
module as an :class:`~l3_kedro.errors.AudioError`. The first audio stream of
a container is used. PyAV is imported on first use, so that wav/flac/ogg
decoding (soundfile) works where it is not installed.
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from l3_kedro.errors import AudioError, AudioWarning

if TYPE_CHECKING:
    import av

# Decoded audio may fall this much (seconds, or this fraction of the declared
# duration, whichever is more) short of the container's duration before we
# warn that the file looks truncated; codec delay and padding stay far below.
_SHORTFALL_TOLERANCE_S = 0.5
_SHORTFALL_TOLERANCE_FRACTION = 0.05

# Full-scale value of each integer sample format FFmpeg decoders produce.
_INT_FULL_SCALE = {
    np.dtype(np.int16): 2.0**15,
    np.dtype(np.int32): 2.0**31,
    np.dtype(np.int64): 2.0**63,
}


def _pyav() -> ModuleType:
    """Import PyAV on first use (mp3 and video containers need it)."""
    try:
        return importlib.import_module("av")
    except ImportError as err:
        raise ModuleNotFoundError(
            f"Decoding this file needs PyAV (FFmpeg), which cannot be imported ({err}); "
            "install it with `pip install av`.",
            name="av",
        ) from err


def read_info(path: Path) -> tuple[int, int, int, str]:
    """Read the audio stream's metadata, decoding only if it lacks a duration.

    Parameters
    ----------
    path : Path
        An existing, non-empty file.

    Returns
    -------
    sample_rate : int
        Sampling rate in Hz.
    channels : int
        Number of channels.
    n_frames : int
        Number of samples per channel: from the stream's duration, else the
        container's, else counted by decoding. From metadata it may differ
        from the decoded length by a few codec frames (encoder delay,
        padding).
    format : str
        FFmpeg's name of the container format (e.g. ``"mp3"``,
        ``"matroska,webm"``).
    """
    with _open(path) as container:
        stream = _audio_stream(container, path)
        context = stream.codec_context
        duration_s = _metadata_duration(container, stream)
        if duration_s is None or not context.sample_rate:
            audio, sample_rate = _decode(container, stream, path, offset=0.0, duration=None)
            return sample_rate, audio.shape[0], audio.shape[1], container.format.name
        n_frames = round(duration_s * context.sample_rate)
        return context.sample_rate, context.channels, n_frames, container.format.name


def read_audio(path: Path, *, offset: float, duration: float | None) -> tuple[np.ndarray, int]:
    """Decode the first audio stream, or the part that starts at `offset` s.

    The excerpt is located by counting decoded samples from the start of the
    stream (no seeking), so it agrees exactly with slicing a full decode.

    Parameters
    ----------
    path : Path
        An existing, non-empty file.
    offset : float >= 0
        Start of the excerpt in seconds.
    duration : float > 0 or None
        Length of the excerpt in seconds; None decodes to the end.

    Returns
    -------
    audio : np.ndarray [shape=(channels, n), dtype=float32]
        Samples scaled to full scale 1.0; may be empty.
    sample_rate : int
        Sampling rate in Hz, as decoded.
    """
    with _open(path) as container:
        stream = _audio_stream(container, path)
        audio, sample_rate = _decode(container, stream, path, offset=offset, duration=duration)
        declared_s = _metadata_duration(container, stream)
    if declared_s is not None and audio.size:
        _warn_if_short(audio.shape[1] / sample_rate, declared_s, path, offset, duration)
    return audio, sample_rate


def _warn_if_short(
    decoded_s: float, declared_s: float, path: Path, offset: float, duration: float | None
) -> None:
    """Warn (AudioWarning) when decoding ended well before the declared end."""
    expected_s = declared_s - offset if duration is None else min(duration, declared_s - offset)
    tolerance = max(_SHORTFALL_TOLERANCE_S, _SHORTFALL_TOLERANCE_FRACTION * declared_s)
    if expected_s - decoded_s > tolerance:
        warnings.warn(
            f"{path}: decoded {offset + decoded_s:.2f} s of audio but the container "
            f"declares {declared_s:.2f} s; the file may be truncated (or its sound "
            "track ends before its video).",
            AudioWarning,
            stacklevel=5,
        )


@contextmanager
def _open(path: Path) -> Iterator[av.container.InputContainer]:
    """Open `path` with FFmpeg, turning failures into AudioError."""
    av = _pyav()
    try:
        container = av.open(str(path), mode="r")
    except (av.FFmpegError, UnicodeDecodeError) as err:
        raise AudioError(
            f"{path}: not a readable audio or video file ({err.__class__.__name__}: "
            f"{getattr(err, 'strerror', None) or err}); it is corrupt, truncated "
            "or not media. Re-download or re-encode it."
        ) from err
    try:
        yield container
    finally:
        container.close()


def _audio_stream(container: av.container.InputContainer, path: Path) -> av.AudioStream:
    """Return the first audio stream, or raise AudioError naming what is there."""
    if container.streams.audio:
        return container.streams.audio[0]
    found = ", ".join(sorted({s.type for s in container.streams})) or "no streams"
    raise AudioError(
        f"{path}: no audio stream (the container holds {found}). Use a file with a sound track."
    )


def _metadata_duration(
    container: av.container.InputContainer, stream: av.AudioStream
) -> float | None:
    """Duration in seconds from the stream, else the container; None if absent."""
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / _pyav().time_base
    return None


def _decode(
    container: av.container.InputContainer,
    stream: av.AudioStream,
    path: Path,
    *,
    offset: float,
    duration: float | None,
) -> tuple[np.ndarray, int]:
    """Decode samples [offset, offset + duration) s of `stream` to (channels, n)."""
    av = _pyav()
    chunks: list[np.ndarray] = []
    position = 0
    sample_rate = start = stop = None
    try:
        for frame in container.decode(stream):
            if sample_rate is None:
                sample_rate = frame.sample_rate
                start = round(offset * sample_rate)
                stop = None if duration is None else start + round(duration * sample_rate)
            elif frame.sample_rate != sample_rate:
                raise AudioError(
                    f"{path}: the sample rate changes mid-stream ({sample_rate} -> "
                    f"{frame.sample_rate} Hz). Re-encode it at one rate."
                )
            end = position + frame.samples
            if end > start:
                low = max(start - position, 0)
                high = frame.samples if stop is None else min(stop - position, frame.samples)
                chunks.append(_frame_to_array(frame)[:, low:high])
            position = end
            if stop is not None and position >= stop:
                break
    except av.FFmpegError as err:
        raise AudioError(
            f"{path}: decoding failed after {position} samples ({err}); the file "
            "is corrupt or truncated. Re-download or re-encode it."
        ) from err
    if sample_rate is None:
        sample_rate = stream.codec_context.sample_rate
    if not sample_rate:
        raise AudioError(
            f"{path}: not a readable audio or video file (FFmpeg finds an audio "
            "stream without a sample rate and decodes nothing from it); it is "
            "corrupt or not media. Re-download or re-encode it."
        )
    return _join(chunks, stream, path), sample_rate


def _join(chunks: list[np.ndarray], stream: av.AudioStream, path: Path) -> np.ndarray:
    """Concatenate decoded chunks along time; (channels, 0) when there are none."""
    if not chunks:
        return np.zeros((max(stream.codec_context.channels, 1), 0), dtype=np.float32)
    if len({chunk.shape[0] for chunk in chunks}) > 1:
        raise AudioError(
            f"{path}: the channel count changes mid-stream. Re-encode it with a "
            "fixed channel layout."
        )
    return np.concatenate(chunks, axis=1)


def _frame_to_array(frame: av.AudioFrame) -> np.ndarray:
    """Convert a decoded frame to float32 samples of shape (channels, n)."""
    data = frame.to_ndarray()
    if not frame.format.is_planar:
        # Packed formats come back as one interleaved row.
        data = data.reshape(-1, frame.layout.nb_channels).T
    if data.dtype == np.uint8:
        return (data.astype(np.float32) - 128.0) / 128.0
    if data.dtype in _INT_FULL_SCALE:
        return (data / _INT_FULL_SCALE[data.dtype]).astype(np.float32)
    return data.astype(np.float32)  # a copy: packed rows view the frame buffer
