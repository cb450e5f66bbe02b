"""Tests of the shared VGG block builder."""

from __future__ import annotations

import keras
import pytest

from l3_kedro.errors import ParameterError
from l3_kedro.models.blocks import block_filters, conv_block, scale_filters, vgg_trunk


@pytest.mark.parametrize(
    ("filters", "width", "expected"),
    [(64, 1.0, 64), (64, 0.25, 16), (512, 0.3, 154), (256, 0.3, 77), (64, 0.001, 1), (64, 2, 128)],
)
def test_scale_filters_rounds_half_up_to_at_least_one(filters, width, expected):
    assert scale_filters(filters, width=width) == expected


@pytest.mark.parametrize("width", [0, -1.0, float("nan"), float("inf"), "1"])
def test_scale_filters_rejects_bad_widths(width):
    with pytest.raises(ParameterError, match="width"):
        scale_filters(64, width=width)


def test_block_filters():
    assert block_filters() == (64, 128, 256, 512)
    assert block_filters(width=0.25) == (16, 32, 64, 128)


def test_conv_block_layers_and_shape():
    x = keras.Input(shape=(17, 12, 3))
    y = conv_block(x, 64, name="b", width=0.5)
    model = keras.Model(x, y)
    assert model.output_shape == (None, 8, 6, 32)
    names = [layer.name for layer in model.layers[1:]]
    assert names == ["b_conv1", "b_bn1", "b_relu1", "b_conv2", "b_bn2", "b_relu2", "b_pool"]
    conv = model.get_layer("b_conv1")
    assert conv.kernel_size == (3, 3)
    assert conv.padding == "same"
    assert isinstance(conv.kernel_initializer, keras.initializers.HeNormal)
    assert conv.kernel_regularizer.l2 == pytest.approx(1e-5)
    assert model.count_params() == (27 * 32 + 32) + (9 * 32 * 32 + 32) + 2 * 4 * 32


def test_conv_block_without_pool_or_last_activation():
    x = keras.Input(shape=(8, 8, 4))
    raw = keras.Model(x, conv_block(x, 6, name="e", pool=False, activate_last=False))
    assert raw.layers[-1].name == "e_conv2"
    assert raw.output_shape == (None, 8, 8, 6)
    same = keras.Model(x, conv_block(x, 6, name="s", pool_padding="same", l2=1e-3))
    assert same.output_shape == (None, 4, 4, 6)
    with pytest.raises(ParameterError, match="activate_last"):
        conv_block(x, 6, name="bad", pool=True, activate_last=False)


def test_vgg_trunk_shapes_and_names():
    x = keras.Input(shape=(256, 199, 1))
    model = keras.Model(x, vgg_trunk(x, prefix="audio", filters=(2, 3, 4, 5), activate_last=False))
    assert model.output_shape == (None, 32, 24, 5)
    assert model.layers[1].name == "audio_input_bn"
    assert model.layers[-1].name == "audio_block4_conv2"
    with pytest.raises(ParameterError, match="filters"):
        vgg_trunk(x, prefix="audio", filters=(2, 3))
