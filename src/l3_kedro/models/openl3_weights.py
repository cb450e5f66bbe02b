"""Load the released OpenL3 audio weights into this project's L3 audio tower.

OpenL3 (marl/openl3) ships one Keras 2 HDF5 weights file per audio model,
``openl3_audio_{linear,mel128,mel256}_{music,env}.h5``, read by OpenL3 with
``model.load_weights(path)`` (topological order: the file's weighted layers
are matched to the model's weighted layers one by one).

Reading the files (their layout, the two generations):
:mod:`l3_kedro.models.openl3_file`.

Front-end differences that matter
---------------------------------
The weights were trained on spectrograms from kapre 0.1.x (Keras 2). Our
front-end (:mod:`l3_kedro.models.frontends`) follows ``docs/reference.md`` §1:

- decibels: the kapre 0.1.x rule, ``10 log10(max(S, 1e-10))`` minus the
  per-example maximum, floored at -80 dB, on the *magnitude* S: identical.
  OpenL3 0.4 had to re-implement it (``kapre_v0_1_4_magnitude_to_decibel``)
  because kapre 0.3's ``MagnitudeToDecibel`` differs; any front-end fed to
  these weights must use this rule;
- ``linear``: kapre 0.1 ``Spectrogram(n_dft=512, n_hop=242, padding='valid',
  power_spectrogram=1.0)``, periodic Hann, frames from sample 0, 197 frames:
  identical;
- ``mel128`` / ``mel256``: kapre 0.1 ``Melspectrogram(n_dft=2048, n_hop=242,
  htk=True, power_melgram=1.0, padding='same')`` differs from ours in two ways.
  (1) It applies the mel filters to the *power* spectrogram and takes the
  square root, ``sqrt(M |X|^2)``; ours (and OpenL3 0.4's kapre 0.3 layers)
  compute ``M |X|``. (2) Its STFT is a strided convolution with TensorFlow
  'SAME' padding: 1,964 zeros split 982 before and 982 after, so frame j
  covers samples [242 j - 982, 242 j + 1066); ours pads all 1,964 at the end
  (frame j covers [242 j, 242 j + 2048)), as OpenL3 0.4 does (``pad_end``):
  a shift of 982 samples (20.5 ms, about 4 frames). The mel filters
  themselves (HTK scale, 0-24 kHz, area-normalised) agree; OpenL3 0.4's
  kapre layer, called without ``mel_htk``, uses the Slaney scale instead.
  Measured with NumPy on 1 s test signals (a chirp, two tones, white noise,
  mel256): (1) alone changes the dB spectrogram by 0.7-1.7 dB on average and
  up to 8 dB; (2) changes the first and last 4-5 frames by up to 50 dB
  (silence against signal) and moves all the others by 982 samples;
- input: OpenL3 takes (batch, 1, 48000) channels-first; ours (batch, 48000).

So with the ``linear`` weights our spectrogram is the one the network was
trained on (numerical differences only); with the ``mel`` weights it differs
a little from both the training-time front-end and OpenL3 0.4's.
"""

from __future__ import annotations

import logging
from pathlib import Path

import keras
import numpy as np

from l3_kedro.audio.constants import check_input_repr
from l3_kedro.errors import ModelError
from l3_kedro.models.audio_tower import build_audio_tower
from l3_kedro.models.openl3_file import (
    OpenL3Weights,
    ordered_weights,
    parse_openl3_filename,
    read_openl3_audio_weights,
    weight_kind,
)

__all__ = [
    "AUDIO_WEIGHTED_LAYERS",
    "OpenL3Weights",
    "build_openl3_embedding_model",
    "load_openl3_audio_weights",
    "parse_openl3_filename",
    "read_openl3_audio_weights",
]

logger = logging.getLogger(__name__)

AUDIO_WEIGHTED_LAYERS: tuple[str, ...] = (
    "audio_input_bn",
    *(
        f"audio_block{block}_{kind}{i}"
        for block in range(1, 5)
        for i in (1, 2)
        for kind in ("conv", "bn")
        if (block, i, kind) != (4, 2, "bn")
    ),
)
"""Weighted layers of :func:`build_audio_tower`, in the order of the OpenL3 files."""


def _check_repr(weights: OpenL3Weights, input_repr: str) -> None:
    """Raise if the file's front-end weights or name say it was trained on another repr."""
    from_frontend = weights.frontend_repr()
    from_name, _ = parse_openl3_filename(weights.path)
    if weights.frontend and from_frontend is None:
        shapes = [layer.shapes for layer in weights.frontend]
        raise ModelError(
            f"{weights.path}: kapre front-end weights of shapes {shapes} match no input_repr."
        )
    for found, source in ((from_frontend, "its kapre front-end weights"), (from_name, "its name")):
        if found is not None and found != input_repr:
            raise ModelError(
                f"{weights.path} looks like an OpenL3 '{found}' model (from {source}), not "
                f"'{input_repr}'; set input_repr: {found} or use "
                f"openl3_audio_{input_repr}_<content>.h5."
            )
    if from_frontend is None and from_name is None:
        logger.warning(
            "Cannot verify that %s was trained on %r: it has no front-end weights and its "
            "name does not follow openl3_audio_<repr>_<content>.h5.",
            weights.path,
            input_repr,
        )


