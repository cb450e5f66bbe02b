"""Tests for l3_kedro.audio.io on tiny generated files."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
import soundfile as sf

from l3_kedro.audio import AudioInfo, _av, audio_info, load_audio, resample
from l3_kedro.errors import AudioError, AudioWarning, ParameterError

SR = 16_000
# Lossy codecs add delay/padding, so metadata and decoded lengths differ a bit.
LOSSY_LENGTH_TOLERANCE_S = 0.05
PYAV_FIXTURES = ["mp3_path", "mp4_path", "webm_path"]


@pytest.mark.parametrize("fixture", ["wav_path", "flac_path"])
def test_lossless_files_round_trip(fixture, request, tone):
    audio, sr = load_audio(request.getfixturevalue(fixture))
    assert sr == SR
    assert audio.dtype == np.float32
    assert audio.shape == tone.shape
    np.testing.assert_allclose(audio, tone, atol=1.0 / 2**15)


def test_ogg_decodes_the_tone(ogg_path, tone, peak_hz):
    audio, sr = load_audio(ogg_path)
    assert sr == SR
    assert audio.shape == tone.shape
    assert peak_hz(audio, sr) == pytest.approx(1_000.0, abs=2.0)
    assert np.sqrt(np.mean(audio**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.05)


@pytest.mark.parametrize("fixture", PYAV_FIXTURES)
def test_pyav_containers_decode_the_tone(fixture, request, peak_hz):
    path = request.getfixturevalue(fixture)
    audio, sr = load_audio(path)
    assert audio.dtype == np.float32
    assert audio.ndim == 1
    assert sr == audio_info(path).sample_rate
    assert peak_hz(audio, sr) == pytest.approx(1_000.0, abs=2.0)
    assert np.abs(audio).max() < 1.05


@pytest.mark.parametrize("fixture", PYAV_FIXTURES)
def test_pyav_mono_false_gives_channels_first(fixture, request):
    audio, _ = load_audio(request.getfixturevalue(fixture), mono=False)
    assert audio.shape[0] == 2
    assert audio.shape[1] > audio.shape[0]


def test_mono_false_keeps_channels(stereo_wav_path):
    audio, sr = load_audio(stereo_wav_path, mono=False)
    assert sr == SR
    assert audio.shape == (2, 4_000)
    assert np.abs(audio).max(axis=1) == pytest.approx([0.5, 0.1], abs=1e-3)


def test_mono_is_the_channel_mean(stereo_wav_path):
    stereo, _ = load_audio(stereo_wav_path, mono=False)
    mono, _ = load_audio(stereo_wav_path)
    assert mono.shape == (4_000,)
    np.testing.assert_allclose(mono, stereo.mean(axis=0), atol=1e-7)


def test_mono_file_with_mono_false_is_2d(wav_path, tone):
    audio, _ = load_audio(wav_path, mono=False)
    assert audio.shape == (1, tone.size)


def test_dtype_float64(flac_path):
    audio, _ = load_audio(flac_path, dtype=np.float64)
    assert audio.dtype == np.float64


@pytest.mark.parametrize("dtype", [np.int16, "complex64", "not-a-dtype"])
def test_bad_dtype_raises(flac_path, dtype):
    with pytest.raises(ParameterError, match="dtype"):
        load_audio(flac_path, dtype=dtype)


@pytest.mark.parametrize("sr", [0, -8_000, 48_000.5, True])
def test_bad_target_sr_raises(flac_path, sr):
    with pytest.raises(ParameterError, match="sr"):
        load_audio(flac_path, sr=sr)


def test_resampling_8k_to_48k_keeps_frequency_and_amplitude(tmp_path, make_sine, peak_hz):
    path = tmp_path / "tone_8k.wav"
    sf.write(path, make_sine(1_000.0, 8_000, 1.0, amplitude=0.5), 8_000, subtype="FLOAT")
    audio, sr = load_audio(path, sr=48_000)
    assert sr == 48_000
    assert audio.shape == (48_000,)
    assert audio.dtype == np.float32
    assert peak_hz(audio, sr) == pytest.approx(1_000.0, abs=1.0)
    steady = audio[4_800:-4_800]
    assert np.abs(steady).max() == pytest.approx(0.5, rel=1e-2)
    assert np.sqrt(np.mean(steady**2)) == pytest.approx(0.5 / np.sqrt(2), rel=1e-3)


def test_resample_channels_match_separate_resampling(rng):
    audio = rng.uniform(-0.5, 0.5, size=(2, 2_205)).astype(np.float32)
    both = resample(audio, 22_050, 48_000)
    assert both.shape == (2, 4_800)
    assert both.dtype == np.float32
    for channel in range(2):
        alone = resample(audio[channel], 22_050, 48_000)
        np.testing.assert_allclose(both[channel], alone, atol=1e-6)


def test_resample_same_rate_returns_a_copy(rng):
    audio = rng.standard_normal(100)
    out = resample(audio, 16_000, 16_000)
    np.testing.assert_array_equal(out, audio)
    assert not np.shares_memory(out, audio)


@pytest.mark.parametrize(
    ("orig_sr", "target_sr", "name"),
    [(0, 48_000, "orig_sr"), (-1, 48_000, "orig_sr"), (16_000, 0, "target_sr"),
     (16_000, float("nan"), "target_sr"), (float("inf"), 16_000, "orig_sr")],
)  # fmt: skip
def test_resample_rejects_non_positive_rates(orig_sr, target_sr, name):
    with pytest.raises(ParameterError, match=name):
        resample(np.zeros(10, dtype=np.float32), orig_sr, target_sr)


def test_resample_rejects_integer_audio():
    with pytest.raises(AudioError, match="floating-point"):
        resample(np.zeros(10, dtype=np.int16), 8_000, 16_000)


def test_offset_and_duration_match_slicing(flac_path):
    full, _ = load_audio(flac_path)
    crop, _ = load_audio(flac_path, offset=0.1, duration=0.2)
    np.testing.assert_array_equal(crop, full[1_600:4_800])


@pytest.mark.parametrize("fixture", PYAV_FIXTURES)
def test_pyav_offset_and_duration_match_slicing(fixture, request):
    path = request.getfixturevalue(fixture)
    full, sr = load_audio(path)
    crop, _ = load_audio(path, offset=0.25, duration=0.5)
    start = round(0.25 * sr)
    np.testing.assert_array_equal(crop, full[start : start + round(0.5 * sr)])


def test_excerpt_past_the_end_is_shortened(wav_path):
    crop, _ = load_audio(wav_path, offset=0.4, duration=1.0)
    assert crop.shape == (1_600,)


@pytest.mark.parametrize("fixture", ["wav_path", "webm_path"])
def test_offset_beyond_the_end_raises(fixture, request):
    path = request.getfixturevalue(fixture)
    with pytest.raises(AudioError, match="no audio samples from 5"):
        load_audio(path, offset=5.0)


@pytest.mark.parametrize(
    ("offset", "duration", "name"),
    [(-0.1, None, "offset"), (float("nan"), None, "offset"), (0.0, 0.0, "duration"),
     (0.0, -1.0, "duration"), (0.0, float("inf"), "duration")],
)  # fmt: skip
def test_bad_excerpt_raises(wav_path, offset, duration, name):
    with pytest.raises(ParameterError, match=name):
        load_audio(wav_path, offset=offset, duration=duration)


@pytest.mark.parametrize(
    ("fixture", "fmt"), [("wav_path", "wav"), ("flac_path", "flac"), ("ogg_path", "ogg")]
)
def test_info_of_soundfile_formats_is_exact(fixture, fmt, request):
    path = request.getfixturevalue(fixture)
    info = audio_info(path)
    audio, _ = load_audio(path)
    assert info == AudioInfo(
        path=path, sample_rate=SR, channels=1, n_frames=audio.size,
        duration_s=audio.size / SR, format=fmt,
    )  # fmt: skip


def test_info_counts_channels(stereo_wav_path):
    assert audio_info(str(stereo_wav_path)).channels == 2


def test_info_is_frozen(wav_path):
    with pytest.raises(dataclasses.FrozenInstanceError):
        audio_info(wav_path).sample_rate = 1


@pytest.mark.parametrize("fixture", PYAV_FIXTURES)
def test_info_uses_metadata_without_decoding(fixture, request, monkeypatch):
    path = request.getfixturevalue(fixture)
    decoded, sr = load_audio(path, mono=False)

    def no_decoding(*args, **kwargs):
        raise AssertionError("audio_info decoded the file")

    monkeypatch.setattr(_av, "_decode", no_decoding)
    info = audio_info(path)
    assert (info.sample_rate, info.channels) == (sr, decoded.shape[0])
    assert info.duration_s == pytest.approx(decoded.shape[1] / sr, abs=LOSSY_LENGTH_TOLERANCE_S)
    assert info.n_frames == round(info.duration_s * sr)


def test_info_decodes_when_metadata_lacks_a_duration(mp3_path, monkeypatch):
    monkeypatch.setattr(_av, "_metadata_duration", lambda container, stream: None)
    decoded, _ = load_audio(mp3_path)
    info = audio_info(mp3_path)
    assert info.n_frames == decoded.size
    assert info.format == "mp3"


# --- bad inputs: every one is an AudioError naming the file ---------------------


def _assert_audio_error(path, match):
    for read in (load_audio, audio_info):
        with pytest.raises(AudioError, match=match) as caught:
            read(path)
        assert path.name in str(caught.value)


def test_missing_file(tmp_path):
    _assert_audio_error(tmp_path / "missing.wav", "not found")


def test_directory(tmp_path):
    folder = tmp_path / "folder.wav"
    folder.mkdir()
    _assert_audio_error(folder, "not a regular file")


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".mp3", ".mp4"])
def test_empty_file(tmp_path, suffix):
    path = tmp_path / f"empty{suffix}"
    path.touch()
    _assert_audio_error(path, r"empty \(0 bytes\)")


@pytest.mark.parametrize(
    ("suffix", "match"),
    [(".wav", "not a recognised audio file"), (".flac", "not a recognised audio file"),
     (".mp3", "not a readable audio or video file"),
     (".mp4", "not a readable audio or video file")],
)  # fmt: skip
def test_text_file_renamed_as_audio(tmp_path, suffix, match):
    path = tmp_path / f"notes{suffix}"
    path.write_text("these are meeting notes, not audio\n" * 20)
    _assert_audio_error(path, match)


@pytest.mark.parametrize("fixture", ["wav_path", "ogg_path", "mp4_path"])
def test_truncated_file_cannot_be_opened(fixture, request, truncated):
    _assert_audio_error(truncated(request.getfixturevalue(fixture)), "truncated")


def test_truncated_flac_fails_on_decoding(flac_path, truncated):
    path = truncated(flac_path)
    with pytest.raises(AudioError, match=r"decoding failed.*corrupt or truncated"):
        load_audio(path)


def test_truncated_stream_warns(webm_path, truncated):
    with pytest.warns(AudioWarning, match="may be truncated"):
        audio, _ = load_audio(truncated(webm_path, 0.6))
    assert audio.size > 0


def test_complete_stream_does_not_warn(webm_path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_audio(webm_path)


def test_video_without_audio_stream(silent_video_path):
    _assert_audio_error(silent_video_path, "no audio stream")


def test_zero_length_audio(tmp_path):
    path = tmp_path / "zero.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), SR)
    assert audio_info(path).n_frames == 0
    with pytest.raises(AudioError, match="zero-length") as caught:
        load_audio(path)
    assert path.name in str(caught.value)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_samples(tmp_path, bad):
    path = tmp_path / "non_finite.wav"
    sf.write(path, np.array([0.1, 0.2, bad, 0.3], dtype=np.float32), SR, subtype="FLOAT")
    with pytest.raises(AudioError, match=r"NaN or Inf.*sample 2") as caught:
        load_audio(path)
    assert path.name in str(caught.value)


def test_resample_accepts_strided_views(rng):
    audio = rng.uniform(-0.5, 0.5, size=(2, 1_000)).astype(np.float32)
    np.testing.assert_array_equal(
        resample(audio[0, ::2], 8_000, 16_000), resample(audio[0, ::2].copy(), 8_000, 16_000)
    )
