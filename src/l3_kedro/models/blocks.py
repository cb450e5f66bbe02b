"""The one VGG-style convolution block builder shared by both L3-Net towers.

Layer names are ``{name}_conv{i}``, ``{name}_bn{i}``, ``{name}_relu{i}``
(``i`` = 1, 2) and ``{name}_pool``; the towers pass names such as
``audio_block3`` so that every layer of a network has a stable, unique name
and weights can be transferred between models by layer name.
"""

from __future__ import annotations

import keras

from l3_kedro.errors import ParameterError
from l3_kedro.models.batch_norm import FusedBatchNormalization
from l3_kedro.models.constants import BLOCK_FILTERS, WEIGHT_DECAY

__all__ = ["block_filters", "conv_block", "scale_filters", "vgg_trunk"]


def scale_filters(filters: int, *, width: float) -> int:
    """Scale a filter count by a width multiplier.

    Parameters
    ----------
    filters : int
        Filter count at width 1.0.
    width : float
        Width multiplier, > 0.

    Returns
    -------
    int
        ``filters * width`` rounded half up, at least 1 (e.g. 64 -> 16 at
        width 0.25, 512 -> 154 at width 0.3).

    Raises
    ------
    ParameterError
        If ``width`` is not a positive finite number.
    """
    if not (isinstance(width, (int, float)) and 0 < width < float("inf")):
        raise ParameterError(
            f"width={width!r} must be a positive number (1.0 = the paper's network)."
        )
    return max(1, int(filters * width + 0.5))


def block_filters(*, width: float = 1.0) -> tuple[int, ...]:
    """Return the filters of the four blocks at a width multiplier.

    Parameters
    ----------
    width : float
        Width multiplier, > 0.

    Returns
    -------
    tuple of int
        (64, 128, 256, 512) at width 1.0; (16, 32, 64, 128) at 0.25.
    """
    return tuple(scale_filters(f, width=width) for f in BLOCK_FILTERS)


def conv_block(
    x,
    filters: int,
    *,
    name: str,
    pool: bool = True,
    l2: float = WEIGHT_DECAY,
    width: float = 1.0,
    activate_last: bool = True,
    pool_padding: str = "valid",
):
    """Apply [Conv2D 3x3 -> BatchNorm -> ReLU] x 2 and an optional 2x2 max-pool.

    Convolutions use 'same' padding, ``he_normal`` initialisation and an L2
    penalty on the kernel.

    Parameters
    ----------
    x : KerasTensor, shape (batch, rows, cols, channels)
        Block input.
    filters : int
        Filters of both convolutions at width 1.0.
    name : str
        Prefix of the block's layer names.
    pool : bool
        Whether to end with MaxPooling2D(2, 2), stride 2.
    l2 : float
        L2 factor on the convolution kernels.
    width : float
        Width multiplier applied to ``filters`` (see :func:`scale_filters`).
    activate_last : bool
        If False, the block ends with the second convolution's raw output:
        no second BatchNorm, ReLU or pool (the L3-Net embedding layer).
    pool_padding : {"valid", "same"}
        Padding of the max-pool.

    Returns
    -------
    KerasTensor, shape (batch, rows', cols', round(filters * width))
        ``rows' = rows // 2`` with a 'valid' pool, ``rows`` without pool.

    Raises
    ------
    ParameterError
        If ``pool`` is requested without ``activate_last``, or ``width`` is
        invalid.
    """
    if pool and not activate_last:
        raise ParameterError("conv_block: pool=True needs activate_last=True.")
    n_filters = scale_filters(filters, width=width)
    for i in (1, 2):
        x = keras.layers.Conv2D(
            n_filters,
            (3, 3),
            padding="same",
            kernel_initializer="he_normal",
            kernel_regularizer=keras.regularizers.L2(l2),
            name=f"{name}_conv{i}",
        )(x)
        if i == 2 and not activate_last:
            return x
        x = FusedBatchNormalization(name=f"{name}_bn{i}")(x)
        x = keras.layers.Activation("relu", name=f"{name}_relu{i}")(x)
    if pool:
        x = keras.layers.MaxPooling2D((2, 2), strides=2, padding=pool_padding, name=f"{name}_pool")(
            x
        )
    return x


def vgg_trunk(
    x,
    *,
    prefix: str,
    filters: tuple[int, ...] = BLOCK_FILTERS,
    l2: float = WEIGHT_DECAY,
    activate_last: bool = True,
    pool_padding: str = "valid",
):
    """Apply the L3-Net trunk: an input BatchNorm and four conv blocks.

    Blocks 1-3 end with a 2x2 max-pool; block 4 has none.

    Parameters
    ----------
    x : KerasTensor, shape (batch, rows, cols, channels)
        Spectrogram (audio) or image (vision).
    prefix : str
        ``"audio"`` or ``"vision"``: layers are named ``{prefix}_input_bn``
        and ``{prefix}_block{k}_...`` (k = 1..4).
    filters : tuple of int
        Filters of the four blocks, already scaled by any width multiplier.
    l2 : float
        L2 factor on the convolution kernels.
    activate_last : bool
        If False, the trunk ends with ``{prefix}_block4_conv2``'s raw output
        (embedding models); if True, with its BatchNorm and ReLU (training).
    pool_padding : {"valid", "same"}
        Padding of the three max-pools.

    Returns
    -------
    KerasTensor, shape (batch, rows // 8, cols // 8, filters[-1])
        Output of the fourth block.
    """
    if len(filters) != len(BLOCK_FILTERS):
        raise ParameterError(f"filters={filters!r} must give {len(BLOCK_FILTERS)} block widths.")
    x = FusedBatchNormalization(name=f"{prefix}_input_bn")(x)
    last = len(filters) - 1
    for k, n_filters in enumerate(filters):
        x = conv_block(
            x,
            n_filters,
            name=f"{prefix}_block{k + 1}",
            pool=k < last,
            l2=l2,
            activate_last=activate_last or k < last,
            pool_padding=pool_padding,
        )
    return x
