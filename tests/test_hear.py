"""The HEAR 2021 API: model attributes, shapes, millisecond timestamps, tensors."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tensorflow as tf

from l3_kedro import api, hear
from l3_kedro.audio import load_audio
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
    n_timestamps = 31  # centres 0, 50, ..., 1500 ms of a 1.5 s sound: the end is covered
    assert isinstance(embeddings, np.ndarray) and isinstance(timestamps, np.ndarray)
    assert embeddings.shape == (3, n_timestamps, 64)
    assert embeddings.dtype == timestamps.dtype == np.float32
    expected_ms = np.arange(n_timestamps) * 50.0
    np.testing.assert_array_equal(timestamps, np.tile(expected_ms, (3, 1)))


@pytest.mark.parametrize("seconds", [1.07, 1.98, 4.0, 0.25])
def test_timestamps_reach_the_end_of_the_audio(model, seconds):
    """The HEAR validator's rule: last timestamp within one hop of the end, never past it."""
    audio = np.random.default_rng(0).uniform(-1, 1, (2, int(seconds * SR))).astype(np.float32)
    _, timestamps = hear.get_timestamp_embeddings(audio, model)
    steps = np.diff(timestamps, axis=1)
    np.testing.assert_array_equal(steps, 50.0)
    assert timestamps[:, 0].max() == 0.0
    assert 1000 * seconds - 50.0 <= timestamps.max() <= 1000 * seconds


def test_timestamp_embeddings_are_windows_centred_on_the_timestamps(model, sounds):
    """Frame i is the API's 1 s window centred on i * 50 ms, zeros past the end."""
    embeddings, _ = hear.get_timestamp_embeddings(sounds, model)
    padded = np.concatenate([sounds[1], np.zeros(SR // 2, np.float32)])
    expected, centres = api.get_audio_embedding(
        padded, SR, model=tiny_model("mel256"), hop_size=0.05, center=True
    )
    assert_same_embeddings(embeddings[1], expected[:31])
    np.testing.assert_allclose(centres[:31], np.arange(31) * 0.05)
    inside, _ = api.get_audio_embedding(
        sounds[1], SR, model=tiny_model("mel256"), hop_size=0.05, center=True
    )
    assert_same_embeddings(embeddings[1][: len(inside)], inside)  # unchanged before the tail


def test_a_sound_at_the_end_changes_the_last_embedding(model):
    """What the old framing missed: an event in the last half second."""
    quiet = np.zeros((1, 2 * SR), np.float32)
    event = quiet.copy()
    event[0, -SR // 4 :] = np.sin(np.arange(SR // 4) * 2 * np.pi * 1000 / SR)
    last_quiet = hear.get_timestamp_embeddings(quiet, model)[0][0, -1]
    last_event = hear.get_timestamp_embeddings(event, model)[0][0, -1]
    assert np.abs(last_event - last_quiet).max() > 1e-3 * np.abs(last_event).max()


def test_tensorflow_input_gives_tensors_and_scene_embeddings_average_half_seconds(model, sounds):
    from_numpy, _ = hear.get_timestamp_embeddings(sounds, model)
    from_tensor, stamps = hear.get_timestamp_embeddings(tf.constant(sounds), model)
    assert isinstance(from_tensor, tf.Tensor) and isinstance(stamps, tf.Tensor)
    assert from_tensor.dtype == stamps.dtype == tf.float32
    assert_same_embeddings(from_tensor.numpy(), from_numpy)
    scene = hear.get_scene_embeddings(tf.constant(sounds), model)
    assert isinstance(scene, tf.Tensor) and scene.shape == (3, 64)
    assert model.scene_hop_size == hear.SCENE_HOP_SIZE_S == 0.5
    # centres 0, 0.5, 1.0, 1.5 s: every tenth timestamp embedding
    assert_same_embeddings(scene.numpy(), from_numpy[:, ::10].mean(axis=1))
    assert isinstance(hear.get_scene_embeddings(sounds, model), np.ndarray)


def test_torch_input_of_any_kind_gives_torch_tensors(model, sounds):
    torch = pytest.importorskip("torch")
    audio = torch.tensor(sounds, requires_grad=True) * 1.0  # a non-leaf that needs grad
    embeddings, timestamps = hear.get_timestamp_embeddings(audio, model)
    assert isinstance(embeddings, torch.Tensor) and isinstance(timestamps, torch.Tensor)
    assert embeddings.dtype == timestamps.dtype == torch.float32
    assert embeddings.device == audio.device
    expected, _ = hear.get_timestamp_embeddings(sounds, model)
    assert_same_embeddings(embeddings.numpy(), expected)
    scene = hear.get_scene_embeddings(torch.tensor(sounds, dtype=torch.float64), model)
    assert isinstance(scene, torch.Tensor) and scene.shape == (3, 64)


def test_the_hear_validator_finds_nothing_to_warn_about(tmp_path, capsys):
    """``hear-validator l3_kedro.hear -m CHECKPOINT``, in process (the `hear` extra)."""
    pytest.importorskip("torch")
    validate = pytest.importorskip("hearvalidator.validate")
    checkpoint = str(save_tiny_checkpoint(tmp_path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        validate.ValidateModel("l3_kedro.hear", checkpoint)()
    printed = capsys.readouterr().out
    assert "Checking get_scene_embeddings" in printed
    messages = [str(w.message) for w in caught if w.filename.endswith("validate.py")]
    # it always adds one advisory (rounding drift on long audio: our 50 ms hop is
    # 2,400 samples exactly); any other warning is a finding
    assert any("rounding errors" in message for message in messages)
    assert [m for m in messages if "rounding errors" not in m] == []


def test_silent_and_short_sounds_need_no_warning(model, recwarn):
    embeddings, timestamps = hear.get_timestamp_embeddings(np.zeros((2, SR // 4)), model)
    assert embeddings.shape == (2, 6, 64)  # centres 0-250 ms
    np.testing.assert_array_equal(timestamps, np.tile(np.arange(6) * 50.0, (2, 1)))
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
    with pytest.raises(AudioError, match="0 samples"):
        hear.get_timestamp_embeddings(np.zeros((2, 0), np.float32), model)
    empty, stamps = hear.get_timestamp_embeddings(np.zeros((0, SR), np.float32), model)
    assert empty.shape == (0, 21, 64)  # no sounds, the shape of their timestamps
    assert stamps.shape == empty.shape[:2]


def test_load_model_checks_a_given_repr(tmp_path):
    path = str(save_tiny_checkpoint(tmp_path, "mel256"))
    assert hear.load_model(path, input_repr="mel256").timestamp_embedding_size == 64
    with pytest.raises(ModelError, match="pass input_repr='mel256'"):
        hear.load_model(path, input_repr="linear")
    with pytest.raises(ParameterError, match="hop_size"):
        hear.load_model(path, hop_size=0)
    with pytest.raises(ParameterError, match="scene_hop_size"):
        hear.load_model(path, scene_hop_size=-1.0)
