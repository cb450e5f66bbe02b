"""The L3-Net audio-visual correspondence (AVC) model and its embedding models.

Layer names are stable so that weights move between models by name:

==========================  ===============================================
name                        layer
==========================  ===============================================
``audio``, ``image``        inputs of :func:`build_l3net` (dict keys too)
``audio_tower``             nested audio training tower (raw audio -> 512w)
``vision_tower``            nested vision training tower (image -> 512w)
``audio_frontend``          in-graph spectrogram layer (no weights)
``vision_colour_jitter``    uint8 image -> [0, 1], colour augmentation in
                            training (no weights; saves its seed state)
``{p}_input_bn``            BatchNorm on the spectrogram / image
``{p}_block{k}_conv{i}``    convolutions, k = 1..4, i = 1, 2
``{p}_block{k}_bn{i}``      their BatchNorms (no ``_block4_bn2`` in
                            embedding models)
``{p}_block{k}_relu{i}``    ReLUs; ``{p}_block{k}_pool`` max-pools (k <= 3)
``{p}_global_pool``         global max-pool of the training towers
``audio_embedding_pool``    embedding max-pool (per repr and size)
``audio_embedding``         flattened audio embedding (model output)
``fusion_concat``           [vision, audio] concatenation
``fusion_dense``            Dense 128 ReLU
``fusion_softmax``          Dense 2 softmax (correspondence probabilities)
==========================  ===============================================

``{p}`` is ``audio`` or ``vision``; ``audio_block4_conv2`` is the embedding
layer. The label convention of the two softmax outputs belongs to the
sample generator.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import keras

from l3_kedro.audio.constants import INPUT_SHAPES
from l3_kedro.errors import ModelError, ParameterError
from l3_kedro.models.audio_tower import (
    add_audio_embedding_head,
    build_audio_tower,
    build_audio_training_tower,
)
from l3_kedro.models.constants import FUSION_UNITS, IMAGE_SHAPE, WEIGHT_DECAY
from l3_kedro.models.vision_tower import build_vision_training_tower

__all__ = [
    "audio_embedding_model_from_l3net",
    "build_l3net",
    "copy_weights_by_name",
    "infer_input_repr",
    "load_audio_embedding_model",
]

EMBEDDING_LAYER = "audio_block4_conv2"


def build_l3net(
    *,
    input_repr: str,
    width: float = 1.0,
    weight_decay: float = WEIGHT_DECAY,
    fft_dtype: str = "float64",
    image_size: int = IMAGE_SHAPE[0],
    bn_momentum: float = 0.99,
    sync_batch_norm: bool = False,
    name: str = "l3net",
) -> keras.Model:
    """Build the (uncompiled) L3-Net model for audio-visual correspondence.

    Parameters
    ----------
    input_repr : {"linear", "mel128", "mel256"}
        Audio input representation.
    width : float
        Width multiplier of both towers (1.0 = the paper's network).
    weight_decay : float
        L2 factor on every convolution and dense kernel.
    fft_dtype : {"float64", "float32"}
        Precision of the in-graph audio front-end.
    image_size : int
        Side of the square input image in pixels (224 in the paper).
    bn_momentum : float
        Momentum of every BatchNormalization's moving statistics (Keras'
        0.99, as the authors' code; lower follows the weights faster on a
        short training run).
    sync_batch_norm : bool
        BatchNormalization statistics over the global batch of all replicas
        (``synchronized``) when trained under a ``tf.distribute`` strategy.
    name : str
        Model name.

    Returns
    -------
    keras.Model
        Inputs ``{"audio": (batch, 48000) float32 at 48 kHz, "image":
        (batch, image_size, image_size, 3) uint8 RGB}``; output (batch, 2) softmax
        probabilities. Compile it with Adam and categorical cross-entropy.
    """
    audio_tower = build_audio_training_tower(
        input_repr=input_repr, width=width, weight_decay=weight_decay, fft_dtype=fft_dtype
    )
    vision_tower = build_vision_training_tower(
        width=width, weight_decay=weight_decay, image_size=image_size
    )
    audio = keras.Input(shape=audio_tower.input_shape[1:], dtype="float32", name="audio")
    image = keras.Input(shape=vision_tower.input_shape[1:], dtype="uint8", name="image")
    y = keras.layers.Concatenate(name="fusion_concat")([vision_tower(image), audio_tower(audio)])
    for units, activation, layer_name in (
        (FUSION_UNITS, "relu", "fusion_dense"),
        (2, "softmax", "fusion_softmax"),
    ):
        y = keras.layers.Dense(
            units,
            activation=activation,
            kernel_initializer="he_normal",
            kernel_regularizer=keras.regularizers.L2(weight_decay),
            name=layer_name,
        )(y)
    model = keras.Model(inputs={"audio": audio, "image": image}, outputs=y, name=name)
    for layer in _batch_norms(model):
        layer.momentum = bn_momentum
        layer.synchronized = sync_batch_norm
    return model


def _batch_norms(model: keras.Model):
    """Every BatchNormalization layer of a model, nested models included."""
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _batch_norms(layer)
        elif isinstance(layer, keras.layers.BatchNormalization):
            yield layer


def _find_audio_tower(model: keras.Model) -> keras.Model:
    """Return the nested ``audio_tower`` of an L3 model, or ``model`` itself."""
    names = {layer.name for layer in model.layers}
    if "audio_tower" in names:
        return model.get_layer("audio_tower")
    if EMBEDDING_LAYER in names:
        return model
    raise ModelError(
        f"Model {model.name!r} has neither an 'audio_tower' nor an {EMBEDDING_LAYER!r} "
        "layer; pass a model built by build_l3net or build_audio_tower."
    )


def infer_input_repr(model: keras.Model) -> str:
    """Return the input representation of an L3 model or audio tower.

    Parameters
    ----------
    model : keras.Model
        Built by :func:`build_l3net`, :func:`build_audio_tower` or
        :func:`build_audio_training_tower` (or loaded from their files).

    Returns
    -------
    str
        The repr whose spectrogram shape (bins, frames) feeds
        ``audio_input_bn``.

    Raises
    ------
    ModelError
        If the model has no audio tower or an unknown spectrogram shape.
    """
    tower = _find_audio_tower(model)
    shape = tuple(tower.get_layer("audio_input_bn").input.shape[1:3])
    for input_repr, repr_shape in INPUT_SHAPES.items():
        if shape == repr_shape:
            return input_repr
    raise ModelError(
        f"Model {model.name!r} takes spectrograms of shape {shape}, which match no input_repr."
    )


def audio_embedding_model_from_l3net(
    l3net_model: keras.Model, *, embedding_size: int = 6144, name: str = "audio_embedding_model"
) -> keras.Model:
    """Return the audio embedding model of an L3 model, sharing its weights.

    The embedding is the raw output of ``audio_block4_conv2`` (before the
    training tower's BatchNorm and ReLU), max-pooled per repr and size and
    flattened; changing the L3 model's weights changes the embeddings.

    Parameters
    ----------
    l3net_model : keras.Model
        Built by :func:`build_l3net` (or an audio tower).
    embedding_size : {512, 6144}
        Nominal embedding size.
    name : str
        Model name.

    Returns
    -------
    keras.Model
        Same input as the audio tower (raw audio (batch, 48000)) ->
        (batch, dim), output layer ``audio_embedding``.
    """
    tower = _find_audio_tower(l3net_model)
    conv = tower.get_layer(EMBEDDING_LAYER).output
    outputs = add_audio_embedding_head(
        conv, input_repr=infer_input_repr(tower), embedding_size=embedding_size
    )
    return keras.Model(inputs=tower.input, outputs=outputs, name=name)


def _weighted_layers(model: keras.Model) -> dict[str, keras.layers.Layer]:
    """Map layer name -> layer for every layer with weights, nested models flattened."""
    layers: dict[str, keras.layers.Layer] = {}
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            nested = _weighted_layers(layer)
            clash = layers.keys() & nested.keys()
        elif layer.weights:
            nested, clash = {layer.name: layer}, layers.keys() & {layer.name}
        else:
            continue
        if clash:
            raise ModelError(f"Model {model.name!r} has several layers named {sorted(clash)}.")
        layers.update(nested)
    return layers


def copy_weights_by_name(*, source: keras.Model, target: keras.Model) -> list[str]:
    """Copy the weights of every layer of ``target`` from its namesake in ``source``.

    Nested models are searched; ``source`` may hold more layers (vision
    tower, fusion head, ``audio_block4_bn2`` ...) than ``target``.

    Parameters
    ----------
    source : keras.Model
        Model holding trained weights (e.g. from :func:`build_l3net`).
    target : keras.Model
        Model to fill (e.g. from :func:`build_audio_tower`), modified in place.

    Returns
    -------
    list of str
        Names of the layers whose weights were copied.

    Raises
    ------
    ModelError
        If a weighted layer of ``target`` is missing from ``source`` or its
        weights have other shapes (different repr or width).
    """
    source_layers = _weighted_layers(source)
    copied = []
    for layer_name, layer in _weighted_layers(target).items():
        if layer_name not in source_layers:
            raise ModelError(
                f"Layer {layer_name!r} of {target.name!r} is missing from {source.name!r}."
            )
        weights = source_layers[layer_name].get_weights()
        shapes = [tuple(w.shape) for w in weights]
        if shapes != [tuple(w.shape) for w in layer.weights]:
            raise ModelError(
                f"Layer {layer_name!r}: weights of shapes {shapes} in {source.name!r} do not fit "
                f"{target.name!r}; build the target with the source's input_repr and width."
            )
        layer.set_weights(weights)
        copied.append(layer_name)
    return copied


def load_audio_embedding_model(
    path: str | Path,
    *,
    embedding_size: int = 6144,
    include_frontend: bool = True,
    fft_dtype: str | None = None,
    name: str = "audio_embedding_model",
) -> keras.Model:
    """Build an audio embedding model and load its weights from a saved L3 model.

    The repr, block widths and front-end precision (unless ``fft_dtype`` is
    given) are read from the saved model; only the audio layers are kept.

    Parameters
    ----------
    path : str or Path
        ``.keras`` file of a model from :func:`build_l3net` (or of an audio
        tower).
    embedding_size : {512, 6144}
        Nominal embedding size.
    include_frontend : bool
        Raw audio input (True) or librosa spectrogram input (False).
    fft_dtype : {"float64", "float32"} or None
        Precision of the in-graph front-end; None keeps the saved model's
        (float64 if it has no front-end).
    name : str
        Model name.

    Returns
    -------
    keras.Model
        See :func:`build_audio_tower`.

    Raises
    ------
    ParameterError
        If ``path`` does not end in ``.keras``.
    ModelError
        If the file is missing, unreadable or holds no L3 audio tower.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ParameterError(f"path={str(path)!r}: expected a '.keras' file saved by model.save().")
    if not path.is_file():
        raise ModelError(
            f"No saved L3 model at {str(path)!r}; check the path or train the model first."
        )
    if not zipfile.is_zipfile(path):
        raise ModelError(
            f"{str(path)!r} is not a Keras model file: a '.keras' file is the zip archive "
            "that model.save() writes, and this one is another kind of file or truncated. "
            "Point to the right file, or copy or train it again."
        )
    try:
        source = keras.saving.load_model(path, compile=False)
    except Exception as exc:
        raise ModelError(f"Cannot load the L3 model {str(path)!r}: {exc}") from exc
    tower = _find_audio_tower(source)
    names = {layer.name for layer in tower.layers}
    if fft_dtype is None:
        fft_dtype = (
            tower.get_layer("audio_frontend").fft_dtype if "audio_frontend" in names else "float64"
        )
    target = build_audio_tower(
        input_repr=infer_input_repr(tower),
        embedding_size=embedding_size,
        include_frontend=include_frontend,
        fft_dtype=fft_dtype,
        filters=tuple(tower.get_layer(f"audio_block{k}_conv1").filters for k in range(1, 5)),
        name=name,
    )
    copy_weights_by_name(source=tower, target=target)
    return target
