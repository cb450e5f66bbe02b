"""Tests of the AVC model, embedding extraction and weight transfer by name."""

from __future__ import annotations

import zipfile

import keras
import numpy as np
import pytest

from l3_kedro.audio.features import compute_spectrograms
from l3_kedro.errors import ModelError, ParameterError
from l3_kedro.models.audio_tower import build_audio_tower
from l3_kedro.models.l3net import (
    audio_embedding_model_from_l3net,
    build_l3net,
    copy_weights_by_name,
    infer_input_repr,
    load_audio_embedding_model,
)

SMALL = 0.125
# Audio training tower 4,691,908 + vision training tower 4,693,068
# + Dense 1024 -> 128 (131,200) + Dense 128 -> 2 (258).
L3NET_PARAMS = 9_516_434


def randomise(model: keras.Model, rng: np.random.Generator) -> None:
    """Give every weight random values (positive BatchNorm variances)."""
    for weight in model.weights:
        values = rng.normal(0, 0.1, size=weight.shape)
        if "variance" in weight.path:
            values = rng.uniform(0.5, 2.0, size=weight.shape)
        weight.assign(values.astype(np.float32))


def predict(model: keras.Model, inputs) -> np.ndarray:
    return keras.ops.convert_to_numpy(model(inputs, training=False))


@pytest.fixture
def small_l3net(rng) -> keras.Model:
    model = build_l3net(input_repr="mel128", width=SMALL)
    randomise(model, rng)
    return model


def test_full_width_parameter_count_and_names():
    model = build_l3net(input_repr="mel256")
    assert model.count_params() == L3NET_PARAMS
    names = [layer.name for layer in model.layers]
    for name in ["audio", "image", "audio_tower", "vision_tower", "fusion_concat", "fusion_dense"]:
        assert name in names
    assert model.layers[-1].name == "fusion_softmax"
    assert model.get_layer("fusion_dense").kernel_regularizer.l2 == pytest.approx(1e-5)


def test_forward_pass_at_small_width(small_l3net, chirps, rng):
    images = rng.uniform(0, 1, size=(2, 224, 224, 3)).astype(np.float32)
    probs = predict(small_l3net, {"audio": chirps[:2], "image": images})
    assert probs.shape == (2, 2)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)


@pytest.mark.parametrize(("embedding_size", "dim"), [(6144, 768), (512, 64)])
def test_extracted_embedding_shares_weights(small_l3net, chirps, embedding_size, dim):
    embed = audio_embedding_model_from_l3net(small_l3net, embedding_size=embedding_size)
    tower = small_l3net.get_layer("audio_tower")
    assert embed.get_layer("audio_block1_conv1") is tower.get_layer("audio_block1_conv1")
    assert "audio_block4_bn2" not in {layer.name for layer in embed.layers}
    before = predict(embed, chirps)
    assert before.shape == (4, dim)
    for weight in tower.get_layer("audio_block4_conv2").weights:  # kernel and bias
        weight.assign(weight * 2.0)
    np.testing.assert_allclose(predict(embed, chirps), 2.0 * before, rtol=1e-5, atol=1e-6)


def test_transfer_by_name_gives_identical_embeddings(small_l3net, chirps):
    shared = audio_embedding_model_from_l3net(small_l3net, embedding_size=6144)
    fresh = build_audio_tower(input_repr="mel128", embedding_size=6144, width=SMALL)
    copied = copy_weights_by_name(source=small_l3net, target=fresh)
    assert len(copied) == 1 + 4 * 2 + 7  # input BN, 8 convs, 7 block BNs
    np.testing.assert_array_equal(predict(fresh, chirps), predict(shared, chirps))


def test_spectrogram_input_model_on_librosa_features(small_l3net, chirps):
    """The librosa front-end + spectrogram-input model reproduce the in-graph model."""
    in_graph = audio_embedding_model_from_l3net(small_l3net, embedding_size=512)
    offline = build_audio_tower(
        input_repr="mel128", embedding_size=512, width=SMALL, include_frontend=False
    )
    copy_weights_by_name(source=small_l3net, target=offline)
    specs = compute_spectrograms(chirps, input_repr="mel128")[..., np.newaxis]
    expected = predict(in_graph, chirps)
    np.testing.assert_allclose(predict(offline, specs), expected, rtol=1e-4, atol=1e-4)


def test_save_and_load_embedding_model(tmp_path, small_l3net, chirps):
    path = tmp_path / "l3_mel128.keras"
    small_l3net.save(path)
    expected = predict(audio_embedding_model_from_l3net(small_l3net, embedding_size=512), chirps)
    loaded = load_audio_embedding_model(path, embedding_size=512)
    assert loaded.output_shape == (None, 64)
    np.testing.assert_array_equal(predict(loaded, chirps), expected)
    offline = load_audio_embedding_model(path, embedding_size=512, include_frontend=False)
    assert offline.input_shape == (None, 128, 199, 1)
    assert loaded.get_layer("audio_frontend").fft_dtype == "float64"  # the saved model's
    as_float32 = load_audio_embedding_model(path, embedding_size=512, fft_dtype="float32")
    assert as_float32.get_layer("audio_frontend").fft_dtype == "float32"


def test_infer_input_repr():
    assert infer_input_repr(build_l3net(input_repr="linear", width=SMALL)) == "linear"
    tower = build_audio_tower(input_repr="mel256", width=SMALL, include_frontend=False)
    assert infer_input_repr(tower) == "mel256"


def test_errors(tmp_path, small_l3net):
    with pytest.raises(ParameterError, match=r"\.keras"):
        load_audio_embedding_model(tmp_path / "model.h5")
    with pytest.raises(ModelError, match="No saved L3 model"):
        load_audio_embedding_model(tmp_path / "missing.keras")
    (tmp_path / "broken.keras").write_bytes(b"not a zip")
    with pytest.raises(ModelError, match="is not a Keras model file"):
        load_audio_embedding_model(tmp_path / "broken.keras")
    with zipfile.ZipFile(tmp_path / "empty.keras", "w") as archive:
        archive.writestr("readme.txt", "a zip, but no model in it")
    with pytest.raises(ModelError, match="Cannot load the L3 model"):
        load_audio_embedding_model(tmp_path / "empty.keras")
    wider = build_audio_tower(input_repr="mel128", width=2 * SMALL)
    with pytest.raises(ModelError, match="do not fit"):
        copy_weights_by_name(source=small_l3net, target=wider)
    other = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2, name="d")])
    with pytest.raises(ModelError, match="audio_tower"):
        audio_embedding_model_from_l3net(other)
    with pytest.raises(ModelError, match="missing"):
        copy_weights_by_name(source=other, target=wider)


def test_batch_norm_momentum_reaches_every_batch_norm_layer(tmp_path):
    model = build_l3net(input_repr="mel128", width=SMALL, bn_momentum=0.9)
    norms = [
        layer
        for tower in model.layers
        if isinstance(tower, keras.Model)
        for layer in tower.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    assert len(norms) >= 10 and {layer.momentum for layer in norms} == {0.9}
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras", compile=False)
    assert loaded.get_layer("audio_tower").get_layer("audio_input_bn").momentum == 0.9
