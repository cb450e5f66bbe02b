"""Tests of the audio tower: parameter counts, shapes, width, spectrogram input."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from l3_kedro.audio.constants import INPUT_SHAPES, VALID_INPUT_REPRS
from l3_kedro.errors import ParameterError
from l3_kedro.models.audio_tower import (
    audio_embedding_dim,
    build_audio_tower,
    build_audio_training_tower,
)
from l3_kedro.models.constants import VALID_EMBEDDING_SIZES

# Input BN 4 + convs 4,684,224 + BNs of 7 convs 5,632 (no BN after the last conv).
AUDIO_EMBEDDING_PARAMS = 4_689_860
# The training tower adds audio_block4_bn2 (4 x 512).
AUDIO_TRAINING_PARAMS = 4_691_908
SMALL = 0.25


@pytest.mark.parametrize("input_repr", VALID_INPUT_REPRS)
def test_parameter_count_at_full_width(input_repr):
    tower = build_audio_tower(input_repr=input_repr)
    assert tower.count_params() == AUDIO_EMBEDDING_PARAMS
    trainable = sum(int(np.prod(w.shape)) for w in tower.trainable_weights)
    assert trainable == AUDIO_EMBEDDING_PARAMS - 2 * (1 + 2 * (64 + 128 + 256) + 512)
    training = build_audio_training_tower(input_repr=input_repr)
    assert training.count_params() == AUDIO_TRAINING_PARAMS


@pytest.mark.parametrize("input_repr", VALID_INPUT_REPRS)
@pytest.mark.parametrize("embedding_size", VALID_EMBEDDING_SIZES)
def test_output_size_at_full_width(input_repr, embedding_size):
    tower = build_audio_tower(input_repr=input_repr, embedding_size=embedding_size)
    assert tower.input_shape == (None, 48_000)
    assert tower.output_shape == (None, embedding_size)
    assert tower.get_layer("audio_frontend").output.shape == (None, *INPUT_SHAPES[input_repr], 1)
    assert tower.layers[-1].name == "audio_embedding"


@pytest.mark.parametrize("input_repr", VALID_INPUT_REPRS)
@pytest.mark.parametrize("embedding_size", VALID_EMBEDDING_SIZES)
def test_forward_pass_at_small_width(chirps, input_repr, embedding_size):
    tower = build_audio_tower(input_repr=input_repr, embedding_size=embedding_size, width=SMALL)
    embedding = keras.ops.convert_to_numpy(tower(chirps[:2]))
    expected = audio_embedding_dim(
        input_repr=input_repr, embedding_size=embedding_size, width=SMALL
    )
    assert embedding.shape == (2, expected)
    assert expected == embedding_size * SMALL
    assert np.all(np.isfinite(embedding))


def test_embedding_dim_scales_with_the_last_block():
    assert audio_embedding_dim(input_repr="mel256", embedding_size=6144) == 6144
    assert audio_embedding_dim(input_repr="mel128", embedding_size=6144, width=0.3) == 12 * 154
    assert audio_embedding_dim(input_repr="linear", embedding_size=512, width=2.0) == 1024


def test_spectrogram_input_tower(chirps):
    tower = build_audio_tower(input_repr="mel128", include_frontend=False, width=SMALL)
    assert tower.input_shape == (None, 128, 199, 1)
    assert tower.inputs[0].name == "spectrogram"
    assert "audio_frontend" not in {layer.name for layer in tower.layers}
    assert (
        tower.count_params() == build_audio_tower(input_repr="mel128", width=SMALL).count_params()
    )


def test_training_tower_ends_with_bn_relu_global_pool():
    tower = build_audio_training_tower(input_repr="linear", width=SMALL)
    names = [layer.name for layer in tower.layers[-4:]]
    assert names == [
        "audio_block4_conv2",
        "audio_block4_bn2",
        "audio_block4_relu2",
        "audio_global_pool",
    ]
    assert tower.output_shape == (None, 128)


def test_explicit_filters_override_width():
    tower = build_audio_tower(input_repr="mel256", embedding_size=512, filters=(4, 5, 6, 7))
    assert tower.output_shape == (None, 7)
    assert tower.get_layer("audio_block2_conv1").filters == 5


def test_rejects_bad_arguments():
    with pytest.raises(ParameterError, match="input_repr"):
        build_audio_tower(input_repr="mfcc")
    with pytest.raises(ParameterError, match="embedding_size"):
        build_audio_tower(input_repr="mel256", embedding_size=128)
    with pytest.raises(ParameterError, match="width"):
        build_audio_tower(input_repr="mel256", width=0)
