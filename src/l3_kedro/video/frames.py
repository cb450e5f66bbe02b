"""Decode video frames with PyAV (FFmpeg): a whole clip, or one frame at a time.

Frames come back as RGB ``uint8`` arrays of shape (height, width, 3),
optionally resized by FFmpeg's scaler so that their short side has a given
length (aspect kept, pixels taken as square). Times are in seconds from the
start of the file (the container's start time), the clock on which
:func:`l3_kedro.audio.load_audio` counts its ``offset``. Every FFmpeg
failure leaves this module as a :class:`~l3_kedro.errors.VideoError` naming
the file.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from numbers import Integral, Real
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from l3_kedro.audio._av import _pyav
from l3_kedro.errors import ParameterError, VideoError

if TYPE_CHECKING:
    import av

# Frame times within this many seconds of a sampling time count as equal to it
# (float rounding of pts * time_base against k / frame_rate).
_EPS_S = 1e-6

RESIZE_INTERPOLATION = "AREA"
"""FFmpeg scaler used to resize frames (area averaging suits the usual shrinking)."""


def checked_video_path(path: str | os.PathLike) -> Path:
    """Return ``path`` as a Path after checking it is a non-empty file (else VideoError)."""
    checked = Path(path)
    if not checked.exists():
        raise VideoError(f"{checked}: video file not found. Check the path.")
    if not checked.is_file():
        raise VideoError(f"{checked}: not a regular file. Pass the path of a video file.")
    if checked.stat().st_size == 0:
        raise VideoError(
            f"{checked}: the file is empty (0 bytes); an interrupted download? Re-download it."
        )
    return checked


@contextmanager
def open_video(path: str | os.PathLike) -> Iterator[tuple[av.container.InputContainer, Path]]:
    """Open a file with FFmpeg and check it has a video stream.

    Yields
    ------
    container : av.container.InputContainer
        The open container (closed on exit).
    path : Path
        The checked path.

    Raises
    ------
    VideoError
        The file is missing, empty, not media (or corrupt, e.g. an mp4
        truncated before its index), or has no video stream.
    """
    av = _pyav()
    checked = checked_video_path(path)
    try:
        container = av.open(str(checked), mode="r")
    except (av.FFmpegError, UnicodeDecodeError) as err:
        raise VideoError(
            f"{checked}: not a readable video file ({err.__class__.__name__}: "
            f"{getattr(err, 'strerror', None) or err}); it is corrupt, truncated or not "
            "media. Re-download or re-encode it."
        ) from err
    try:
        if not container.streams.video:
            found = ", ".join(sorted({s.type for s in container.streams})) or "no streams"
            raise VideoError(
                f"{checked}: no video stream (the container holds {found}). "
                "Use a file with a picture track."
            )
        yield container, checked
    finally:
        container.close()


def start_time_s(container: av.container.InputContainer) -> float:
    """The container's start time in seconds (0 when it states none)."""
    if container.start_time is None:
        return 0.0
    return container.start_time / _pyav().time_base


def output_size(width: int, height: int, short_side: int | None) -> tuple[int, int]:
    """(width, height) after scaling ``width x height`` so its short side is ``short_side``.

    The short side is exactly ``short_side``; the long side is rounded, at
    least 1. None keeps the size.
    """
    if short_side is None:
        return width, height
    short_side = int(short_side)
    scale = short_side / min(width, height)
    if width <= height:
        return short_side, max(1, round(height * scale))
    return max(1, round(width * scale)), short_side


