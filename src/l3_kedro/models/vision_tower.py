"""The L3-Net vision tower: image embedding model and AVC training sub-network.

Same trunk as the audio tower (:func:`l3_kedro.models.blocks.vgg_trunk`,
layers prefixed ``vision_``) on 224 x 224 x 3 images, with an input
BatchNorm as in the authors' mel-spectrogram training models. The image
embedding max-pools the raw output of ``vision_block4_conv2`` (7 x 7 -> 8192
dims, 28 x 28 -> 512 dims at width 1.0); the training tower applies
BatchNorm, ReLU and a global max-pool instead.

One deliberate difference from the authors' code: their first vision block
applies ReLU before BatchNorm after its second convolution; here every block
comes from the one shared builder (Conv -> BatchNorm -> ReLU). The parameter
count is the same.

The image embedding takes float32 RGB (scaling is left to the caller; the
input BatchNorm absorbs any fixed scale). The training tower takes uint8 RGB
and scales and colour-jitters it in the graph
(:class:`~l3_kedro.models.image_input.ImageColourJitter`), so that training
batches stay small on their way to an accelerator.
"""

from __future__ import annotations

import math

import keras

from l3_kedro.errors import ParameterError
from l3_kedro.models.blocks import block_filters, vgg_trunk
from l3_kedro.models.constants import (
    IMAGE_POOLING_SIZES,
    IMAGE_SHAPE,
    VALID_IMAGE_EMBEDDING_SIZES,
    WEIGHT_DECAY,
)
from l3_kedro.models.image_input import ImageColourJitter

__all__ = ["build_vision_tower", "build_vision_training_tower", "image_embedding_dim"]

_N_POOLS = 3


def _check_embedding_size(embedding_size: int) -> int:
    if embedding_size not in VALID_IMAGE_EMBEDDING_SIZES:
        raise ParameterError(
            f"embedding_size={embedding_size!r} is not supported for images; "
            f"use one of {VALID_IMAGE_EMBEDDING_SIZES}."
        )
    return embedding_size


def image_embedding_dim(*, embedding_size: int, width: float = 1.0) -> int:
    """Return the actual image embedding dimension of a vision tower.

    Parameters
    ----------
    embedding_size : {512, 8192}
        Nominal embedding size (selects the pool size).
    width : float
        Width multiplier of the tower.

    Returns
    -------
    int
        ``embedding_size`` at width 1.0; otherwise 16 or 1 pooled cells times
        ``round(512 * width)`` channels.
    """
    pool = IMAGE_POOLING_SIZES[_check_embedding_size(embedding_size)]
    rows, cols = IMAGE_SHAPE[0] >> _N_POOLS, IMAGE_SHAPE[1] >> _N_POOLS
    cells = math.ceil(rows / pool[0]) * math.ceil(cols / pool[1])
    return cells * block_filters(width=width)[-1]


def build_vision_tower(
    *,
    embedding_size: int = 8192,
    width: float = 1.0,
    weight_decay: float = WEIGHT_DECAY,
    name: str = "vision_embedding_model",
) -> keras.Model:
    """Build the L3-Net image embedding model.

    Parameters
    ----------
    embedding_size : {512, 8192}
        Nominal embedding size.
    width : float
        Width multiplier of every block.
    weight_decay : float
        L2 factor on the convolution kernels.
    name : str
        Model name.

    Returns
    -------
    keras.Model
        (batch, 224, 224, 3) image, input named ``image`` -> (batch, dim),
        output layer ``vision_embedding``; ``dim`` = ``embedding_size`` at
        width 1.0 (see :func:`image_embedding_dim`).
    """
    pool = IMAGE_POOLING_SIZES[_check_embedding_size(embedding_size)]
    image = keras.Input(shape=IMAGE_SHAPE, dtype="float32", name="image")
    conv = vgg_trunk(
        image,
        prefix="vision",
        filters=block_filters(width=width),
        l2=weight_decay,
        activate_last=False,
        pool_padding="same",
    )
    y = keras.layers.MaxPooling2D(pool, padding="same", name="vision_embedding_pool")(conv)
    y = keras.layers.Flatten(name="vision_embedding")(y)
    return keras.Model(inputs=image, outputs=y, name=name)


def build_vision_training_tower(
    *,
    width: float = 1.0,
    weight_decay: float = WEIGHT_DECAY,
    image_size: int = IMAGE_SHAPE[0],
    name: str = "vision_tower",
) -> keras.Model:
    """Build the vision sub-network of the AVC training model.

    Parameters
    ----------
    width : float
        Width multiplier of every block.
    weight_decay : float
        L2 factor on the convolution kernels.
    image_size : int
        Side of the square input image in pixels: 224 in the paper; smaller
        sizes (at least 16) make laptop-scale training affordable.
    name : str
        Model name (``build_l3net`` relies on ``"vision_tower"``).

    Returns
    -------
    keras.Model
        (batch, image_size, image_size, 3) uint8 RGB -> (batch, round(512 *
        width)): ``vision_colour_jitter`` (scaling to [0, 1], colour
        augmentation in training), then the trunk, ending with
        ``vision_block4_bn2`` -> ``vision_block4_relu2`` -> ``vision_global_pool``.
    """
    if not isinstance(image_size, int) or image_size < 2**_N_POOLS * 2:
        raise ParameterError(
            f"image_size={image_size!r} must be an integer of at least {2**_N_POOLS * 2} pixels."
        )
    image = keras.Input(shape=(image_size, image_size, 3), dtype="uint8", name="image")
    y = vgg_trunk(
        ImageColourJitter(name="vision_colour_jitter")(image),
        prefix="vision",
        filters=block_filters(width=width),
        l2=weight_decay,
        pool_padding="same",
    )
    y = keras.layers.GlobalMaxPooling2D(name="vision_global_pool")(y)
    return keras.Model(inputs=image, outputs=y, name=name)
