"""Load the released OpenL3 audio weights into this project's L3 audio tower.

OpenL3 (marl/openl3) ships one Keras 2 HDF5 weights file per audio model,
``openl3_audio_{linear,mel128,mel256}_{music,env}.h5``, read by OpenL3 with
``model.load_weights(path)`` (topological order: the file's weighted layers
are matched to the model's weighted layers one by one).

File layout (Keras 2 ``save_weights``)
--------------------------------------
- root attributes ``layer_names`` (every layer of the model, weighted or not,
  in model order), ``backend`` and ``keras_version``;
- one group per layer with the attribute ``weight_names``; each weight is a
  dataset named by its TensorFlow variable name, e.g.
  ``group["conv2d_1/kernel:0"]`` (a sub-group ``conv2d_1`` holding
  ``kernel:0``). Weightless layers (input, ReLU, max-pool) have an empty list;
- a whole-model file (``model.save``) nests the same layout under
  ``model_weights``; both are accepted.

The audio network's weighted layers, in order: the input BatchNormalization
(4 weights of shape (1,)), then 8 Conv2D 3x3 'same' with bias
(64, 64, 128, 128, 256, 256, 512, 512 filters) each but the last followed by a
BatchNormalization (gamma, beta, moving_mean, moving_variance): 16 layers.
The last conv is named ``audio_embedding_layer``; the others keep Keras's
automatic names. They map one to one onto :data:`AUDIO_WEIGHTED_LAYERS` of
:func:`~l3_kedro.models.audio_tower.build_audio_tower` at width 1.0.

Two generations of the files exist:

- ``*-v0_2_0.h5`` (OpenL3 0.2-0.3, kapre 0.1.x): a 17th weighted layer comes
  first, the kapre ``Spectrogram`` (``real_kernels`` and ``imag_kernels``,
  (n_fft, 1, 1, n_fft // 2 + 1)) or ``Melspectrogram`` (the same two plus the
  mel matrix ``freq2mel``, (1025, n_mels)). These are fixed DFT / filterbank
  constants, not learned; they are skipped, and their shapes tell the
  representation the file was trained with;
- ``*-v0_4_0.h5`` (OpenL3 0.4.x, the current release): the same files with
  the spectrogram layers deleted (OpenL3's ``tests/migration/remove_layers.py``:
  kapre 0.3 layers have no weights). The trunk weights do not depend on the
  representation, so only the file name (``openl3_audio_<repr>_<content>``)
  can tell it; OpenL3 itself derives the configuration from the file name.

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
import re
from dataclasses import dataclass
from pathlib import Path

import h5py
import keras
import numpy as np

from l3_kedro.audio.constants import FRONTEND_SETTINGS, check_input_repr
from l3_kedro.errors import ModelError
from l3_kedro.models.audio_tower import build_audio_tower

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

OBTAIN_HINT = (
    "it ships inside the openl3 0.4.x package (openl3/openl3_audio_<repr>_<content>.h5 "
    "after `pip install openl3`) and on the 'models' branch of github.com/marl/openl3 "
    "as openl3_audio_<repr>_<content>-v0_4_0.h5.gz (gunzip it)"
)
_FRONTEND_WEIGHTS = ("real_kernels", "imag_kernels", "freq2mel")
_ORDER = {"bn": ("gamma", "beta", "moving_mean", "moving_variance"), "conv": ("kernel", "bias")}
_FILENAME = re.compile(r"openl3_audio_(linear|mel128|mel256)_(music|env)")
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class FileLayer:
    """One weighted layer of an OpenL3 file: its name and (weight name, value) pairs."""

    name: str
    weights: tuple[tuple[str, np.ndarray], ...]

    @property
    def shapes(self) -> list[tuple[int, ...]]:
        return [value.shape for _, value in self.weights]


@dataclass(frozen=True)
class OpenL3Weights:
    """The content of an OpenL3 audio weights file.

    Attributes
    ----------
    path : Path
        The file.
    trunk : tuple of FileLayer
        BatchNorm and Conv2D layers, in file order (16 in a complete file).
    frontend : tuple of FileLayer
        kapre spectrogram layers (v0.2.0 files only; skipped when loading).
    keras_version : str
        The ``keras_version`` root attribute ("" when absent).
    """

    path: Path
    trunk: tuple[FileLayer, ...]
    frontend: tuple[FileLayer, ...]
    keras_version: str

    def frontend_repr(self) -> str | None:
        """Representation implied by the kapre front-end weights, or None.

        Read from the shapes alone (the mel matrix has no name of its own in
        the files): DFT kernels (n_fft, 1, 1, n_fft // 2 + 1) give n_fft and
        a mel matrix (n_fft // 2 + 1, n_mels), if any, the number of bands.
        """
        arrays = [value for layer in self.frontend for _, value in layer.weights]
        kernels = [a.shape for a in arrays if a.ndim == 4]
        mels = [a.shape for a in arrays if a.ndim == 2]
        if not kernels:
            return None
        n_mels = mels[0][1] if mels else None
        for input_repr, settings in FRONTEND_SETTINGS.items():
            if settings.n_fft == kernels[0][0] and settings.n_mels == n_mels:
                return input_repr
        return None


def parse_openl3_filename(path: str | Path) -> tuple[str | None, str | None]:
    """Read (input_repr, content_type) from an ``openl3_audio_<repr>_<content>`` file name.

    Returns
    -------
    tuple of (str or None, str or None)
        e.g. ``("mel256", "music")``; ``(None, None)`` if the name does not
        follow the release's pattern.
    """
    match = _FILENAME.search(Path(path).name)
    return (match.group(1), match.group(2)) if match else (None, None)


def _base(weight_name: str) -> str:
    """``'conv2d_1/kernel:0'`` -> ``'kernel'``."""
    return weight_name.rsplit("/", 1)[-1].split(":", 1)[0]


def _decode(value) -> str:
    return value.decode("utf8") if isinstance(value, bytes) else str(value)


def _names_attr(group: h5py.Group, name: str) -> list[str]:
    """A Keras 2 list attribute, which large models split into ``name0``, ``name1`` ..."""
    if name in group.attrs:
        return [_decode(v) for v in np.asarray(group.attrs[name]).ravel()]
    names, chunk = [], 0
    while f"{name}{chunk}" in group.attrs:
        names += [_decode(v) for v in np.asarray(group.attrs[f"{name}{chunk}"]).ravel()]
        chunk += 1
    return names


def _is_frontend(layer: FileLayer) -> bool:
    return "spectrogram" in layer.name.lower() or any(
        _base(name) in _FRONTEND_WEIGHTS for name, _ in layer.weights
    )


def _kind(layer: FileLayer) -> str | None:
    """``"bn"``, ``"conv"`` or None, from the weight shapes."""
    shapes = layer.shapes
    if len(shapes) == 4 and all(len(s) == 1 and s == shapes[0] for s in shapes):
        return "bn"
    if len(shapes) == 2 and len(shapes[0]) == 4 and shapes[1] == shapes[0][-1:]:
        return "conv"
    return None


def _ordered(layer: FileLayer, kind: str) -> list[np.ndarray]:
    """Weight values in Keras order, using the weight names when they are the usual ones."""
    by_name = {_base(name): value for name, value in layer.weights}
    if set(by_name) == set(_ORDER[kind]):
        return [by_name[name] for name in _ORDER[kind]]
    return [value for _, value in layer.weights]


def read_openl3_audio_weights(weights_path: str | Path) -> OpenL3Weights:
    """Read and check the structure of an OpenL3 audio weights file.

    Parameters
    ----------
    weights_path : str or Path
        An ``openl3_audio_<repr>_<content>.h5`` file (v0.2.0 or v0.4.0 layout).

    Returns
    -------
    OpenL3Weights
        Its BatchNorm / Conv2D layers and (v0.2.0) kapre front-end layers.

    Raises
    ------
    ModelError
        If the file is missing, not HDF5 (e.g. still gzipped), not a Keras
        weights file, or holds a layer that is neither BatchNorm, Conv2D nor
        a kapre spectrogram.
    """
    path = Path(weights_path)
    if not path.is_file():
        raise ModelError(f"OpenL3 weights file {path} not found; {OBTAIN_HINT}.")
    if not h5py.is_hdf5(path):
        with path.open("rb") as stream:
            gzipped = stream.read(2) == _GZIP_MAGIC
        hint = f"decompress it first (gunzip {path})" if gzipped else OBTAIN_HINT
        raise ModelError(f"OpenL3 weights file {path} is not an HDF5 file; {hint}.")
    try:
        with h5py.File(path, "r") as handle:
            root = handle
            if "layer_names" not in root.attrs and "model_weights" in root:
                root = root["model_weights"]
            layer_names = _names_attr(root, "layer_names")
            if not layer_names:
                raise ModelError(
                    f"{path} is HDF5 but not a Keras weights file (no 'layer_names' "
                    f"attribute); {OBTAIN_HINT}."
                )
            layers = []
            for name in layer_names:
                if name not in root:
                    raise ModelError(
                        f"{path} lists layer {name!r} but holds no group for it; "
                        "the file is damaged: fetch it again."
                    )
                group = root[name]
                weights = tuple(
                    (weight, np.asarray(group[weight]))
                    for weight in _names_attr(group, "weight_names")
                )
                if weights:
                    layers.append(FileLayer(name, weights))
            keras_version = _decode(root.attrs.get("keras_version", b""))
    except (OSError, KeyError) as exc:
        raise ModelError(f"Cannot read OpenL3 weights file {path}: {exc}") from exc
    frontend = tuple(layer for layer in layers if _is_frontend(layer))
    trunk = tuple(layer for layer in layers if not _is_frontend(layer))
    for layer in trunk:
        if _kind(layer) is None:
            raise ModelError(
                f"{path}: layer {layer.name!r} with weights {layer.shapes} is neither a "
                "BatchNormalization nor a Conv2D of the L3 audio network; is this an OpenL3 "
                "audio weights file?"
            )
    return OpenL3Weights(path, trunk, frontend, keras_version)


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
    if trunk and _kind(trunk[0]) == "bn" and trunk[0].shapes[0] == (3,):
        raise ModelError(
            f"{path} looks like an OpenL3 image model (its input BatchNorm has 3 channels); "
            "use an openl3_audio_<repr>_<content>.h5 file."
        )
    targets = _target_layers(model)
    values = []
    for index, (source, target) in enumerate(zip(trunk, targets, strict=False)):
        kind = "bn" if "_bn" in target.name else "conv"
        arrays = _ordered(source, kind) if _kind(source) == kind else None
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