def decode_frames(
    path: str | os.PathLike,
    *,
    frame_rate: float | None = None,
    short_side: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Decode every frame of a video, or resample it to a fixed rate.

    The file is decoded once, from start to end; only the frames returned
    are converted to RGB.

    Parameters
    ----------
    path : str or PathLike
        Video file (any container and codec FFmpeg reads).
    frame_rate : float > 0 or None
        None returns every frame at its own time. Otherwise the frame shown
        at each time ``k / frame_rate`` (k = 0, 1, ...) before the end of
        the video: the last frame that starts at or before it (the first
        frame for times before it starts).
    short_side : int > 0 or None
        Resize so the shorter side has this many pixels, keeping the aspect
        ratio. None keeps the stored size.

    Returns
    -------
    frames : np.ndarray [shape=(n, height, width, 3), dtype=uint8]
        RGB frames.
    times : np.ndarray [shape=(n,), dtype=float64]
        Seconds from the start of the file: each frame's presentation time,
        or ``k / frame_rate`` when resampling.

    Raises
    ------
    VideoError
        The file is unreadable, has no video stream, decodes no frame, or
        fails mid-way (corrupt or truncated).
    ParameterError
        ``frame_rate`` or ``short_side`` is out of its domain.
    """
    _check_rate(frame_rate)
    _check_short_side(short_side)
    av = _pyav()
    frames: list[np.ndarray] = []
    times: list[float] = []
    with open_video(path) as (container, checked):
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        size = output_size(stream.codec_context.width, stream.codec_context.height, short_side)
        origin = start_time_s(container)
        held = _HeldFrame(size)  # the frame on screen so far, converted at most once
        k = 0  # index of the next sampling time k / frame_rate
        try:
            for frame in container.decode(stream):
                time = _frame_time(frame, held.time, stream)
                if frame_rate is None:
                    frames.append(_to_rgb(frame, size))
                    times.append(time - origin)
                shown_from = time - origin - _EPS_S  # earlier times still show the held frame
                while frame_rate and held.frame is not None and k / frame_rate < shown_from:
                    frames.append(held.rgb())
                    times.append(k / frame_rate)
                    k += 1
                held.hold(frame, time)
        except av.FFmpegError as err:
            raise VideoError(
                f"{checked}: decoding failed after {len(frames)} frames ({err}); the file is "
                "corrupt or truncated. Re-download or re-encode it."
            ) from err
        if held.frame is None:
            raise VideoError(f"{checked}: no video frame could be decoded. Re-encode the file.")
        end = held.time - origin + _frame_duration(held.frame, stream)
        while frame_rate and k / frame_rate < end:
            frames.append(held.rgb())
            times.append(k / frame_rate)
            k += 1
    return np.stack(frames), np.asarray(times, dtype=np.float64)


class _HeldFrame:
    """The last decoded frame and its time; its RGB array is made once, on demand."""

    def __init__(self, size: tuple[int, int]) -> None:
        self.size, self.frame, self.time, self._rgb = size, None, None, None

    def hold(self, frame, time: float) -> None:
        self.frame, self.time, self._rgb = frame, time, None

    def rgb(self) -> np.ndarray:
        if self._rgb is None:
            self._rgb = _to_rgb(self.frame, self.size)
        return self._rgb


def read_frame_at(
    path: str | os.PathLike, time_s: float, *, short_side: int | None = None
) -> np.ndarray:
    """Decode the single frame shown at ``time_s``.

    Seeks to the keyframe before ``time_s`` and decodes forward.

    Parameters
    ----------
    path : str or PathLike
        Video file.
    time_s : float >= 0
        Seconds from the start of the file (as :func:`decode_frames` counts).
    short_side : int > 0 or None
        Resize so the shorter side has this many pixels (see
        :func:`decode_frames`).

    Returns
    -------
    np.ndarray [shape=(height, width, 3), dtype=uint8]
        The last frame that starts at or before ``time_s`` (the first frame
        when ``time_s`` precedes it).

    Raises
    ------
    VideoError
        The file is unreadable, or ``time_s`` is past its last frame.
    ParameterError
        ``time_s`` or ``short_side`` is out of its domain.
    """
    if not isinstance(time_s, Real) or not math.isfinite(time_s) or time_s < 0:
        raise ParameterError(f"time_s must be a finite number of seconds >= 0, got {time_s!r}.")
    _check_short_side(short_side)
    av = _pyav()
    with open_video(path) as (container, checked):
        stream = container.streams.video[0]
        size = output_size(stream.codec_context.width, stream.codec_context.height, short_side)
        origin = start_time_s(container)
        target = time_s + origin
        try:
            container.seek(max(0, math.floor(target / stream.time_base)), stream=stream)
            chosen, overshot = _frame_shown_at(container, stream, target)
            if overshot and chosen[1] > _first_time(stream) + _EPS_S:
                container.seek(0)  # the seek landed after the target: decode from the start
                chosen, _ = _frame_shown_at(container, stream, target)
        except av.FFmpegError as err:
            raise VideoError(
                f"{checked}: decoding near {time_s:.3f} s failed ({err}); the file is corrupt "
                "or truncated. Re-download or re-encode it."
            ) from err
        if chosen is None:
            raise VideoError(f"{checked}: no video frame could be decoded. Re-encode the file.")
        frame, frame_time = chosen
        end = frame_time - origin + _frame_duration(frame, stream)
        if time_s >= end - _EPS_S:
            raise VideoError(
                f"{checked}: no frame at {time_s:.3f} s; the video ends at {end:.3f} s. "
                "Ask for a time within the video."
            )
        return _to_rgb(frame, size)


def _frame_shown_at(container, stream, target: float) -> tuple[tuple | None, bool]:
    """Decode forward to the frame shown at ``target`` s (file clock).

    Returns ``((frame, time) or None, overshot)``, ``overshot`` being True
    when the first frame decoded already starts after ``target`` (it is then
    the frame returned).
    """
    previous = None
    for frame in container.decode(stream):
        time = _frame_time(frame, None if previous is None else previous[1], stream)
        if time > target + _EPS_S:
            return (previous, False) if previous is not None else ((frame, time), True)
        previous = (frame, time)
    return previous, False


def _first_time(stream) -> float:
    """Start time of ``stream`` in seconds (0 when unknown)."""
    if stream.start_time is None or stream.time_base is None:
        return 0.0
    return float(stream.start_time * stream.time_base)


def _frame_time(frame, previous_time: float | None, stream) -> float:
    """A frame's presentation time in seconds; one frame after the previous if unstamped."""
    if frame.time is not None:
        return float(frame.time)
    if previous_time is None:
        return _first_time(stream)
    return previous_time + _frame_duration(frame, stream)


def _frame_duration(frame, stream) -> float:
    """How long a frame is shown, in seconds: its own duration, else 1 / the stream's rate."""
    duration = getattr(frame, "duration", None)
    if duration and frame.time_base is not None:
        return float(duration * frame.time_base)
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    return 1.0 / float(rate) if rate else 0.0


def _to_rgb(frame, size: tuple[int, int]) -> np.ndarray:
    """RGB uint8 array (height, width, 3) of ``frame`` at ``size`` = (width, height)."""
    width, height = size
    if (width, height) == (frame.width, frame.height):
        return frame.to_ndarray(format="rgb24")
    return frame.to_ndarray(
        format="rgb24", width=width, height=height, interpolation=RESIZE_INTERPOLATION
    )


def _check_rate(frame_rate: float | None) -> None:
    if frame_rate is None:
        return
    if not isinstance(frame_rate, Real) or not math.isfinite(frame_rate) or frame_rate <= 0:
        raise ParameterError(
            f"frame_rate must be a positive number of fps or None, got {frame_rate!r}."
        )


def _check_short_side(short_side: int | None) -> None:
    if short_side is None:
        return
    if not isinstance(short_side, Integral) or isinstance(short_side, bool) or short_side <= 0:
        raise ParameterError(
            f"short_side must be a positive whole number of pixels or None, got {short_side!r}."
        )
