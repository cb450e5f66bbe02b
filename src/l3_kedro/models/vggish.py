"""VGGish (Hershey et al., 2017) as a baseline clip embedder, from its TF-Hub SavedModel.

The weights cannot be downloaded here; the user supplies the TF-Hub export
(``https://tfhub.dev/google/vggish/1``, also on Kaggle Models as
``google/vggish``), unpacked to a directory holding ``saved_model.pb`` and
``variables/``. That export (``research/audioset/vggish/vggish_export_tfhub.py``
in tensorflow/models) is a ``tf.Module`` whose ``__call__`` is a
``tf.function`` with input signature ``TensorSpec([None], tf.float32)``:
after ``tf.saved_model.load(path)`` it is called as ``model(waveform)`` on a
1-D float32 mono waveform at 16 kHz in [-1, 1] and returns a float32 tensor
[N, 128], one raw embedding (before the AudioSet PCA / quantisation) per
0.96 s patch.

Framing, fixed by the model: log-mel STFT frames of 400 samples (25 ms)
every 160 samples (10 ms), grouped into patches of 96 frames every 96 frames
with no padding. Patch i therefore reads samples
``[15360 i, 15360 i + 15600)`` and a waveform of n samples gives
``N = 1 + (n - 15600) // 15360`` patches (0 below 15,600 samples = 0.975 s).
The hop of 0.96 s is part of the model, so :meth:`VGGishEmbedder.embed`
accepts no other ``hop_size``.

:class:`VGGishEmbedder` follows the L3 conventions of the other embedders:
the end is zero-padded so that every sample falls in a patch (clips under
0.975 s give one patch, with a warning under 0.96 s), ``center=True``
prepends 7,800 zeros (half a patch) so that patch i is centred on
``i * 0.96`` s, and timestamps are ``i * 0.96`` s.
"""

from __future__ import annotations

import logging
import math
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from l3_kedro.audio.io import resample
from l3_kedro.audio.windows import mono_float32
from l3_kedro.errors import AudioError, AudioWarning, ModelError, ParameterError

__all__ = [
    "VGGISH_EMBEDDING_SIZE",
    "VGGISH_HOP_S",
    "VGGISH_SAMPLE_RATE",
    "VGGishEmbedder",
    "load_vggish_savedmodel",
    "vggish_patch_count",
]

logger = logging.getLogger(__name__)

VGGISH_SAMPLE_RATE = 16_000
"""Input sample rate of VGGish, in Hz."""

VGGISH_EMBEDDING_SIZE = 128
"""Dimension of one VGGish embedding."""

VGGISH_HOP_S = 0.96
"""Hop and nominal length of one VGGish patch, in seconds."""

PATCH_HOP_SAMPLES = 15_360
"""Samples between patch starts: 96 STFT hops of 160 samples."""

PATCH_SAMPLES = 15_600
"""Samples one patch reads: 95 STFT hops plus one 400-sample window."""

OBTAIN_HINT = (
    "download the VGGish TF-Hub model (https://tfhub.dev/google/vggish/1, also on Kaggle "
    "Models as google/vggish; '?tf-hub-format=compressed' gives a .tar.gz) and unpack it "
    "into a directory holding saved_model.pb and variables/"
)


def vggish_patch_count(n_samples: int) -> int:
    """Number of patches VGGish emits for ``n_samples`` samples at 16 kHz.

    Returns
    -------
    int
        ``1 + (n_samples - 15600) // 15360``, or 0 below 15,600 samples.
    """
    if n_samples < PATCH_SAMPLES:
        return 0
    return 1 + (int(n_samples) - PATCH_SAMPLES) // PATCH_HOP_SAMPLES


def _padded_patch_count(n_samples: int) -> int:
    """Patches needed so that every one of ``n_samples`` samples is read (at least 1)."""
    return 1 + math.ceil(max(int(n_samples) - PATCH_SAMPLES, 0) / PATCH_HOP_SAMPLES)


def _call_output(result: Any, path: Path) -> np.ndarray:
    """The single [N, 128] tensor of a call (or of a one-output signature)."""
    if isinstance(result, dict):
        if len(result) != 1:
            raise ModelError(
                f"SavedModel {path} returns {len(result)} outputs {sorted(result)}; VGGish "
                f"returns one [N, 128] tensor. Is it another model (e.g. YAMNet)? {OBTAIN_HINT}."
            )
        result = next(iter(result.values()))
    if isinstance(result, (tuple, list)):
        raise ModelError(
            f"SavedModel {path} returns {len(result)} tensors; VGGish returns one [N, 128] "
            f"tensor. Is it another model (e.g. YAMNet)? {OBTAIN_HINT}."
        )
    return np.asarray(result)


