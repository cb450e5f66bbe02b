"""Tests for l3_kedro.audio.windows (the OpenL3 0.4 framing rule)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from l3_kedro.audio import count_windows, frame_audio, mono_float32
from l3_kedro.errors import AudioError, AudioWarning, ParameterError


def reference_frames(audio, window, hop, center):
    """Frame by the rule spelled out step by step: pad, then slice in a loop."""
    if center:
        audio = np.concatenate([np.zeros(window // 2), audio])
    if audio.size < window:
        pad = window - audio.size
    else:
        pad = math.ceil((audio.size - window) / hop) * hop - (audio.size - window)
    audio = np.concatenate([audio, np.zeros(pad)])
    n_windows = 1 + (audio.size - window) // hop
    return np.stack([audio[i * hop : i * hop + window] for i in range(n_windows)])


@pytest.fixture
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("n_samples", [100, 101, 149, 150, 151, 199, 200, 237, 1_000])
@pytest.mark.parametrize("center", [True, False])
def test_matches_the_reference_rule(rng, n_samples, center, no_warnings):
    audio = rng.uniform(-1, 1, n_samples).astype(np.float32)
    windows, timestamps = frame_audio(audio, 100, window_s=1.0, hop_size=0.1, center=center)
    expected = reference_frames(audio, 100, 10, center)
    np.testing.assert_array_equal(windows, expected)
    assert windows.shape == (count_windows(n_samples, 100, center=center), 100)
    np.testing.assert_allclose(timestamps, np.arange(len(expected)) * 0.1)


@pytest.mark.parametrize(
    ("seconds", "center", "expected"),
    [(10.0, True, 96), (10.0, False, 91), (4.0, True, 36), (1.0, True, 6), (1.0, False, 1)],
)
def test_window_counts_at_48khz(seconds, center, expected):
    n_samples = round(seconds * 48_000)
    length = n_samples + (24_000 if center else 0)
    assert expected == 1 + math.ceil((length - 48_000) / 4_800)
    assert count_windows(n_samples, 48_000, center=center) == expected


def test_timestamps_are_multiples_of_the_hop(rng):
    _, timestamps = frame_audio(rng.uniform(-1, 1, 2_205 * 10), 22_050, hop_size=0.25)
    assert timestamps.dtype == np.float64
    np.testing.assert_array_equal(timestamps, np.arange(timestamps.size) * 0.25)


def test_centring_puts_the_first_sample_mid_window(rng):
    audio = rng.uniform(0.1, 1.0, 300).astype(np.float32)
    windows, timestamps = frame_audio(audio, 100, hop_size=0.5)
    assert timestamps[0] == 0.0
    np.testing.assert_array_equal(windows[0, :50], 0.0)
    np.testing.assert_array_equal(windows[0, 50:], audio[:50])
    np.testing.assert_array_equal(windows[1, :], audio[:100])


def test_end_is_zero_padded_so_every_sample_is_covered(rng):
    audio = rng.uniform(0.1, 1.0, 237).astype(np.float32)
    windows, _ = frame_audio(audio, 100, hop_size=0.1, center=False)
    assert windows.shape == (15, 100)
    np.testing.assert_array_equal(windows[-1, :97], audio[140:])
    np.testing.assert_array_equal(windows[-1, 97:], 0.0)


def test_output_is_float32_and_writable_copy(rng):
    audio = rng.uniform(-1, 1, 500)
    windows, _ = frame_audio(audio, 100)
    assert windows.dtype == np.float32
    assert windows.flags.c_contiguous and windows.flags.writeable
    overlap = windows[1, :90].copy()
    windows[0] += 1.0
    np.testing.assert_array_equal(windows[1, :90], overlap)


def test_view_without_copy_is_read_only(rng):
    windows, _ = frame_audio(rng.uniform(-1, 1, 500).astype(np.float32), 100, copy=False)
    copied, _ = frame_audio(rng.uniform(-1, 1, 500).astype(np.float32), 100)
    assert not windows.flags.writeable
    assert windows.shape == copied.shape
    with pytest.raises(ValueError, match="read-only"):
        windows[0, 0] = 1.0


def test_short_audio_is_padded_with_a_warning(rng):
    audio = rng.uniform(-1, 1, 30).astype(np.float32)
    with pytest.warns(AudioWarning, match="shorter than one window"):
        windows, timestamps = frame_audio(audio, 100, center=False)
    assert windows.shape == (1, 100)
    np.testing.assert_array_equal(windows[0, :30], audio)
    np.testing.assert_array_equal(timestamps, [0.0])


def test_silence_is_allowed_with_a_warning():
    with pytest.warns(AudioWarning, match="all zeros"):
        windows, _ = frame_audio(np.zeros(300, dtype=np.float32), 100)
    assert windows.shape == (count_windows(300, 100), 100)
    assert not windows.any()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_audio_raises(bad):
    audio = np.zeros(300, dtype=np.float32)
    audio[7] = bad
    with pytest.raises(AudioError, match="NaN or Inf"):
        frame_audio(audio, 100)


def test_stereo_is_averaged(rng, no_warnings):
    stereo = rng.uniform(-1, 1, (2, 400))
    windows, _ = frame_audio(stereo, 100)
    expected, _ = frame_audio(stereo.mean(axis=0), 100)
    np.testing.assert_allclose(windows, expected, atol=1e-7)


@pytest.mark.parametrize("hop_size", [0.0, -0.1, float("nan"), float("inf"), "0.1", 0.001])
def test_bad_hop_size_raises(hop_size):
    with pytest.raises(ParameterError, match="hop_size"):
        frame_audio(np.ones(300, dtype=np.float32), 100, hop_size=hop_size)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [({"sr": 0}, "sr"), ({"sr": -8_000}, "sr"), ({"window_s": 0.0}, "window_s"),
     ({"window_s": 1e-4}, "window_s"), ({"center": "yes"}, "center")],
)  # fmt: skip
def test_bad_parameters_raise(kwargs, name):
    arguments = {"sr": 100, **kwargs}
    sr = arguments.pop("sr")
    with pytest.raises(ParameterError, match=name):
        frame_audio(np.ones(300, dtype=np.float32), sr, **arguments)


@pytest.mark.parametrize(
    ("audio", "match"),
    [(np.zeros(0, dtype=np.float32), "empty"), (np.zeros((2, 2, 5)), "shape"),
     (np.ones(100, dtype=np.int16), "floating-point"), (np.ones((100, 2)), "transpose")],
)  # fmt: skip
def test_unusable_arrays_raise(audio, match):
    with pytest.raises(AudioError, match=match):
        frame_audio(audio, 100)


def test_mono_float32():
    stereo = np.array([[0.5, -0.5, 1.0], [0.1, 0.5, 0.0]])
    out = mono_float32(stereo)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [0.3, 0.0, 0.5])
    np.testing.assert_array_equal(mono_float32(np.ones(4, dtype=np.float64)), np.ones(4))


def test_count_windows_rejects_no_samples():
    with pytest.raises(ParameterError, match="n_samples"):
        count_windows(0, 48_000)


@pytest.mark.parametrize("pad_last", [True, False])
def test_batch_windows_packs_clips_in_order_and_says_where_each_ends(pad_last):
    from l3_kedro.audio import batch_windows

    clips = [
        (name, np.full((n, 3), i, dtype=np.float32))
        for i, (name, n) in enumerate([("a", 3), ("b", 6), ("c", 1), ("d", 2)])
    ]
    batches = list(batch_windows(iter(clips), 4, pad_last=pad_last))
    assert [b.n_valid for b in batches] == [4, 4, 4]
    # b runs over two batch boundaries: no clip ends in the second batch
    assert [b.finished for b in batches] == [["a"], [], ["b", "c", "d"]]
    rows = np.concatenate([b.windows[: b.n_valid] for b in batches])
    np.testing.assert_array_equal(rows, np.concatenate([w for _, w in clips]))
    assert all(b.windows.shape == (4, 3) and b.windows.flags.c_contiguous for b in batches)

    short = list(batch_windows(iter(clips[:2]), 4, pad_last=pad_last))
    last = short[-1]
    assert (last.n_valid, last.finished) == (1, ["b"])
    assert last.windows.shape == ((4, 3) if pad_last else (1, 3))
    np.testing.assert_array_equal(last.windows, np.ones_like(last.windows))  # padding repeats
