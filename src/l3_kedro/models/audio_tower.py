"""The L3-Net audio tower: embedding model and AVC training sub-network.

Both variants share the trunk of :func:`l3_kedro.models.blocks.vgg_trunk`
(input BatchNorm, four VGG blocks of 64/128/256/512 filters, 2x2 max-pools
after blocks 1-3) and differ only after the last convolution,
``audio_block4_conv2``:

- training (:func:`build_audio_training_tower`): BatchNorm -> ReLU -> global
  max-pool to 512 dims, as in the authors' training code (l3embedding);
- embedding (:func:`build_audio_tower`): the raw output of the last conv,
  before BatchNorm and ReLU, max-pooled with the per-repr pool size
  ('same' padding) and flattened. This is how OpenL3 builds its embedding
  models ("replacing the layer's non-linear activation with a max-pooling
  layer", paper section 2); the embedding model therefore has no
  ``audio_block4_bn2`` and has 2,048 fewer parameters than the training
  tower at width 1.0 (4,689,860 against 4,691,908).

Width multiplier: every block's filters scale (:func:`scale_filters`) while
the pool sizes stay, so the embedding dimension is ``cells * channels`` with
``cells`` = 12 for the 6144 size and 1 for the 512 size; 6144 and 512 are
exact only at width 1.0 (width 0.25: 1,536 and 128). See
:func:`audio_embedding_dim`.
"""

from __future__ import annotations

import math

import keras

from l3_kedro.audio.constants import INPUT_SHAPES, WINDOW_SAMPLES, check_input_repr
from l3_kedro.errors import ParameterError
from l3_kedro.models.blocks import block_filters, vgg_trunk
from l3_kedro.models.constants import AUDIO_POOLING_SIZES, VALID_EMBEDDING_SIZES, WEIGHT_DECAY
from l3_kedro.models.frontends import build_frontend

__all__ = [
    "add_audio_embedding_head",
    "audio_embedding_dim",
    "build_audio_tower",
    "build_audio_training_tower",
]

_N_POOLS = 3


def _check_embedding_size(embedding_size: int) -> int:
    if embedding_size not in VALID_EMBEDDING_SIZES:
        raise ParameterError(
            f"embedding_size={embedding_size!r} is not supported; "
            f"use one of {VALID_EMBEDDING_SIZES}."
        )
    return embedding_size


def audio_embedding_dim(*, input_repr: str, embedding_size: int, width: float = 1.0) -> int:
    """Return the actual audio embedding dimension of a tower.

    Parameters
    ----------
    input_repr : {"linear", "mel128", "mel256"}
        Input representation.
    embedding_size : {512, 6144}
        Nominal embedding size (selects the pool size).
    width : float
        Width multiplier of the tower.

    Returns
    -------
    int
        Equal to ``embedding_size`` at width 1.0; otherwise the pooled cell
        count times ``round(512 * width)`` channels.
    """
    bins, frames = INPUT_SHAPES[check_input_repr(input_repr)]
    pool_rows, pool_cols = AUDIO_POOLING_SIZES[input_repr][_check_embedding_size(embedding_size)]
    rows, cols = bins >> _N_POOLS, frames >> _N_POOLS
    cells = math.ceil(rows / pool_rows) * math.ceil(cols / pool_cols)
    return cells * block_filters(width=width)[-1]


def _audio_inputs(*, input_repr: str, include_frontend: bool, fft_dtype: str):
    """Return (model input, spectrogram tensor of shape (batch, bins, frames, 1))."""
    if include_frontend:
        audio = keras.Input(shape=(WINDOW_SAMPLES,), dtype="float32", name="audio")
        return audio, build_frontend(input_repr, fft_dtype=fft_dtype, name="audio_frontend")(audio)
    spec = keras.Input(shape=(*INPUT_SHAPES[input_repr], 1), dtype="float32", name="spectrogram")
    return spec, spec


