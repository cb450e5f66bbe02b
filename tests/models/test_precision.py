"""bfloat16 inference: the tower computes in bfloat16 with the model's weights, close to float32."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from l3_kedro.api import get_audio_embedding
from l3_kedro.audio import frame_audio, load_audio
from l3_kedro.audio.constants import TARGET_SR
from l3_kedro.datasets.fingerprint import embedding_fingerprint
from l3_kedro.embedding.embedders import L3Embedder, build_embedder
from l3_kedro.embedding.fast import L3FastEmbedder, embed_mode
from l3_kedro.errors import ModelError, ParameterError
from l3_kedro.models.precision import with_compute_precision

TOWER = {"kind": "l3_random", "input_repr": "mel128", "width": 0.125, "seed": 0}


@pytest.fixture(scope="module")
def exact():
    """A random tower whose kernels no initialiser would give (as a trained model's):
    a copy that does not carry the weights over cannot pass for it."""
    embedder = build_embedder("l3", TOWER)
    rng = np.random.default_rng(1)
    for layer in embedder.model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            factor = rng.uniform(0.5, 1.5, layer.kernel.shape).astype(np.float32)
            layer.kernel.assign(keras.ops.convert_to_numpy(layer.kernel) * factor)
    return embedder


@pytest.fixture(scope="module")
def half(exact):
    """``exact``'s model computing in bfloat16."""
    model = with_compute_precision(exact.model, "bfloat16")
    return L3Embedder(model, name="l3", attributes={})


@pytest.fixture(scope="module")
def street(embedded_raw):
    """A real UrbanSound8K clip (4 s) at 48 kHz."""
    path = sorted((embedded_raw / "urbansound8k" / "audio").rglob("*.flac"))[0]
    return load_audio(path, sr=TARGET_SR)[0]


def _centred_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of (n, D) arrays after removing ``b``'s mean row (the part all
    windows of a clip share, which would make any two embeddings look alike)."""
    mean = b.mean(axis=0)
    a, b = a - mean, b - mean
    return (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_float32_is_the_model_itself(exact):
    assert with_compute_precision(exact.model, "float32") is exact.model


def test_the_bfloat16_copy_computes_the_tower_in_bfloat16_with_the_same_weights(exact):
    copy = with_compute_precision(exact.model, "bfloat16")
    assert copy is with_compute_precision(exact.model, "bfloat16")  # made once
    assert copy.get_layer("audio_frontend") is exact.model.get_layer("audio_frontend")
    tower = [layer for layer in copy.layers if layer.name.startswith("audio_block")]
    assert tower and all(layer.compute_dtype == "bfloat16" for layer in tower)
    assert exact.model.get_layer(tower[0].name).compute_dtype == "float32"  # original untouched
    for mine, theirs in zip(copy.weights, exact.model.weights, strict=True):
        assert mine.dtype == "float32"
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(mine), theirs.numpy())


def test_bfloat16_embeddings_are_close_to_float32_but_not_equal(exact, half, street):
    windows, _ = frame_audio(street, TARGET_SR, hop_size=0.1)
    reference = exact.embed_windows(windows)
    ours = half.embed_windows(windows)
    assert ours.dtype == np.float32 and ours.shape == reference.shape
    assert not np.array_equal(ours, reference)  # it did compute in bfloat16
    assert _centred_cosines(ours, reference).min() > 0.99


def test_fast_mode_runs_in_bfloat16_too(exact, half, street):
    fast, both = L3FastEmbedder(exact, span_s=3.0), L3FastEmbedder(half, span_s=3.0)
    reference, stamps = fast.embed(street, TARGET_SR, hop_size=0.1, center=True)
    ours, our_stamps = both.embed(street, TARGET_SR, hop_size=0.1, center=True)
    np.testing.assert_array_equal(our_stamps, stamps)
    assert not np.array_equal(ours, reference)
    assert _centred_cosines(ours, reference).min() > 0.99


def test_precision_is_an_option_of_the_l3_kinds_only():
    assert embed_mode("h", {"kind": "handcrafted"}, {"precision": "bfloat16"}) == {
        "kind": "handcrafted"
    }
    assert embed_mode("l3", TOWER, {"precision": "float32"}) == TOWER
    assert embed_mode("l3", TOWER, {"precision": "bfloat16"})["precision"] == "bfloat16"
    assert embed_mode("l3", {**TOWER, "precision": "float32"}, {"precision": "bfloat16"}) == TOWER
    with pytest.raises(ParameterError, match=r"embed\.models\.h\.precision.*kinds"):
        embed_mode("h", {"kind": "handcrafted", "precision": "bfloat16"}, {})
    with pytest.raises(ParameterError, match=r"'embed\.precision' must be one of"):
        embed_mode("l3", TOWER, {"precision": "float16"})
    assert "precision" not in build_embedder("l3", TOWER).attributes
    both = build_embedder("l3", {**TOWER, "mode": "fast", "precision": "bfloat16"})
    assert both.attributes["precision"] == "bfloat16" and both.attributes["mode"] == "fast"


def test_a_model_without_front_end_has_no_bfloat16_copy():
    inputs = keras.Input((8,))
    plain = keras.Model(inputs, keras.layers.Dense(2)(inputs))
    with pytest.raises(ModelError, match="audio_frontend"):
        with_compute_precision(plain, "bfloat16")


def test_the_precision_counts_in_the_fingerprint_only_when_it_is_bfloat16(embedded_raw):
    from l3_kedro.layouts.urbansound8k import read_urbansound8k

    clips = read_urbansound8k(root=embedded_raw / "urbansound8k").head(2)
    before = embedding_fingerprint(clips, TOWER, {"hop_size": 0.1})
    settings = {"hop_size": 0.1, "precision": "float32"}
    assert embedding_fingerprint(clips, embed_mode("l3", TOWER, settings), settings) == before
    settings = {"hop_size": 0.1, "precision": "bfloat16"}
    assert embedding_fingerprint(clips, embed_mode("l3", TOWER, settings), settings) != before


def test_the_api_takes_a_precision(exact, street):
    reference, stamps = get_audio_embedding(street, TARGET_SR, model=exact.model)
    ours, our_stamps = get_audio_embedding(
        street, TARGET_SR, model=exact.model, precision="bfloat16"
    )
    np.testing.assert_array_equal(our_stamps, stamps)
    assert not np.array_equal(ours, reference)
    assert _centred_cosines(ours, reference).min() > 0.99
    with pytest.raises(ParameterError, match="'precision' must be one of"):
        get_audio_embedding(street, TARGET_SR, model=exact.model, precision="half")


def test_the_evaluations_mlflow_run_records_mode_and_precision_when_not_the_default():
    from l3_kedro.pipelines.downstream_eval.nodes import computation_params

    fast = build_embedder("l3", {**TOWER, "mode": "fast", "span_s": 4, "precision": "bfloat16"})
    assert computation_params(fast.attributes) == {
        "mode": "fast", "span_s": 4.0, "precision": "bfloat16"
    }  # fmt: skip
    assert computation_params(build_embedder("l3", TOWER).attributes) == {}
