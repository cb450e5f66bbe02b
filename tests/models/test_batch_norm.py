"""FusedBatchNormalization: Keras' BatchNorm results through TensorFlow's fused kernel."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from l3_kedro.models.batch_norm import FusedBatchNormalization
from l3_kedro.models.blocks import vgg_trunk


def _pair(shape, **kwargs):
    """A Keras BatchNorm and a fused one with the same random gamma and beta."""
    rng = np.random.default_rng(1)
    layers = keras.layers.BatchNormalization(**kwargs), FusedBatchNormalization(**kwargs)
    gamma = rng.standard_normal(shape[-1]).astype("float32")
    beta = rng.standard_normal(shape[-1]).astype("float32")
    for layer in layers:
        layer.build(shape)
        layer.gamma.assign(gamma)
        layer.beta.assign(beta)
    return layers


def _train_step(layer, x, upstream):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=True)
        loss = tf.reduce_sum(y * upstream)
    grads = tape.gradient(loss, [x, layer.gamma, layer.beta])
    return [y, *grads, layer.moving_mean, layer.moving_variance]


def _op_types(layer, shape, training):
    spec = tf.TensorSpec(shape, "float32")
    graph = tf.function(lambda x: layer(x, training=training)).get_concrete_function(spec).graph
    return {op.type for op in graph.get_operations()}


def test_training_step_matches_keras_batch_norm():
    shape = (16, 24, 20, 8)
    rng = np.random.default_rng(0)
    x = tf.constant((rng.standard_normal(shape) * 3 + 1).astype("float32"))
    upstream = tf.constant(rng.standard_normal(shape).astype("float32"))
    keras_bn, fused_bn = _pair(shape, momentum=0.9)
    for _ in range(3):  # moving statistics accumulate over steps
        expected = _train_step(keras_bn, x, upstream)
        actual = _train_step(fused_bn, x, upstream)
    names = ["outputs", "d/dx", "d/dgamma", "d/dbeta", "moving_mean", "moving_variance"]
    for name, want, got in zip(names, expected, actual, strict=True):
        e, a = np.asarray(want), np.asarray(got)
        # d/dgamma and d/dbeta are sums over 7,680 positions: float32 rounding then depends
        # on the summation order (Keras 3.15.1 changed it: 8.7e-5 on an entry of 3.29 whose
        # neighbours reach 87), so their tolerance scales with the largest entry
        atol = 2e-6 * np.abs(e).max() if name in ("d/dgamma", "d/dbeta") else 2e-5
        np.testing.assert_allclose(a, e, rtol=2e-5, atol=max(atol, 2e-5), err_msg=name)
    np.testing.assert_allclose(
        np.asarray(fused_bn(x, training=False)), np.asarray(keras_bn(x, training=False)), atol=1e-5
    )


def test_fused_kernel_runs_in_training_only():
    shape = (4, 6, 5, 3)
    layer = FusedBatchNormalization()
    layer.build(shape)
    assert "FusedBatchNormV3" in _op_types(layer, shape, training=True)
    assert "FusedBatchNormV3" not in _op_types(layer, shape, training=False)


@pytest.mark.parametrize(
    ("shape", "kwargs"),
    [
        ((4, 6, 3), {}),  # 3-D input
        ((4, 6, 5, 3), {"axis": 1}),  # channels first
        ((4, 6, 5, 3), {"epsilon": 1e-5}),  # below the kernel's minimum epsilon
        ((4, 6, 5, 3), {"center": False}),
    ],
)
def test_other_configurations_use_keras_code(shape, kwargs):
    layer = FusedBatchNormalization(**kwargs)
    layer.build(shape)
    assert "FusedBatchNormV3" not in _op_types(layer, shape, training=True)


def test_model_with_fused_layers_saves_and_loads(tmp_path):
    inputs = keras.Input((16, 12, 1))
    model = keras.Model(inputs, vgg_trunk(inputs, prefix="audio", filters=(2, 2, 2, 2)))
    assert all(
        isinstance(layer, FusedBatchNormalization)
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    )
    path = tmp_path / "trunk.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    x = np.random.default_rng(0).standard_normal((2, 16, 12, 1)).astype("float32")
    np.testing.assert_array_equal(loaded(x), model(x))
    assert isinstance(loaded.get_layer("audio_input_bn"), FusedBatchNormalization)


def test_mixed_precision_matches_keras_batch_norm():
    shape = (4, 8, 8, 3)
    x = tf.constant(np.random.default_rng(2).standard_normal(shape).astype("float16"))
    keras_bn, fused_bn = _pair(shape, dtype="mixed_float16")
    expected, actual = keras_bn(x, training=True), fused_bn(x, training=True)
    assert actual.dtype == expected.dtype == tf.float16
    np.testing.assert_allclose(
        np.asarray(actual, "float32"), np.asarray(expected, "float32"), atol=2e-3
    )
    np.testing.assert_allclose(fused_bn.moving_variance, keras_bn.moving_variance, rtol=1e-3)
