"""Check that a video can feed audio-visual correspondence: picture, sound, length.

The sound may be in the container or in a side-car audio file (AudioSet
downloaders save one video and one audio file per segment). Every reason a
video cannot be used raises :class:`~l3_kedro.errors.VideoError` naming the
file and what to do.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass
from numbers import Real
from pathlib import Path

from l3_kedro.audio import audio_info, load_audio
from l3_kedro.audio._av import _pyav
from l3_kedro.errors import AudioError, AudioWarning, ParameterError, VideoError
from l3_kedro.video.frames import (
    _frame_duration,
    _frame_time,
    checked_video_path,
    open_video,
    start_time_s,
)

# The last decoded frame may end this much (seconds, or two frames, whichever
# is more) before the declared duration before the file counts as truncated.
_TRUNCATION_TOLERANCE_S = 0.5
# Decoding near the end starts this many seconds before the declared end.
_TAIL_S = 1.0


@dataclass(frozen=True)
class VideoInfo:
    """What a usable video holds.

    Attributes
    ----------
    video_path : Path
        The video file.
    audio_path : Path
        Where its sound is: ``video_path`` itself, or the side-car file.
    duration_s : float
        Usable length in seconds: the shorter of picture and sound.
    frame_rate : float
        Average frames per second.
    width, height : int
        Stored frame size in pixels.
    n_frames : int
        Number of frames: from the header where it states one, else
        estimated as video duration x frame rate.
    sample_rate : int
        Sampling rate of the sound in Hz.
    channels : int
        Number of audio channels.
    video_codec, audio_codec : str
        FFmpeg codec names (``"h264"``, ``"vp8"``, ``"mp3float"``, ``"vorbis"`` ...).
    video_duration_s, audio_duration_s : float
        Length of the picture and of the sound in seconds (decoded when
        probing with ``decode=True``, else from the headers).
    """

    video_path: Path
    audio_path: Path
    duration_s: float
    frame_rate: float
    width: int
    height: int
    n_frames: int
    sample_rate: int
    channels: int
    video_codec: str
    audio_codec: str
    video_duration_s: float
    audio_duration_s: float


def probe_video(
    path: str | os.PathLike,
    *,
    audio_path: str | os.PathLike | None = None,
    min_duration: float = 1.0,
    decode: bool = True,
) -> VideoInfo:
    """Read a video's headers and check it can be used.

    Parameters
    ----------
    path : str or PathLike
        Video file (mp4, webm, mkv ...).
    audio_path : str or PathLike or None
        Side-car audio file holding the sound; None uses the container's
        first audio stream.
    min_duration : float >= 0
        Shortest usable length in seconds (of the shorter of picture and
        sound), with half a frame of slack: a 1 s clip whose last frame
        ends at 0.999 s passes ``min_duration=1``.
    decode : bool
        Also decode the first frame, the frames of the last second and the
        whole sound track, catching corrupt and truncated files. False reads
        headers only.

    Returns
    -------
    VideoInfo

    Raises
    ------
    VideoError
        The file is missing, empty, not decodable, corrupt or truncated; it
        has no video stream; it has no audio stream and no side-car is
        given; the side-car is unusable; a frame near the start or end
        cannot be decoded; or it is shorter than ``min_duration``.
    ParameterError
        ``min_duration`` is not a finite number >= 0.
    """
    if not isinstance(min_duration, Real) or not math.isfinite(min_duration) or min_duration < 0:
        raise ParameterError(
            f"min_duration must be a finite number of seconds >= 0, got {min_duration!r}."
        )
    with open_video(path) as (container, checked):
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        if not (width and height):
            raise VideoError(f"{checked}: the video stream has no frame size; re-encode it.")
        frame_rate = _frame_rate(stream, checked)
        audio_codec = None
        if audio_path is None:
            if not container.streams.audio:
                raise VideoError(
                    f"{checked}: no audio stream in the file, and no side-car audio file was "
                    "given. Provide one (ingest.avc.audio_pattern, or an audio_path column) "
                    "or use a video with a sound track."
                )
            audio_codec = container.streams.audio[0].codec_context.name
        declared_s, own_duration = _declared_duration(container, stream)
        video_s = declared_s
        if decode:
            video_s = _check_frames(container, stream, checked, declared_s=declared_s)
            if (
                declared_s is not None
                and declared_s - video_s > max(_TRUNCATION_TOLERANCE_S, 2 / frame_rate)
                and (own_duration or not container.streams.audio)
            ):
                raise VideoError(
                    f"{checked}: frames stop at {video_s:.2f} s but the file declares "
                    f"{declared_s:.2f} s; it is truncated. Re-download or re-encode it."
                )
        if video_s is None:
            raise VideoError(
                f"{checked}: the header states no duration; probe it with decode=True "
                "(ingest probe 'decode') or re-encode it."
            )
        n_frames = stream.frames if stream.frames > 0 else round(video_s * frame_rate)
        video_codec = stream.codec_context.name
    if audio_path is None:
        sound = checked
    else:
        sound = _checked_side_car(audio_path, checked)
        audio_codec = _audio_codec(sound, checked)
    sample_rate, channels, audio_s = _probe_sound(sound, checked, decode=decode)
    duration_s = min(video_s, audio_s)
    if duration_s + 0.5 / frame_rate < min_duration:  # frames quantise the length
        raise VideoError(
            f"{checked}: only {duration_s:.2f} s long (picture {video_s:.2f} s, sound "
            f"{audio_s:.2f} s), shorter than min_duration = {min_duration} s. Leave it out "
            "or lower min_duration."
        )
    return VideoInfo(
        video_path=checked,
        audio_path=sound,
        duration_s=duration_s,
        frame_rate=frame_rate,
        width=int(width),
        height=int(height),
        n_frames=int(n_frames),
        sample_rate=sample_rate,
        channels=channels,
        video_codec=video_codec,
        audio_codec=audio_codec,
        video_duration_s=video_s,
        audio_duration_s=audio_s,
    )


def _frame_rate(stream, path: Path) -> float:
    """Average frame rate in fps, else the guessed or base rate; VideoError if none."""
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return float(rate)
    raise VideoError(f"{path}: the video stream states no frame rate; re-encode it.")


def _declared_duration(container, stream) -> tuple[float | None, bool]:
    """(Declared length of the picture in seconds from the file's start, whether the
    video stream states it itself rather than the container)."""
    origin = start_time_s(container)
    if stream.duration is not None and stream.time_base is not None:
        start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
        return start + float(stream.duration * stream.time_base) - origin, True
    if container.duration is not None:
        return container.duration / _pyav().time_base, False
    return None, False


def _check_frames(container, stream, path: Path, *, declared_s: float | None) -> float:
    """Decode the first frame and the last second; return where the picture ends (s)."""
    av = _pyav()
    origin = start_time_s(container)
    where = "the first frame"
    try:
        first = next(iter(container.decode(stream)), None)
        if first is None:
            raise VideoError(f"{path}: no video frame could be decoded. Re-encode the file.")
        where = "the frames of the last second"
        if declared_s is not None and declared_s > _TAIL_S:
            target = declared_s - _TAIL_S + origin
            container.seek(max(0, math.floor(target / stream.time_base)), stream=stream)
        else:
            container.seek(0)
        last = last_time = None
        for frame in container.decode(stream):
            last, last_time = frame, _frame_time(frame, last_time, stream)
    except av.FFmpegError as err:
        raise VideoError(
            f"{path}: {where} cannot be decoded ({err}); the file is corrupt or truncated. "
            "Re-download or re-encode it."
        ) from err
    if last is None:
        raise VideoError(
            f"{path}: no frame decodes near the end; the file is corrupt or truncated. "
            "Re-download or re-encode it."
        )
    return last_time - origin + _frame_duration(last, stream)


def _checked_side_car(audio_path: str | os.PathLike, video: Path) -> Path:
    """The side-car audio file as a Path; VideoError if it is missing or empty."""
    try:
        return checked_video_path(audio_path)
    except VideoError as err:
        raise VideoError(
            f"{video}: its side-car audio file '{audio_path}' cannot be used: it is missing "
            "or empty. Download it again, or fix ingest.avc.audio_pattern."
        ) from err


def _audio_codec(path: Path, video: Path) -> str:
    """FFmpeg's codec name of the first audio stream of ``path``."""
    av = _pyav()
    try:
        with av.open(str(path), mode="r") as container:
            if container.streams.audio:
                return container.streams.audio[0].codec_context.name
    except (av.FFmpegError, UnicodeDecodeError) as err:
        raise VideoError(
            f"{video}: its side-car audio file '{path}' is not readable audio ({err}). "
            "Download it again."
        ) from err
    raise VideoError(f"{video}: its side-car audio file '{path}' holds no audio stream.")


def _probe_sound(sound: Path, video: Path, *, decode: bool) -> tuple[int, int, float]:
    """(sample rate in Hz, channels, length in s) of the sound, decoded when ``decode``."""
    what = "its sound track" if sound == video else f"its side-car audio file '{sound}'"
    try:
        info = audio_info(sound)
        if not decode:
            return info.sample_rate, info.channels, info.duration_s
        with warnings.catch_warnings():
            warnings.simplefilter("error", AudioWarning)
            audio, sample_rate = load_audio(sound, mono=False)
    except (AudioError, AudioWarning) as err:
        raise VideoError(f"{video}: {what} cannot be used: {err}") from err
    return int(sample_rate), int(audio.shape[0]), audio.shape[1] / sample_rate