def add_audio_embedding_head(conv_output, *, input_repr: str, embedding_size: int):
    """Pool and flatten the last audio conv's output into the embedding.

    Parameters
    ----------
    conv_output : KerasTensor, shape (batch, rows, cols, channels)
        Raw output of ``audio_block4_conv2`` (before BatchNorm and ReLU).
    input_repr : {"linear", "mel128", "mel256"}
        Input representation (selects the pool size).
    embedding_size : {512, 6144}
        Nominal embedding size (selects the pool size).

    Returns
    -------
    KerasTensor, shape (batch, dim)
        Output of the Flatten layer named ``audio_embedding``; see
        :func:`audio_embedding_dim` for ``dim``.
    """
    pool_size = AUDIO_POOLING_SIZES[check_input_repr(input_repr)][
        _check_embedding_size(embedding_size)
    ]
    y = keras.layers.MaxPooling2D(pool_size, padding="same", name="audio_embedding_pool")(
        conv_output
    )
    return keras.layers.Flatten(name="audio_embedding")(y)


def build_audio_tower(
    *,
    input_repr: str,
    embedding_size: int = 6144,
    width: float = 1.0,
    include_frontend: bool = True,
    weight_decay: float = WEIGHT_DECAY,
    fft_dtype: str = "float64",
    filters: tuple[int, ...] | None = None,
    name: str = "audio_embedding_model",
) -> keras.Model:
    """Build the L3-Net audio embedding model.

    Parameters
    ----------
    input_repr : {"linear", "mel128", "mel256"}
        Input representation.
    embedding_size : {512, 6144}
        Nominal embedding size (pool sizes of ``AUDIO_POOLING_SIZES``).
    width : float
        Width multiplier of every block (1.0 = the paper's 4.69M-parameter
        network).
    include_frontend : bool
        If True the input is raw audio (batch, 48000) at 48 kHz and the
        spectrogram is computed in the graph (layer ``audio_frontend``);
        if False the input, named ``spectrogram``, is the dB spectrogram
        (batch, bins, frames, 1) of :mod:`l3_kedro.audio.features`.
    weight_decay : float
        L2 factor on the convolution kernels.
    fft_dtype : {"float64", "float32"}
        Precision of the in-graph front-end.
    filters : tuple of int, optional
        Explicit filters of the four blocks; overrides ``width`` (used to
        rebuild a saved tower exactly).
    name : str
        Model name.

    Returns
    -------
    keras.Model
        (batch, 48000) or (batch, bins, frames, 1) -> (batch, dim) float32,
        ``dim`` = ``embedding_size`` at width 1.0 (see
        :func:`audio_embedding_dim`).
    """
    check_input_repr(input_repr)
    _check_embedding_size(embedding_size)
    filters = tuple(filters) if filters is not None else block_filters(width=width)
    inputs, spec = _audio_inputs(
        input_repr=input_repr, include_frontend=include_frontend, fft_dtype=fft_dtype
    )
    conv = vgg_trunk(spec, prefix="audio", filters=filters, l2=weight_decay, activate_last=False)
    outputs = add_audio_embedding_head(conv, input_repr=input_repr, embedding_size=embedding_size)
    return keras.Model(inputs=inputs, outputs=outputs, name=name)


def build_audio_training_tower(
    *,
    input_repr: str,
    width: float = 1.0,
    include_frontend: bool = True,
    weight_decay: float = WEIGHT_DECAY,
    fft_dtype: str = "float64",
    name: str = "audio_tower",
) -> keras.Model:
    """Build the audio sub-network of the AVC training model.

    The trunk ends with ``audio_block4_conv2`` -> ``audio_block4_bn2`` ->
    ``audio_block4_relu2`` -> ``audio_global_pool`` (global max-pool).

    Parameters
    ----------
    input_repr : {"linear", "mel128", "mel256"}
        Input representation.
    width : float
        Width multiplier of every block.
    include_frontend : bool
        Raw audio input (True) or spectrogram input (False), as in
        :func:`build_audio_tower`.
    weight_decay : float
        L2 factor on the convolution kernels.
    fft_dtype : {"float64", "float32"}
        Precision of the in-graph front-end.
    name : str
        Model name (``build_l3net`` relies on ``"audio_tower"``).

    Returns
    -------
    keras.Model
        (batch, 48000) -> (batch, round(512 * width)).
    """
    check_input_repr(input_repr)
    inputs, spec = _audio_inputs(
        input_repr=input_repr, include_frontend=include_frontend, fft_dtype=fft_dtype
    )
    y = vgg_trunk(spec, prefix="audio", filters=block_filters(width=width), l2=weight_decay)
    outputs = keras.layers.GlobalMaxPooling2D(name="audio_global_pool")(y)
    return keras.Model(inputs=inputs, outputs=outputs, name=name)
