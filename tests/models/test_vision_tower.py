"""Tests of the vision tower."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from l3_kedro.errors import ParameterError
from l3_kedro.models.vision_tower import (
    build_vision_tower,
    build_vision_training_tower,
    image_embedding_dim,
)

# Input BN 12 + convs 4,685,376 + BNs of 7 convs 5,632.
VISION_EMBEDDING_PARAMS = 4_691_020
VISION_TRAINING_PARAMS = 4_693_068


@pytest.mark.parametrize("embedding_size", [8192, 512])
def test_full_width_shapes_and_parameters(embedding_size):
    tower = build_vision_tower(embedding_size=embedding_size)
    assert tower.input_shape == (None, 224, 224, 3)
    assert tower.output_shape == (None, embedding_size)
    assert tower.count_params() == VISION_EMBEDDING_PARAMS
    assert tower.get_layer("vision_block4_conv2").output.shape == (None, 28, 28, 512)


def test_training_tower():
    tower = build_vision_training_tower()
    assert tower.count_params() == VISION_TRAINING_PARAMS
    assert tower.output_shape == (None, 512)
    assert tower.layers[-1].name == "vision_global_pool"


def test_forward_pass_at_small_width(rng):
    tower = build_vision_tower(width=0.125)
    images = rng.uniform(0, 1, size=(2, 224, 224, 3)).astype(np.float32)
    embedding = keras.ops.convert_to_numpy(tower(images))
    assert (
        embedding.shape == (2, image_embedding_dim(embedding_size=8192, width=0.125)) == (2, 1024)
    )


def test_rejects_bad_embedding_size():
    with pytest.raises(ParameterError, match="embedding_size"):
        build_vision_tower(embedding_size=6144)
