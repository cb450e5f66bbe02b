"""Header reading and decoding with soundfile (libsndfile): wav, flac, ogg.

Private backend of :mod:`l3_kedro.audio.io`; every libsndfile failure leaves
this module as an :class:`~l3_kedro.errors.AudioError`, except a format that
libsndfile does not recognise, which raises :class:`UnsupportedBySoundfile`
so that the caller can try FFmpeg instead.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import soundfile as sf

from l3_kedro.errors import AudioError

# libsndfile error codes meaning "not a format I know" rather than "broken".
_SF_ERR_UNRECOGNISED_FORMAT = 1
_SF_ERR_UNSUPPORTED_ENCODING = 4

# libsndfile logs "data : <declared> (should be <present>)" when a WAV file's
# data chunk is shorter than its header says, then silently reads less.
_WAV_DATA_LOG = re.compile(r"^data\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)
# Size fields that streaming writers use for "unknown length".
_WAV_UNKNOWN_SIZES = frozenset({0, 0xFFFFFFFF, 0x7FFFFFFF})


class UnsupportedBySoundfile(Exception):
    """libsndfile does not recognise the file's format (try another decoder)."""


def read_info(path: Path) -> tuple[int, int, int, str]:
    """Read a file's header.

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
        Number of samples per channel.
    format : str
        libsndfile's major format in lower case (``"wav"``, ``"flac"``, ...).
    """
    with _open(path) as handle:
        return handle.samplerate, handle.channels, handle.frames, handle.format.lower()


def read_audio(path: Path, *, offset: float, duration: float | None) -> tuple[np.ndarray, int]:
    """Decode a file, or the part of it that starts at `offset` seconds.

    Parameters
    ----------
    path : Path
        An existing, non-empty file.
    offset : float >= 0
        Start of the excerpt in seconds.
    duration : float > 0 or None
        Length of the excerpt in seconds; None reads to the end.

    Returns
    -------
    audio : np.ndarray [shape=(channels, n), dtype=float32]
        Samples in [-1, 1] (integer formats are scaled by libsndfile); may be
        empty when `offset` lies beyond the end.
    sample_rate : int
        Sampling rate in Hz.
    """
    with _open(path) as handle:
        sample_rate = handle.samplerate
        start = min(round(offset * sample_rate), handle.frames)
        n_read = -1 if duration is None else round(duration * sample_rate)
        try:
            handle.seek(start)
            audio = handle.read(frames=n_read, dtype="float32", always_2d=True)
        except (sf.SoundFileError, RuntimeError) as err:
            raise AudioError(
                f"{path}: decoding failed ({err}); the file is corrupt or "
                "truncated. Re-download or re-encode it."
            ) from err
    return np.ascontiguousarray(audio.T), sample_rate


def _open(path: Path) -> sf.SoundFile:
    """Open `path` for reading, turning libsndfile failures into AudioError."""
    try:
        handle = sf.SoundFile(path)
    except sf.LibsndfileError as err:
        if err.code in (_SF_ERR_UNRECOGNISED_FORMAT, _SF_ERR_UNSUPPORTED_ENCODING):
            raise UnsupportedBySoundfile(err.error_string) from err
        raise AudioError(
            f"{path}: cannot be opened as audio ({err.error_string.rstrip('.')}); "
            "the file is corrupt or truncated. Re-download or re-encode it."
        ) from err
    except (sf.SoundFileError, RuntimeError) as err:
        raise AudioError(
            f"{path}: cannot be opened as audio ({err}). Check that it is a readable audio file."
        ) from err
    if handle.format == "WAV":
        _check_wav_complete(handle, path)
    return handle


def _check_wav_complete(handle: sf.SoundFile, path: Path) -> None:
    """Raise AudioError when a WAV file holds less data than its header says."""
    match = _WAV_DATA_LOG.search(handle.extra_info)
    if match is None:
        return
    declared, present = int(match.group(1)), int(match.group(2))
    if declared in _WAV_UNKNOWN_SIZES or present >= declared:
        return
    handle.close()
    raise AudioError(
        f"{path}: truncated WAV file (header declares {declared} bytes of "
        f"audio data, only {present} are present). Re-download or re-encode it."
    )
