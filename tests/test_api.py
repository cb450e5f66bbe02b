"""The OpenL3-style public API: arrays in, embeddings and timestamps out; files to .npz."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest
import soundfile as sf

from l3_kedro import api
from l3_kedro.audio import count_windows, frame_audio, load_audio, resample
from l3_kedro.audio.constants import INPUT_SHAPES, VALID_INPUT_REPRS
from l3_kedro.errors import AudioError, AudioWarning, L3KedroWarning, ModelError, ParameterError
from tests.api_fixtures import (
    FSDD_FILES,
    US8K_FILES,
    assert_same_embeddings,
    read_clip,
    save_tiny_checkpoint,
    tiny_model,
    write_broken,
)

SR = 48_000
PARITY_DB = 1e-3  # as tests/models/test_frontends.py (measured about 2e-5 dB)


@pytest.fixture(scope="module")
def clip() -> tuple[np.ndarray, int]:
    """A real 4 s UrbanSound8K clip at 22,050 Hz, shape (88200,)."""
    return read_clip(US8K_FILES[0])


@pytest.fixture(scope="module")
def model():
    return tiny_model("mel256")


def embed(audio, sr, model, **kwargs):
    return api.get_audio_embedding(audio, sr, model=model, **kwargs)


@pytest.mark.parametrize("input_repr", VALID_INPUT_REPRS)
def test_shapes_and_timestamps_follow_openl3_framing(clip, input_repr):
    audio, sr = clip
    model = tiny_model(input_repr)
    emb, ts = embed(audio, sr, model)
    n_windows = count_windows(round(audio.size * SR / sr), SR, hop_size=0.1)
    assert n_windows == 36  # 4 s centred at hop 0.1: windows centred on 0.0 ... 3.5 s
    assert emb.shape == (n_windows, model.output_shape[-1])
    assert emb.dtype == np.float32
    np.testing.assert_allclose(ts, np.arange(n_windows) * 0.1)


def test_exact_48k_clip_and_no_centering(model, rng):
    audio = (0.1 * rng.standard_normal(4 * SR)).astype(np.float32)
    emb, ts = embed(audio, SR, model, hop_size=0.25)
    assert len(emb) == len(ts) == count_windows(4 * SR, SR, hop_size=0.25) == 15
    emb, ts = embed(audio, SR, model, hop_size=0.25, center=False)
    assert len(emb) == count_windows(4 * SR, SR, hop_size=0.25, center=False) == 13
    np.testing.assert_allclose(ts, np.arange(13) * 0.25)


def test_embeddings_are_the_model_on_the_framed_windows(clip, model):
    audio, sr = clip
    emb, _ = embed(audio, sr, model, hop_size=0.5, batch_size=3)
    windows, _ = frame_audio(resample(audio, sr, SR), SR, hop_size=0.5)
    assert_same_embeddings(emb, model.predict_on_batch(windows))


def test_a_list_gives_lists_equal_to_one_clip_at_a_time(model):
    clips = [read_clip(p) for p in (US8K_FILES[1], FSDD_FILES[0], FSDD_FILES[1])]
    audio, rates = [a for a, _ in clips], [sr for _, sr in clips]
    with pytest.warns(AudioWarning):
        embs, stamps = embed(audio, rates, model, hop_size=0.5, batch_size=4)
    assert isinstance(embs, list) and isinstance(stamps, list) and len(embs) == 3
    for a, sr, emb, ts in zip(audio, rates, embs, stamps, strict=True):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AudioWarning)
            alone, alone_ts = embed(a, sr, model, hop_size=0.5)
        assert_same_embeddings(emb, alone)
        np.testing.assert_array_equal(ts, alone_ts)
    with pytest.warns(AudioWarning):  # one rate for all clips
        embs_one_rate, _ = embed(audio[1:], 8000, model, hop_size=0.5)
    assert_same_embeddings(embs_one_rate[0], embs[1])


def test_stereo_n_by_2_equals_its_mono_mix(clip, model):
    audio, sr = clip
    stereo = np.stack([audio, 0.3 * audio[::-1]], axis=1)
    got, _ = embed(stereo, sr, model, hop_size=0.5)
    expected, _ = embed(stereo.mean(axis=1), sr, model, hop_size=0.5)
    assert_same_embeddings(got, expected)


def test_channels_first_audio_is_refused_with_a_hint(clip, model):
    audio, sr = clip
    with pytest.raises(AudioError, match=r"channels-first.*audio\.T"):
        embed(np.stack([audio, audio]), sr, model)


@pytest.mark.parametrize("sr", [8000, 16000, 22050, 44100, 96000])
def test_any_rate_is_resampled_to_48k(model, sr):
    t = np.arange(round(2.3 * sr)) / sr
    audio = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    emb, ts = embed(audio, sr, model, hop_size=0.25)
    n_48k = resample(audio, sr, SR).size
    assert len(emb) == len(ts) == count_windows(n_48k, SR, hop_size=0.25)
    if sr == 16000:
        by_hand, _ = embed(resample(audio, sr, SR), SR, model, hop_size=0.25)
        assert_same_embeddings(emb, by_hand)


def test_short_audio_is_padded_with_a_warning(model):
    audio, sr = read_clip(FSDD_FILES[0])  # 0.3 s
    with pytest.warns(AudioWarning, match=r"audio clip 0 \(0\.\d+ s\) is shorter than one window"):
        emb, ts = embed(audio, sr, model)
    assert emb.shape[0] == count_windows(resample(audio, sr, SR).size, SR) == 1
    np.testing.assert_array_equal(ts, [0.0])


def test_silence_warns_and_is_embedded(model):
    with pytest.warns(AudioWarning, match=r"audio clip 1 is all zeros \(silent\)"):
        embs, _ = embed([np.full(SR, 0.1, np.float32), np.zeros(2 * SR, np.float32)], SR, model)
    assert np.isfinite(embs[1]).all()


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf_is_an_error_naming_the_clip(model, bad):
    broken = np.zeros(SR, np.float32)
    broken[100] = bad
    good = np.full(SR, 0.1, np.float32)
    with pytest.raises(AudioError, match=r"audio clip 1: .*NaN or Inf"):
        embed([good, broken], [SR, 22050], model)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"input_repr": "mel64"}, "input_repr"),
        ({"embedding_size": 128}, "embedding_size"),
        ({"hop_size": 0}, "hop_size"),
        ({"hop_size": 1e-6}, "hop_size"),
        ({"batch_size": 0}, "batch_size"),
        ({"center": "yes"}, "center"),
    ],
)
def test_bad_parameters_name_the_parameter(model, kwargs, name):
    with pytest.raises(ParameterError, match=name):
        embed(np.full(SR, 0.1, np.float32), SR, model, **kwargs)


def test_bad_rates_and_inputs(model):
    audio = np.full(SR, 0.1, np.float32)
    with pytest.raises(ParameterError, match=r"sr holds 1 rates for 2 clips"):
        embed([audio, audio], [SR], model)
    with pytest.raises(ParameterError, match=r"sr of audio clip 0"):
        embed(audio, -1, model)
    with pytest.raises(AudioError, match=r"floating-point"):
        embed((audio * 32767).astype(np.int16), SR, model)
    with pytest.raises(AudioError, match=r"empty"):
        embed(np.zeros(0, np.float32), SR, model)
    spectrogram_model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    with pytest.raises(ParameterError, match=r"raw audio"):
        embed(audio, SR, spectrogram_model)


@pytest.mark.parametrize("input_repr", VALID_INPUT_REPRS)
def test_preprocess_audio_is_what_the_in_graph_front_end_computes(clip, input_repr):
    audio, sr = clip
    specs = api.preprocess_audio(audio, sr, input_repr=input_repr, hop_size=0.5)
    windows, _ = frame_audio(resample(audio, sr, SR), SR, hop_size=0.5)
    assert specs.shape == (len(windows), *INPUT_SHAPES[input_repr])
    assert specs.dtype == np.float32
    frontend = tiny_model(input_repr).get_layer("audio_frontend")
    in_graph = keras.ops.convert_to_numpy(frontend(windows))[..., 0]
    assert np.abs(specs - in_graph).max() < PARITY_DB
    assert np.mean(specs > -60) > 0.2  # not a trivially floored comparison


def test_load_model_from_a_checkpoint_checks_the_repr(tmp_path, model):
    path = save_tiny_checkpoint(tmp_path, "mel256")
    loaded = api.load_audio_embedding_model(input_repr="mel256", embedding_size=512, weights=path)
    windows = np.random.default_rng(0).uniform(-0.5, 0.5, (2, SR)).astype(np.float32)
    assert_same_embeddings(loaded.predict_on_batch(windows), model.predict_on_batch(windows))
    with pytest.raises(ModelError, match=r"input_repr='mel256'.*pass input_repr='mel256'"):
        api.load_audio_embedding_model(input_repr="mel128", embedding_size=512, weights=path)
    with pytest.raises(ModelError, match=r"width=0\.5"):
        api.load_audio_embedding_model(input_repr="mel256", weights=path, width=0.5)
    with pytest.raises(ModelError, match="not found"):
        api.load_audio_embedding_model(input_repr="mel256", weights=tmp_path / "none.keras")
    with pytest.raises(ParameterError, match="weights="):
        api.load_audio_embedding_model(input_repr="mel256", weights=tmp_path / "model.h5")
    with pytest.raises(ParameterError, match="input_repr"):
        api.load_audio_embedding_model(input_repr="cqt")
    with pytest.raises(ParameterError, match="embedding_size"):
        api.load_audio_embedding_model(input_repr="mel256", embedding_size=1024)
    with pytest.raises(ParameterError, match="width"):
        api.load_audio_embedding_model(input_repr="mel256", width=0)


def test_no_model_builds_a_random_full_size_network_with_a_warning():
    with pytest.warns(L3KedroWarning, match="randomly initialised"):
        emb, ts = api.get_audio_embedding(
            np.full(SR, 0.1, np.float32), SR, input_repr="mel128", embedding_size=512, center=False
        )
    assert emb.shape == (1, 512)
    np.testing.assert_array_equal(ts, [0.0])


# -- files ------------------------------------------------------------------------------------


def test_process_audio_file_writes_npz_like_openl3(tmp_path, model):
    paths = US8K_FILES[:2]
    out = tmp_path / "out"
    written = api.process_audio_file(
        paths, output_dir=out, suffix="_tiny", model=model, hop_size=0.5, verbose=False
    )
    assert written == [out / f"{p.stem}_tiny.npz" for p in paths]
    for path, output in zip(paths, written, strict=True):
        with np.load(output) as saved:
            assert set(saved.files) == {"embedding", "timestamps"}
            audio, sr = load_audio(path)
            emb, ts = embed(audio, sr, model, hop_size=0.5)
            assert_same_embeddings(saved["embedding"], emb)
            np.testing.assert_array_equal(saved["timestamps"], ts)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in written)


def test_existing_outputs_are_skipped_unless_overwrite(tmp_path, model):
    source = tmp_path / "clip.flac"
    source.write_bytes(US8K_FILES[0].read_bytes())
    (output,) = api.process_audio_file(str(source), model=model, hop_size=1.0, verbose=False)
    assert output == tmp_path / "clip.npz"  # next to the input by default
    os.utime(output, (1, 1))
    assert api.process_audio_file(source, model=model, hop_size=1.0, verbose=False) == []
    assert output.stat().st_mtime == 1
    again = api.process_audio_file(source, model=model, hop_size=1.0, verbose=False, overwrite=True)
    assert again == [output] and output.stat().st_mtime > 1


def test_an_unreadable_file_among_good_ones_is_skipped_with_skip(tmp_path, model):
    bad = write_broken(tmp_path / "broken.wav")
    paths = [US8K_FILES[0], bad, tmp_path / "missing.wav", FSDD_FILES[2]]
    out = tmp_path / "out"
    with pytest.warns(AudioWarning) as record:
        written = api.process_audio_file(
            paths, output_dir=out, model=model, hop_size=1.0, verbose=False, on_error="skip"
        )
    assert written == [out / f"{US8K_FILES[0].stem}.npz", out / f"{FSDD_FILES[2].stem}.npz"]
    assert all(p.is_file() for p in written)
    messages = sorted(str(w.message) for w in record)
    assert len(messages) == 2 and all(m.startswith("not embedded: ") for m in messages)
    assert "broken.wav" in messages[0] and "missing.wav: audio file not found" in messages[1]
    assert sorted(out.iterdir()) == sorted(written)  # no partial files left behind


def test_an_unreadable_file_is_an_error_by_default(tmp_path, model):
    bad = write_broken(tmp_path / "broken.wav")
    with pytest.raises(AudioError, match=r"broken\.wav"):
        api.process_audio_file([bad], model=model, verbose=False)
    with pytest.raises(AudioError, match=r"missing\.wav: audio file not found"):
        api.process_audio_file([US8K_FILES[0], tmp_path / "missing.wav"], model=model)


def test_inputs_that_would_share_an_output_are_refused(tmp_path, model):
    audio, sr = read_clip(FSDD_FILES[0])
    sf.write(tmp_path / "a.wav", audio, sr)
    sf.write(tmp_path / "a.flac", audio, sr)
    with pytest.raises(ParameterError, match=r"a\.wav and .*a\.flac would both be written"):
        api.process_audio_file([tmp_path / "a.wav", tmp_path / "a.flac"], model=model)
    with pytest.raises(ParameterError, match="on_error"):
        api.process_audio_file(tmp_path / "a.wav", model=model, on_error="ignore")
    with pytest.raises(ParameterError, match="path_or_paths"):
        api.process_audio_file(42, model=model)


def test_get_output_path():
    assert api.get_output_path("/a/b/c.wav") == Path("/a/b/c.npz")
    assert api.get_output_path("c.flac", output_dir="/o", suffix="_x") == Path("/o/c_x.npz")
