import numpy as np
import pytest

from l3_kedro.avc.sampling import (
    WINDOW_S,
    crop_audio,
    crop_image,
    crop_start,
    frame_index_at,
    frame_index_inside,
    plan_pairs,
)
from l3_kedro.errors import ParameterError


def _plan(rng, n_pairs=2000):
    durations = np.array([3.0, 10.0, 1.0, 5.5, 8.0])
    return plan_pairs(rng, videos=np.arange(5), durations=durations, n_pairs=n_pairs), durations


def test_half_the_pairs_are_positive(rng):
    plan, _ = _plan(rng, n_pairs=65)
    assert plan.label.sum() == 32


def test_positives_overlap_in_time(rng):
    plan, durations = _plan(rng)
    pos = plan.label == 1
    assert np.all(plan.image_video[pos] == plan.audio_video[pos])
    assert np.all(plan.image_time[pos] >= plan.audio_start[pos])
    assert np.all(plan.image_time[pos] < plan.audio_start[pos] + WINDOW_S)
    assert np.all(plan.audio_start + WINDOW_S <= durations[plan.audio_video] + 1e-9)


def test_negatives_come_from_another_video(rng):
    plan, durations = _plan(rng)
    neg = plan.label == 0
    assert np.all(plan.image_video[neg] != plan.audio_video[neg])
    assert np.all(plan.image_time[neg] < durations[plan.image_video[neg]])
    # every other video is used as a negative's frame source
    assert set(plan.image_video[neg]) == set(range(5))


def test_one_video_cannot_make_negatives(rng):
    with pytest.raises(ParameterError, match="two distinct videos"):
        plan_pairs(rng, videos=np.array([1, 1]), durations=np.ones(3) * 5, n_pairs=4)


def test_a_video_shorter_than_a_window_is_refused(rng):
    with pytest.raises(ParameterError, match=r"at least 1\.0 s"):
        plan_pairs(rng, videos=np.array([0, 1]), durations=np.array([0.5, 5.0]), n_pairs=4)


def test_frame_index_inside_is_a_frame_shown_during_the_crop(rng):
    times = np.arange(50) / 5.0  # 5 fps, as conf/paper keeps
    chosen = []
    for start, fraction in zip(rng.uniform(0, 9, 500), rng.uniform(0, 1, 500), strict=True):
        index = frame_index_inside(times, start, fraction)
        assert start <= times[index] < start + WINDOW_S
        chosen.append(index - np.searchsorted(times, start))
    # every one of the five frames inside a second is taken, about equally often
    counts = np.bincount(chosen)
    assert counts.size == 5 and counts.min() > 70


def test_frame_index_inside_falls_back_to_the_nearest_frame():
    sparse = np.array([0.0, 3.0, 6.0])  # fewer than one frame a second
    assert frame_index_inside(sparse, 0.6, 0.3) == 0  # crop centre 1.1 s: nearest is 0 s
    assert frame_index_inside(sparse, 2.3, 0.9) == 1  # 3.0 s lies inside [2.3, 3.3)


def test_crop_start_keeps_the_crop_inside_the_audio():
    assert crop_start(48000 * 3, 1.5, sample_rate=48000) == 72000
    assert crop_start(48000 * 3, 2.5, sample_rate=48000) == 96000  # moved back: ends at 3 s
    assert crop_start(24000, 0.3, sample_rate=48000) == 0  # shorter than 1 s


def test_frame_index_is_the_frame_on_screen():
    times = np.array([0.0, 0.5, 1.0, 1.5])
    assert frame_index_at(times, 0.0) == 0
    assert frame_index_at(times, 0.49) == 0
    assert frame_index_at(times, 0.5) == 1
    assert frame_index_at(times, 9.0) == 3
    assert frame_index_at(times + 0.2, 0.1) == 0  # before the first frame: the first


def test_crop_audio_scales_int16_and_pads(rng):
    audio = np.full(48000 + 100, 16384, dtype=np.int16)
    crop = crop_audio(None, audio, start_s=0.0, sample_rate=48000)
    assert crop.shape == (48000,) and crop.dtype == np.float32
    assert np.allclose(crop, 0.5)
    short = crop_audio(None, audio[:1000], start_s=0.0, sample_rate=48000)
    assert np.allclose(short[:1000], 0.5) and np.all(short[1000:] == 0)
    gains = [crop_audio(rng, audio, start_s=0.0, sample_rate=48000)[0] / 0.5 for _ in range(200)]
    assert 0.9 <= min(gains) < 0.92 and 1.08 < max(gains) <= 1.1


def test_crop_image_centre_and_augmented(rng):
    frame = rng.integers(0, 256, size=(20, 30, 3), dtype=np.uint8)
    centre = crop_image(None, frame, size=16)
    assert centre.dtype == np.uint8
    np.testing.assert_array_equal(centre, frame[2:18, 7:23])
    augmented = [crop_image(rng, frame, size=16) for _ in range(40)]
    assert all(a.shape == (16, 16, 3) and a.dtype == np.uint8 for a in augmented)
    # every augmented crop is a window of the frame, some of them mirrored
    windows = {
        (top, left, flip)
        for a in augmented
        for top in range(5)
        for left in range(15)
        for flip in (False, True)
        if np.array_equal(
            a,
            frame[top : top + 16, left : left + 16][:, ::-1]
            if flip
            else frame[top : top + 16, left : left + 16],
        )
    }
    assert len(windows) >= 20
    assert {flip for _, _, flip in windows} == {False, True}


def test_crop_image_refuses_small_frames(rng):
    with pytest.raises(ParameterError, match="short side"):
        crop_image(rng, np.zeros((10, 30, 3), np.uint8), size=16)