def _entry_point(loaded: Any, path: Path):
    """The loaded object's ``__call__``, else its one-input 'serving_default' signature."""
    if callable(loaded):
        return loaded
    signature = getattr(loaded, "signatures", {}).get("serving_default")
    if signature is None:
        raise ModelError(
            f"SavedModel {path} is neither callable nor has a 'serving_default' signature; "
            f"{OBTAIN_HINT}."
        )
    inputs = signature.structured_input_signature[1]
    if len(inputs) != 1:
        raise ModelError(
            f"SavedModel {path}: its 'serving_default' signature takes inputs {sorted(inputs)}; "
            f"VGGish takes one waveform. {OBTAIN_HINT}."
        )
    (input_name,) = inputs

    def call_signature(waveform):
        return signature(**{input_name: waveform})

    return call_signature


def load_vggish_savedmodel(path: str | Path):
    """Load the VGGish TF-Hub SavedModel and check its call signature.

    The model is called once on 1.935 s of silence (two patches), which must
    give a float [2, 128] array.

    Parameters
    ----------
    path : str or Path
        Directory of the unpacked TF-Hub export.

    Returns
    -------
    callable
        Maps a 1-D float32 waveform at 16 kHz (n,) to a float32 array
        (vggish_patch_count(n), 128).

    Raises
    ------
    ModelError
        If the directory is missing or not a SavedModel, cannot be loaded, or
        does not map a 1-D float32 waveform to [N, 128].
    """
    import tensorflow as tf

    path = Path(path)
    if not path.exists():
        raise ModelError(f"VGGish SavedModel directory {path} not found; {OBTAIN_HINT}.")
    if not path.is_dir() or not tf.saved_model.contains_saved_model(str(path)):
        raise ModelError(
            f"{path} is not a SavedModel directory (no saved_model.pb); {OBTAIN_HINT}."
        )
    try:
        loaded = tf.saved_model.load(str(path))
    except Exception as exc:  # TF raises many types for a damaged export
        raise ModelError(f"Cannot load the VGGish SavedModel {path}: {exc}") from exc
    function = _entry_point(loaded, path)

    def embed(waveform: np.ndarray) -> np.ndarray:
        return _call_output(function(tf.constant(waveform, dtype=tf.float32)), path)

    probe = np.zeros(PATCH_SAMPLES + PATCH_HOP_SAMPLES, np.float32)
    try:
        out = embed(probe)
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(
            f"SavedModel {path} does not accept a 1-D float32 waveform as VGGish does "
            f"(model(waveform) with waveform of shape [n]): {exc}"
        ) from exc
    if out.shape != (2, VGGISH_EMBEDDING_SIZE) or not np.issubdtype(out.dtype, np.floating):
        raise ModelError(
            f"SavedModel {path} maps {probe.size} samples to {out.dtype} {out.shape}; VGGish "
            f"gives float (2, {VGGISH_EMBEDDING_SIZE}) (one 128-d embedding per 0.96 s). "
            f"{OBTAIN_HINT}."
        )
    logger.info("Loaded the VGGish SavedModel %s.", path)
    return embed


