"""Read audio files and video sound tracks; resample audio.

wav, flac, ogg (and aiff) are read with soundfile; mp3, video containers
(mp4, webm, mkv, mov, ...) and anything else with PyAV (FFmpeg). A file with
a soundfile suffix that libsndfile does not recognise is handed to FFmpeg.
Every failure raises :class:`~l3_kedro.errors.AudioError` naming the file.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soxr

from l3_kedro.audio import _av, _sndfile
from l3_kedro.errors import AudioError, ParameterError

SOUNDFILE_SUFFIXES = frozenset({".wav", ".flac", ".ogg", ".oga", ".aif", ".aiff"})
RESAMPLE_QUALITY = "VHQ"


@dataclass(frozen=True)
class AudioInfo:
    """What a file's header says about its audio.

    Attributes
    ----------
    path : Path
        The file.
    sample_rate : int
        Sampling rate in Hz.
    channels : int
        Number of channels.
    n_frames : int
        Number of samples per channel. Exact for wav/flac/ogg; for lossy
        containers taken from metadata, so it may differ from the decoded
        length by a few codec frames (encoder delay and padding).
    duration_s : float
        ``n_frames / sample_rate`` in seconds.
    format : str
        Container format: libsndfile's in lower case (``"wav"``, ``"flac"``,
        ``"ogg"``) or FFmpeg's demuxer name (``"mp3"``, ``"matroska,webm"``,
        ``"mov,mp4,m4a,3gp,3g2,mj2"``).
    """

    path: Path
    sample_rate: int
    channels: int
    n_frames: int
    duration_s: float
    format: str


def audio_info(path: str | os.PathLike) -> AudioInfo:
    """Read an audio file's (or a video's sound track's) metadata.

    Only the header is read, except for a container that states no duration,
    whose audio is then decoded to count the samples.

    Parameters
    ----------
    path : str or PathLike
        Audio or video file.

    Returns
    -------
    AudioInfo
        Sample rate, channels, length and format. A file with zero samples is
        reported as such (``n_frames == 0``); :func:`load_audio` rejects it.

    Raises
    ------
    AudioError
        The file is missing, empty, not audio, corrupt, or has no audio stream.
    """
    checked = _checked_path(path)
    if checked.suffix.lower() in SOUNDFILE_SUFFIXES:
        try:
            sample_rate, channels, n_frames, fmt = _sndfile.read_info(checked)
        except _sndfile.UnsupportedBySoundfile as err:
            sample_rate, channels, n_frames, fmt = _via_ffmpeg(_av.read_info, checked, err)
    else:
        sample_rate, channels, n_frames, fmt = _av.read_info(checked)
    return AudioInfo(
        path=checked,
        sample_rate=int(sample_rate),
        channels=int(channels),
        n_frames=int(n_frames),
        duration_s=n_frames / sample_rate,
        format=fmt,
    )


def load_audio(
    path: str | os.PathLike,
    *,
    sr: int | None = None,
    mono: bool = True,
    offset: float = 0.0,
    duration: float | None = None,
    dtype: npt.DTypeLike = np.float32,
) -> tuple[np.ndarray, int]:
    """Decode an audio file, or the sound track of a video, to floats.

    Parameters
    ----------
    path : str or PathLike
        wav, flac, ogg, mp3, or a video / audio container FFmpeg reads (mp4,
        m4a, webm, mkv, ...). Of a container the first audio stream is used.
    sr : int > 0 or None
        Target sampling rate in Hz; the audio is resampled with soxr (very
        high quality) when it differs. None keeps the file's rate.
    mono : bool
        If True, average the channels.
    offset : float >= 0
        Start of the excerpt to load, in seconds from the first decoded
        sample (at the file's rate, before resampling).
    duration : float > 0 or None
        Length of the excerpt in seconds; None loads to the end. An excerpt
        running past the end is returned shorter, not padded.
    dtype : float32 or float64
        Floating-point type of the samples.

    Returns
    -------
    audio : np.ndarray [shape=(n,) if mono else (channels, n)]
        Samples at full scale 1.0, i.e. in [-1, 1] up to the slight
        overshoot that lossy decoders and resampling can produce (not
        clipped).
    sr : int
        Sampling rate of `audio` in Hz.

    Raises
    ------
    AudioError
        The file is missing, empty, not audio, corrupt or truncated, has no
        audio stream, holds no samples (in the excerpt), or holds NaN/Inf.
    ParameterError
        `sr`, `offset`, `duration` or `dtype` is out of its domain.
    """
    checked = _checked_path(path)
    out_dtype = _float_dtype(dtype)
    _check_excerpt(offset, duration)
    if sr is not None and (not isinstance(sr, Integral) or isinstance(sr, bool) or sr <= 0):
        raise ParameterError(f"sr must be a positive integer in Hz or None, got {sr!r}.")
    audio, native_sr = _read(checked, offset=offset, duration=duration)
    _check_samples(audio, checked, offset=offset, duration=duration)
    audio = audio.astype(out_dtype, copy=False)
    if mono:
        audio = audio.mean(axis=0, dtype=out_dtype)
    if sr is not None and sr != native_sr:
        return resample(audio, native_sr, sr), int(sr)
    return audio, int(native_sr)


def resample(audio: np.ndarray, orig_sr: float, target_sr: float) -> np.ndarray:
    """Resample audio with soxr (very high quality).

    Parameters
    ----------
    audio : np.ndarray [shape=(n,) or (channels, n), floating]
        Samples along the last axis.
    orig_sr : float > 0
        Sampling rate of `audio` in Hz.
    target_sr : float > 0
        Wanted sampling rate in Hz.

    Returns
    -------
    np.ndarray [shape=(m,) or (channels, m)]
        Resampled audio, ``m ≈ n * target_sr / orig_sr`` (soxr's length);
        float32 stays float32, other floating types come back as float64.
        A copy of `audio` when the rates are equal.

    Raises
    ------
    ParameterError
        A rate is not a positive finite number.
    AudioError
        `audio` is not a 1-D or 2-D floating-point array.
    """
    for name, rate in (("orig_sr", orig_sr), ("target_sr", target_sr)):
        if not isinstance(rate, Real) or isinstance(rate, bool) or not 0 < rate < math.inf:
            raise ParameterError(f"{name} must be a positive number in Hz, got {rate!r}.")
    audio = np.asarray(audio)
    if audio.ndim not in (1, 2) or not np.issubdtype(audio.dtype, np.floating):
        raise AudioError(
            f"resample expects a 1-D or (channels, n) floating-point array, got "
            f"shape {audio.shape} of {audio.dtype}. Convert it with "
            "audio.astype(np.float32) (scaling integer PCM to [-1, 1])."
        )
    if orig_sr == target_sr:
        return audio.copy()
    if audio.dtype not in (np.float32, np.float64):
        audio = audio.astype(np.float64)
    if audio.ndim == 1:
        return soxr.resample(
            np.ascontiguousarray(audio), orig_sr, target_sr, quality=RESAMPLE_QUALITY
        )
    frames_first = np.ascontiguousarray(audio.T)
    out = soxr.resample(frames_first, orig_sr, target_sr, quality=RESAMPLE_QUALITY)
    return np.ascontiguousarray(out.T)


def _checked_path(path: str | os.PathLike) -> Path:
    """Return `path` as a Path after checking it is a non-empty file."""
    checked = Path(path)
    if not checked.exists():
        raise AudioError(f"{checked}: audio file not found. Check the path.")
    if not checked.is_file():
        raise AudioError(f"{checked}: not a regular file. Pass the path of an audio file.")
    if checked.stat().st_size == 0:
        raise AudioError(
            f"{checked}: the file is empty (0 bytes); an interrupted download or "
            "copy? Re-download or regenerate it."
        )
    return checked


def _read(path: Path, *, offset: float, duration: float | None) -> tuple[np.ndarray, int]:
    """Decode `path` with the backend its suffix calls for: (channels, n), rate."""
    if path.suffix.lower() in SOUNDFILE_SUFFIXES:
        try:
            return _sndfile.read_audio(path, offset=offset, duration=duration)
        except _sndfile.UnsupportedBySoundfile as err:
            return _via_ffmpeg(_av.read_audio, path, err, offset=offset, duration=duration)
    return _av.read_audio(path, offset=offset, duration=duration)


def _via_ffmpeg(reader, path: Path, sndfile_error: Exception, **kwargs):
    """Call an FFmpeg `reader` on a file libsndfile did not recognise."""
    try:
        return reader(path, **kwargs)
    except AudioError as err:
        raise AudioError(
            f"{path}: not a recognised audio file (libsndfile: "
            f"{str(sndfile_error).rstrip('.')}; FFmpeg cannot read it either). "
            "Check that the file is audio and not corrupt."
        ) from err


def _check_excerpt(offset: float, duration: float | None) -> None:
    """Raise ParameterError unless offset >= 0 and duration is None or > 0."""
    if not isinstance(offset, Real) or not math.isfinite(offset) or offset < 0:
        raise ParameterError(f"offset must be a finite number of seconds >= 0, got {offset!r}.")
    if duration is None:
        return
    if not isinstance(duration, Real) or not math.isfinite(duration) or duration <= 0:
        raise ParameterError(
            f"duration must be a finite number of seconds > 0 or None, got {duration!r}."
        )


def _check_samples(audio: np.ndarray, path: Path, *, offset: float, duration: float | None) -> None:
    """Raise AudioError if `audio` is empty or holds NaN or Inf."""
    if audio.shape[-1] == 0:
        where = "" if offset == 0 and duration is None else f" from {offset} s on"
        raise AudioError(
            f"{path}: holds no audio samples{where} (zero-length audio). Use a "
            "file with sound in it, or an offset before its end."
        )
    finite = np.isfinite(audio)
    if not finite.all():
        first = int(np.argmin(finite.all(axis=0)))
        raise AudioError(
            f"{path}: holds NaN or Inf samples (first at sample {first}). Repair "
            "or regenerate the file."
        )


def _float_dtype(dtype: npt.DTypeLike) -> np.dtype:
    """Return `dtype` as float32 or float64, else raise ParameterError."""
    try:
        checked = np.dtype(dtype)
    except TypeError as err:
        raise ParameterError(f"dtype must be float32 or float64, got {dtype!r}.") from err
    if checked not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ParameterError(f"dtype must be float32 or float64, got {dtype!r}.")
    return checked