def _target_layers(model: keras.Model) -> list[keras.layers.Layer]:
    names = {layer.name for layer in model.layers}
    missing = [name for name in AUDIO_WEIGHTED_LAYERS if name not in names]
    if missing:
        raise ModelError(
            f"Model {model.name!r} lacks layers {missing}; build it with build_audio_tower()."
        )
    return [model.get_layer(name) for name in AUDIO_WEIGHTED_LAYERS]


def _assign(model: keras.Model, weights: OpenL3Weights, *, input_repr: str) -> dict[str, str]:
    """Check every layer of ``weights`` against ``model``, then set them all."""
    check_input_repr(input_repr)
    _check_repr(weights, input_repr)
    path, trunk = weights.path, weights.trunk
    if trunk and weight_kind(trunk[0]) == "bn" and trunk[0].shapes[0] == (3,):
        raise ModelError(
            f"{path} looks like an OpenL3 image model (its input BatchNorm has 3 channels); "
            "use an openl3_audio_<repr>_<content>.h5 file."
        )
    targets = _target_layers(model)
    values = []
    for index, (source, target) in enumerate(zip(trunk, targets, strict=False)):
        kind = "bn" if "_bn" in target.name else "conv"
        arrays = ordered_weights(source, kind) if weight_kind(source) == kind else None
        expected = [tuple(w.shape) for w in target.weights]
        if arrays is None or [a.shape for a in arrays] != expected:
            raise ModelError(
                f"{path}: weighted layer {index + 1} ({source.name!r}, shapes "
                f"{source.shapes}) does not fit {target.name!r} (shapes {expected}); the "
                "file does not hold the width-1.0 L3 audio network."
            )
        values.append(arrays)
    if len(trunk) < len(targets):
        missing = [t.name for t in targets[len(trunk) :]]
        raise ModelError(
            f"{path} holds {len(trunk)} of the {len(targets)} weighted layers of the L3 audio "
            f"network; nothing for {missing}. The file is truncated or not an OpenL3 audio "
            "weights file."
        )
    if len(trunk) > len(targets):
        extra = [layer.name for layer in trunk[len(targets) :]]
        raise ModelError(
            f"{path} holds {len(trunk) - len(targets)} weighted layers more than the L3 audio "
            f"embedding network ({extra}); is it a training or image model?"
        )
    mapping = {}
    for source, target, arrays in zip(trunk, targets, values, strict=True):
        target.set_weights([a.astype(np.float32) for a in arrays])
        mapping[source.name] = target.name
    logger.info(
        "Loaded %d layers of %s (Keras %s) into %r; skipped front-end layers %s.",
        len(mapping),
        path,
        weights.keras_version or "?",
        model.name,
        [layer.name for layer in weights.frontend],
    )
    return mapping


def load_openl3_audio_weights(
    model: keras.Model, weights_path: str | Path, *, input_repr: str
) -> dict[str, str]:
    """Load a released OpenL3 audio weights file into an L3 audio tower, in place.

    All layers are checked (kind and exact shapes) before any is set.

    Parameters
    ----------
    model : keras.Model
        From :func:`~l3_kedro.models.audio_tower.build_audio_tower` at width
        1.0 (any ``embedding_size``, with or without front-end).
    weights_path : str or Path
        ``openl3_audio_<repr>_<content>.h5`` (v0.2.0 or v0.4.0 layout).
    input_repr : {"linear", "mel128", "mel256"}
        The representation ``model`` was built with; it must be the file's.

    Returns
    -------
    dict
        File layer name -> model layer name, for the 16 layers loaded.

    Raises
    ------
    ModelError
        Missing or unreadable file, a file of another representation (told by
        its kapre front-end weights or its name), an image or truncated file,
        or a model that is not a width-1.0 audio tower.
    ParameterError
        Unknown ``input_repr``.
    """
    return _assign(model, read_openl3_audio_weights(weights_path), input_repr=input_repr)


def build_openl3_embedding_model(
    weights_path: str | Path,
    *,
    input_repr: str,
    embedding_size: int = 6144,
    include_frontend: bool = True,
    fft_dtype: str = "float64",
    name: str = "openl3_audio_embedding_model",
) -> keras.Model:
    """Build the L3 audio embedding model with the released OpenL3 weights.

    Parameters
    ----------
    weights_path : str or Path
        ``openl3_audio_<repr>_<content>.h5``.
    input_repr : {"linear", "mel128", "mel256"}
        The file's representation.
    embedding_size : {512, 6144}
        Embedding size (pool size of the embedding head, as in OpenL3).
    include_frontend : bool
        Raw audio input (True) or dB spectrogram input (False).
    fft_dtype : {"float64", "float32"}
        Precision of the in-graph front-end.
    name : str
        Model name.

    Returns
    -------
    keras.Model
        (batch, 48000) float32 audio at 48 kHz -> (batch, embedding_size).

    Raises
    ------
    ModelError
        See :func:`load_openl3_audio_weights`.
    """
    check_input_repr(input_repr)
    weights = read_openl3_audio_weights(weights_path)  # fail fast, before building
    model = build_audio_tower(
        input_repr=input_repr,
        embedding_size=embedding_size,
        width=1.0,
        include_frontend=include_frontend,
        fft_dtype=fft_dtype,
        name=name,
    )
    _assign(model, weights, input_repr=input_repr)
    return model
