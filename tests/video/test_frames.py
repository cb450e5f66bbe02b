"""Decoding frames: shapes, times, resampling and resizing (frame k of the fixture is grey 10 k)."""

from __future__ import annotations

import numpy as np
import pytest

from l3_kedro.errors import ParameterError, VideoError
from l3_kedro.video import decode_frames, read_frame_at


def _frame_index(frames: np.ndarray) -> np.ndarray:
    """Which fixture frame each decoded frame is, from its grey level."""
    return np.rint(frames.reshape(len(frames), -1).mean(axis=1) / 10).astype(int)


def test_every_frame_with_its_time(tiny_video):
    frames, times = decode_frames(tiny_video)
    assert frames.shape == (20, 24, 32, 3) and frames.dtype == np.uint8
    np.testing.assert_allclose(times, np.arange(20) / 10, atol=1e-9)
    np.testing.assert_array_equal(_frame_index(frames), np.arange(20))


@pytest.mark.parametrize("rate", [4.0, 3.0, 25.0])
def test_resampling_picks_the_frame_shown_at_each_time(tiny_video, rate):
    frames, times = decode_frames(tiny_video, frame_rate=rate)
    expected_times = np.arange(0, 2.0 - 1e-9, 1 / rate)
    np.testing.assert_allclose(times, expected_times, atol=1e-9)
    np.testing.assert_array_equal(_frame_index(frames), np.floor(expected_times * 10 + 1e-9))


def test_short_side_keeps_the_aspect(tiny_video, make_video, tmp_path):
    frames, _ = decode_frames(tiny_video, short_side=12, frame_rate=2)
    assert frames.shape == (4, 12, 16, 3)
    portrait = make_video(tmp_path / "portrait.mp4", size=(24, 40), sample_rate=None)
    frames, _ = decode_frames(portrait, short_side=12)
    assert frames.shape == (20, 20, 12, 3)
    np.testing.assert_array_equal(_frame_index(frames), np.arange(20))


def test_read_frame_at(tiny_video):
    assert _frame_index(read_frame_at(tiny_video, 0.0)[None])[0] == 0
    assert _frame_index(read_frame_at(tiny_video, 0.55)[None])[0] == 5
    assert _frame_index(read_frame_at(tiny_video, 1.95)[None])[0] == 19
    assert read_frame_at(tiny_video, 1.0, short_side=6).shape == (6, 8, 3)
    with pytest.raises(VideoError, match=r"no frame at 2.500 s; the video ends at 2.000 s"):
        read_frame_at(tiny_video, 2.5)


@pytest.mark.shared_data
def test_real_video_frames(shared_data):
    path = shared_data / "video" / "chaplin.mp4"
    frames, times = decode_frames(path, frame_rate=5, short_side=64)
    assert frames.shape == (49, 64, 114, 3)  # 9.64 s of 640x360 at 5 fps
    np.testing.assert_allclose(times, np.arange(49) / 5)
    all_frames, all_times = decode_frames(path, short_side=64)
    assert all_frames.shape == (241, 64, 114, 3) and all_times[1] == pytest.approx(0.04)
    # a seek lands on the same picture as the sequential decode
    np.testing.assert_array_equal(read_frame_at(path, 6.1, short_side=64), all_frames[152])
    webm = shared_data / "video" / "big_buck_bunny_0_30.webm"
    frames, times = decode_frames(webm, frame_rate=0.5, short_side=32)
    assert frames.shape == (16, 32, 57, 3) and times[-1] == 30.0


def test_bad_arguments(tiny_video, tmp_path):
    for kwargs in ({"frame_rate": 0}, {"frame_rate": float("inf")}, {"short_side": 0}):
        with pytest.raises(ParameterError):
            decode_frames(tiny_video, **kwargs)
    with pytest.raises(ParameterError, match=r"time_s"):
        read_frame_at(tiny_video, -1.0)
    with pytest.raises(VideoError, match=r"video file not found"):
        decode_frames(tmp_path / "absent.mp4")
