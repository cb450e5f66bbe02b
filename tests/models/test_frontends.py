"""Tests of the in-graph spectrogram layers and their parity with librosa.

Tolerance. With the default float64 internal precision the layers and the
librosa reference (float32 STFT) agree to about 2e-5 dB on every value,
floor included (measured 1.5e-5 dB, a couple of float32 ulps of an 80 dB
value); the tests allow 1e-3 dB. With ``fft_dtype="float32"`` the layer's
FFT round-off (about 1e-7 of the peak magnitude) shows up below about -40 dB
because the dB rule keeps 8 decades of magnitude (measured on real audio:
< 1e-3 dB above -40 dB, 0.14 dB at -60 dB, several dB near -80 dB); that
mode is only checked above -40 dB, to 0.01 dB.
"""

from __future__ import annotations

import sys
import types

import keras
import numpy as np
import pytest

from l3_kedro.audio.constants import INPUT_SHAPES, VALID_INPUT_REPRS
from l3_kedro.audio.features import compute_spectrograms
from l3_kedro.errors import ParameterError
from l3_kedro.models.frontends import (
    LinearSpectrogram,
    MelSpectrogram,
    build_frontend,
    enable_fft_dtype,
)

PARITY_DB = 1e-3
FLOAT32_PARITY_DB = 1e-2
FLOAT32_ABOVE_DB = -40.0


def run_layer(layer: keras.layers.Layer, audio: np.ndarray) -> np.ndarray:
    """(n, 48000) -> (n, bins, frames) numpy output of a front-end layer."""
    return keras.ops.convert_to_numpy(layer(audio))[..., 0]


@pytest.mark.parametrize("input_repr", VALID_INPUT_REPRS)
def test_layer_matches_librosa_on_chirps(chirps, input_repr):
    got = run_layer(build_frontend(input_repr), chirps)
    expected = compute_spectrograms(chirps, input_repr=input_repr)
    assert got.shape == expected.shape == (len(chirps), *INPUT_SHAPES[input_repr])
    assert np.abs(got - expected).max() < PARITY_DB


@pytest.mark.shared_data
@pytest.mark.parametrize("input_repr", VALID_INPUT_REPRS)
def test_layer_matches_librosa_on_real_audio(real_windows, input_repr):
    got = run_layer(build_frontend(input_repr), real_windows)
    expected = compute_spectrograms(real_windows, input_repr=input_repr)
    assert np.abs(got - expected).max() < PARITY_DB
    # The windows span the range: not a trivially floored comparison.
    assert np.mean(expected > -60) > 0.3


@pytest.mark.parametrize("input_repr", VALID_INPUT_REPRS)
def test_float32_layer_matches_librosa_above_minus_40_db(chirps, input_repr):
    got = run_layer(build_frontend(input_repr, fft_dtype="float32"), chirps)
    expected = compute_spectrograms(chirps, input_repr=input_repr)
    loud = expected > FLOAT32_ABOVE_DB
    assert np.abs(got - expected)[loud].max() < FLOAT32_PARITY_DB


@pytest.mark.parametrize("input_repr", VALID_INPUT_REPRS)
def test_output_range_dtype_and_per_example_maximum(chirps, input_repr):
    batch = np.concatenate([chirps, np.zeros((1, 48_000), np.float32)])
    got = keras.ops.convert_to_numpy(build_frontend(input_repr)(batch))
    assert got.shape == (5, *INPUT_SHAPES[input_repr], 1)
    assert got.dtype == np.float32
    assert got.min() >= -80.0
    np.testing.assert_array_equal(got.max(axis=(1, 2, 3)), np.zeros(5))
    np.testing.assert_array_equal(got[-1], 0.0)  # silence: 0 dB everywhere


def test_factory_returns_the_right_layers():
    assert isinstance(build_frontend("linear"), LinearSpectrogram)
    mel = build_frontend("mel128", name="spec")
    assert isinstance(mel, MelSpectrogram)
    assert (mel.n_mels, mel.name, mel.trainable, mel.weights) == (128, "spec", False, [])


def test_compute_output_shape_of_other_lengths():
    assert LinearSpectrogram().compute_output_shape((None, 48_000)) == (None, 257, 197, 1)
    assert MelSpectrogram(n_mels=256).compute_output_shape((2, 24_200)) == (2, 256, 100, 1)
    assert MelSpectrogram(n_mels=128).compute_output_shape((None, 48_000)) == (None, 128, 199, 1)


@pytest.mark.parametrize(
    "layer",
    [LinearSpectrogram(fft_dtype="float32", name="lin"), MelSpectrogram(n_mels=128, name="mel")],
)
def test_config_round_trip(layer):
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    restored = keras.layers.deserialize(keras.layers.serialize(layer))
    assert type(restored) is type(layer)
    assert restored.get_config() == layer.get_config()


@pytest.mark.parametrize("input_repr", VALID_INPUT_REPRS)
def test_saved_model_round_trip(tmp_path, chirps, input_repr):
    audio = keras.Input(shape=(48_000,), name="audio")
    model = keras.Model(audio, build_frontend(input_repr)(audio))
    path = tmp_path / f"frontend_{input_repr}.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(restored(chirps)), keras.ops.convert_to_numpy(model(chirps))
    )


def test_rejects_bad_arguments():
    with pytest.raises(ParameterError, match="input_repr"):
        build_frontend("cqt")
    with pytest.raises(ParameterError, match="n_mels"):
        MelSpectrogram(n_mels=64)
    with pytest.raises(ParameterError, match="fft_dtype"):
        LinearSpectrogram(fft_dtype="float16")
    with pytest.raises(ParameterError, match="window length"):
        LinearSpectrogram().compute_output_shape((None, None))


@pytest.mark.parametrize("backend", ["jax", "tensorflow"])
def test_float64_turns_on_jax_x64_only_on_jax(monkeypatch, caplog, backend):
    updates = []
    config = types.SimpleNamespace(jax_enable_x64=False)

    def update(name, value):
        updates.append((name, value))
        setattr(config, name, value)

    config.update = update
    monkeypatch.setitem(sys.modules, "jax", types.SimpleNamespace(config=config))
    monkeypatch.setattr(keras.backend, "backend", lambda: backend)
    with caplog.at_level("INFO", logger="l3_kedro.models.frontends"):
        assert enable_fft_dtype("float32") == "float32"
        assert updates == []
        enable_fft_dtype("float64")
        enable_fft_dtype("float64")
    if backend == "jax":
        assert updates == [("jax_enable_x64", True)]
        assert sum("jax_enable_x64" in r.message for r in caplog.records) == 1
    else:
        assert updates == []
        assert not caplog.records
    with pytest.raises(ParameterError, match="fft_dtype"):
        enable_fft_dtype("float16")
