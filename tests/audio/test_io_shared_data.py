"""Tests for l3_kedro.audio.io on the real files in ../shared/data.

Skipped where that folder does not exist (it is not part of the project);
the top-level ``shared_data`` fixture finds it.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from l3_kedro.audio import audio_info, load_audio
from l3_kedro.errors import AudioError

FSDD_WAV = Path("fsdd", "recordings", "0_george_0.wav")
US8K_FOLD1 = Path("urbansound8k_subset", "audio", "fold1")
VIDEOS_WITH_AUDIO = [
    "big_buck_bunny_0_30.webm",
    "big_buck_bunny_432_433.webm",
    "chaplin.mp4",
    "example2.mp4",
    "example3.mp4",
]
# Declared (container) and decoded durations of these lossy tracks differ by
# up to about 16 ms (vorbis in webm).
LOSSY_LENGTH_TOLERANCE_S = 0.05

pytestmark = pytest.mark.shared_data


def test_fsdd_wav_at_8khz(shared_data):
    path = shared_data / FSDD_WAV
    info = audio_info(path)
    audio, _ = load_audio(path)
    assert (info.sample_rate, info.channels, info.format) == (8_000, 1, "wav")
    assert audio.shape == (info.n_frames,)
    assert np.abs(audio).max() <= 1.0
    resampled, new_sr = load_audio(path, sr=48_000)
    assert new_sr == 48_000
    assert resampled.size == 6 * audio.size


def test_urbansound8k_flac(shared_data):
    path = sorted((shared_data / US8K_FOLD1).glob("*.flac"))[0]
    info = audio_info(path)
    audio, sr = load_audio(path)
    assert (info.sample_rate, info.format) == (22_050, "flac")
    assert info.duration_s == pytest.approx(4.0)
    assert audio.shape == (info.n_frames,)
    assert sr == 22_050


@pytest.mark.parametrize("name", VIDEOS_WITH_AUDIO)
def test_video_sound_tracks_decode(shared_data, name):
    path = shared_data / "video" / name
    info = audio_info(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        audio, sr = load_audio(path, mono=False)
    assert (sr, audio.shape[0]) == (info.sample_rate, info.channels) == (44_100, 2)
    assert audio.dtype == np.float32
    assert np.isfinite(audio).all()
    assert np.abs(audio).max() > 0.0
    assert audio.shape[1] / sr == pytest.approx(info.duration_s, abs=LOSSY_LENGTH_TOLERANCE_S)


def test_one_second_crop_of_a_long_video(shared_data):
    path = shared_data / "video" / "big_buck_bunny_0_30.webm"
    crop, sr = load_audio(path, offset=12.3, duration=1.0, sr=48_000)
    assert (crop.shape, sr) == ((48_000,), 48_000)


@pytest.mark.parametrize("read", [load_audio, audio_info])
def test_video_without_audio_stream(shared_data, read):
    path = shared_data / "video" / "no_audio_stream.mp4"
    with pytest.raises(AudioError, match="no audio stream") as caught:
        read(path)
    assert path.name in str(caught.value)
