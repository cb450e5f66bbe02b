"""The HEAR 2021 API: model attributes, shapes, millisecond timestamps, tensors."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from l3_kedro import api, hear
from l3_kedro.audio import count_windows, load_audio
from l3_kedro.errors import AudioError, L3KedroWarning, ModelError, ParameterError
from tests.api_fixtures import (
    US8K_FILES,
    assert_same_embeddings,
    save_tiny_checkpoint,
    tiny_model,
)

SR = 48_000


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A HEAR model from a saved tiny (width 0.125, 64-dim) mel256 checkpoint."""
    return hear.load_model(str(save_tiny_checkpoint(tmp_path_factory.mktemp("hear"))))


@pytest.fixture(scope="module")
def sounds() -> np.ndarray:
    """Three 1.5 s real sounds at 48 kHz, shape (3, 72000) float32."""
    rows = [load_audio(path, sr=SR)[0][: 3 * SR // 2] for path in US8K_FILES[:3]]
    return np.stack(rows).astype(np.float32)


def test_model_attributes(model):
    assert model.sample_rate == 48_000
    assert model.scene_embedding_size == model.timestamp_embedding_size == 64
    assert model.hop_size == hear.HOP_SIZE_S == 0.05
    assert isinstance(model, tf.Module)


def test_default_model_is_a_random_512_mel256_network():
    with pytest.warns(L3KedroWarning, match="randomly initialised"):
        model = hear.load_model()
    assert model.scene_embedding_size == model.timestamp_embedding_size == 512
    assert model.embedding_model.get_layer("audio_frontend").n_mels == 256


def test_timestamp_embeddings_shapes_and_millisecond_timestamps(model, sounds):
    embeddings, timestamps = hear.get_timestamp_embeddings(sounds, model)
    n_timestamps = count_windows(sounds.shape[1], SR, hop_size=0.05)
    assert n_timestamps == 21  # centres 0, 50, ..., 1000 ms of a 1.5 s sound
    assert isinstance(embeddings, tf.Tensor) and isinstance(timestamps, tf.Tensor)
    assert embeddings.shape == (3, n_timestamps, 64)
    assert embeddings.dtype == tf.float32
    assert timestamps.shape == (3, n_timestamps)
    expected_ms = np.arange(n_timestamps) * 50.0
    np.testing.assert_allclose(timestamps.numpy(), np.tile(expected_ms, (3, 1)))


def test_timestamp_embeddings_are_the_api_embeddings(model, sounds):
    embeddings, _ = hear.get_timestamp_embeddings(sounds, model)
    expected, _ = api.get_audio_embedding(
        sounds[1], SR, model=tiny_model("mel256"), hop_size=0.05, center=True
    )
    assert_same_embeddings(embeddings.numpy()[1], expected)


def test_tensor_input_and_scene_embeddings(model, sounds):
    from_numpy, _ = hear.get_timestamp_embeddings(sounds, model)
    from_tensor, _ = hear.get_timestamp_embeddings(tf.constant(sounds), model)
    assert_same_embeddings(from_tensor.numpy(), from_numpy.numpy())
    scene = hear.get_scene_embeddings(tf.constant(sounds), model)
    assert isinstance(scene, tf.Tensor) and scene.shape == (3, 64)
    assert_same_embeddings(scene.numpy(), from_numpy.numpy().mean(axis=1))


def test_silent_and_short_sounds_need_no_warning(model, recwarn):
    embeddings, timestamps = hear.get_timestamp_embeddings(np.zeros((2, SR // 4)), model)
    assert embeddings.shape == (2, 1, 64)
    np.testing.assert_array_equal(timestamps.numpy(), [[0.0], [0.0]])
    assert not recwarn.list


def test_bad_input_is_an_error(model, sounds):
    broken = sounds.copy()
    broken[2, 10] = np.nan
    with pytest.raises(AudioError, match="audio clip 2"):
        hear.get_timestamp_embeddings(broken, model)
    with pytest.raises(ParameterError, match=r"\(n_sounds, n_samples\)"):
        hear.get_scene_embeddings(sounds[0], model)
    with pytest.raises(AudioError, match="floating-point"):
        hear.get_scene_embeddings((sounds * 1000).astype(np.int16), model)
    with pytest.raises(ParameterError, match="load_model"):
        hear.get_scene_embeddings(sounds, tiny_model("mel256"))
    empty, stamps = hear.get_timestamp_embeddings(np.zeros((0, SR), np.float32), model)
    assert empty.shape == (0, count_windows(SR, SR, hop_size=0.05), 64)
    assert stamps.shape == empty.shape[:2]


def test_load_model_checks_a_given_repr(tmp_path):
    path = str(save_tiny_checkpoint(tmp_path, "mel256"))
    assert hear.load_model(path, input_repr="mel256").timestamp_embedding_size == 64
    with pytest.raises(ModelError, match="pass input_repr='mel256'"):
        hear.load_model(path, input_repr="linear")
    with pytest.raises(ParameterError, match="hop_size"):
        hear.load_model(path, hop_size=0)