class VGGishEmbedder:
    """Clip embedder around the VGGish TF-Hub SavedModel.

    Parameters
    ----------
    path : str or Path
        Directory of the unpacked TF-Hub export (see :func:`load_vggish_savedmodel`).
    name : str
        Name of the embedding (catalog and results key).
    max_patches_per_call : int
        Longest stretch of audio, in patches, given to the model at once;
        longer clips are cut at patch boundaries (results are unchanged).

    Attributes
    ----------
    sample_rate : int
        16000 Hz.
    embedding_size : int
        128.
    default_hop_size : float
        0.96 s, the only hop VGGish has.
    attributes : dict
        ``name``, ``kind`` ("vggish"), ``path``, ``sample_rate``,
        ``hop_size``, ``embedding_size``.
    """

    sample_rate = VGGISH_SAMPLE_RATE
    embedding_size = VGGISH_EMBEDDING_SIZE
    default_hop_size = VGGISH_HOP_S
    fixed_hop_size = VGGISH_HOP_S  # the model's patch hop: no other hop exists
    window_s = VGGISH_HOP_S

    def __init__(
        self, path: str | Path, *, name: str = "vggish", max_patches_per_call: int = 256
    ) -> None:
        if not isinstance(max_patches_per_call, int) or max_patches_per_call < 1:
            raise ParameterError(
                f"max_patches_per_call={max_patches_per_call!r}; expected a positive int."
            )
        self.path = Path(path)
        self.name = name
        self.max_patches_per_call = max_patches_per_call
        self._model = load_vggish_savedmodel(self.path)
        self.attributes: dict[str, Any] = {
            "name": name,
            "kind": "vggish",
            "path": str(self.path),
            "sample_rate": self.sample_rate,
            "hop_size": VGGISH_HOP_S,
            "embedding_size": self.embedding_size,
        }

    def embed(
        self, audio: np.ndarray, sr: int, *, hop_size: float = VGGISH_HOP_S, center: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Embed one clip.

        Parameters
        ----------
        audio : np.ndarray, shape (n_samples,) or (n_channels, n_samples)
            Floating-point waveform in [-1, 1]; channels are averaged.
        sr : int
            Its sample rate in Hz; it is resampled to 16 kHz (soxr).
        hop_size : float
            Must be 0.96 (s): VGGish's patches are fixed by the model.
        center : bool
            Centre patch ``i`` on ``i * 0.96`` s (7,800 zeros prepended)
            instead of starting it there.

        Returns
        -------
        embeddings : np.ndarray, shape (T, 128), float32
            ``T = 1 + ceil(max(n - 15600, 0) / 15360)`` for ``n`` samples at
            16 kHz (after centring): the end is zero-padded so every sample
            is embedded.
        timestamps : np.ndarray, shape (T,)
            ``i * 0.96`` in seconds.

        Raises
        ------
        ParameterError
            ``hop_size`` is not 0.96 or ``center`` not a bool.
        AudioError
            Empty, non-float or non-finite audio.
        """
        if not math.isclose(float(hop_size), VGGISH_HOP_S, abs_tol=1e-9):
            raise ParameterError(
                f"hop_size={hop_size!r}: VGGish's hop is fixed at {VGGISH_HOP_S} s by the model "
                f"(0.96 s patches without overlap); set hop_size: {VGGISH_HOP_S} for this "
                "embedding or leave it out."
            )
        if not isinstance(center, (bool, np.bool_)):
            raise ParameterError(f"center={center!r}; expected True or False.")
        wave = self._prepare(audio, sr, center=bool(center))
        n_patches = _padded_patch_count(wave.size)
        padded = np.zeros(PATCH_SAMPLES + (n_patches - 1) * PATCH_HOP_SAMPLES, np.float32)
        padded[: wave.size] = wave
        chunks = []
        for first in range(0, n_patches, self.max_patches_per_call):
            count = min(self.max_patches_per_call, n_patches - first)
            start = first * PATCH_HOP_SAMPLES
            piece = padded[start : start + PATCH_SAMPLES + (count - 1) * PATCH_HOP_SAMPLES]
            out = self._model(piece)
            if out.shape != (count, self.embedding_size):
                raise ModelError(
                    f"VGGish SavedModel {self.path} gave {out.shape} for {piece.size} samples; "
                    f"expected ({count}, {self.embedding_size})."
                )
            chunks.append(out.astype(np.float32, copy=False))
        embeddings = np.concatenate(chunks)
        return embeddings, np.arange(n_patches) * VGGISH_HOP_S

    def _prepare(self, audio: np.ndarray, sr: int, *, center: bool) -> np.ndarray:
        """Check, mix down and resample to 16 kHz; prepend half a patch when centring."""
        wave = mono_float32(audio)
        if not np.isfinite(wave).all():
            raise AudioError("audio holds NaN or Inf samples; repair or drop the clip first.")
        if not wave.any():
            warnings.warn("audio is all zeros (silent).", AudioWarning, stacklevel=3)
        if wave.size < VGGISH_HOP_S * sr:
            warnings.warn(
                f"audio lasts {wave.size / sr:.3f} s, under VGGish's {VGGISH_HOP_S} s patch; "
                "it is zero-padded.",
                AudioWarning,
                stacklevel=3,
            )
        wave = resample(wave, sr, VGGISH_SAMPLE_RATE).astype(np.float32, copy=False)
        if center:
            wave = np.concatenate([np.zeros(PATCH_SAMPLES // 2, np.float32), wave])
        return wave
