"""Read the released OpenL3 audio weights files (Keras 2 HDF5), without Keras.

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
automatic names. They map one to one onto
:data:`~l3_kedro.models.openl3_weights.AUDIO_WEIGHTED_LAYERS` of
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
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from l3_kedro.audio.constants import FRONTEND_SETTINGS
from l3_kedro.errors import ModelError

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


def weight_kind(layer: FileLayer) -> str | None:
    """``"bn"``, ``"conv"`` or None, from the weight shapes."""
    shapes = layer.shapes
    if len(shapes) == 4 and all(len(s) == 1 and s == shapes[0] for s in shapes):
        return "bn"
    if len(shapes) == 2 and len(shapes[0]) == 4 and shapes[1] == shapes[0][-1:]:
        return "conv"
    return None


def ordered_weights(layer: FileLayer, kind: str) -> list[np.ndarray]:
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
        if weight_kind(layer) is None:
            raise ModelError(
                f"{path}: layer {layer.name!r} with weights {layer.shapes} is neither a "
                "BatchNormalization nor a Conv2D of the L3 audio network; is this an OpenL3 "
                "audio weights file?"
            )
    return OpenL3Weights(path, trunk, frontend, keras_version)
