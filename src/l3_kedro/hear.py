"""The HEAR 2021 common API for L3-Net embeddings.

``load_model``, ``get_timestamp_embeddings`` and ``get_scene_embeddings`` as
the HEAR benchmark (hear-eval-kit) calls them: audio is a float tensor
(n_sounds, n_samples) in [-1, 1] at ``model.sample_rate`` (48 kHz);
the model is a ``tf.Module`` so the kit recognises it as a TensorFlow model.
Audio may be a NumPy array, a TensorFlow tensor or a PyTorch tensor (of any
device, with or without ``requires_grad``: it is detached and copied to the
CPU); results come back in the input's framework (a TensorFlow tensor for
TensorFlow input, the kit calls ``.numpy()`` on it; a PyTorch tensor on the
input's device for PyTorch input; a NumPy array otherwise).

Choices, following the OpenL3 HEAR 2021 submission (marl/openl3-hear):

- **embedding size 512** by default: the size of that submission, and it
  keeps the kit's timestamp-embedding caches twelve times smaller than 6144
  (at a 50 ms hop a second of audio gives 20 embeddings);
- **timestamps every 50 ms** (``HOP_SIZE_S``), the resolution HEAR asks of
  event-detection embeddings; windows are centred, so the timestamp of each
  1 s window is its centre, the first at 0 ms, and the audio is padded with
  half a window of zeros at *both* ends: every centre ``i * hop`` that lies
  within the audio gets a window, so the last timestamp is within one hop
  of the end (``floor(duration / hop) * hop``) and sounds at the end of a
  clip are covered;
- **scene embedding = mean over time of embeddings every 0.5 s**
  (``SCENE_HOP_SIZE_S``, the hop of that submission's scene embeddings):
  a tenth of the work of averaging the 50 ms timestamp embeddings.

HEAR task audio is padded or trimmed to a fixed length, so silent and
sub-second sounds are normal there: their
:class:`~l3_kedro.errors.AudioWarning` are not shown.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import tensorflow as tf

from l3_kedro.api import get_audio_embedding, load_audio_embedding_model
from l3_kedro.audio import count_windows
from l3_kedro.audio.constants import TARGET_SR
from l3_kedro.errors import AudioError, AudioWarning, L3KedroWarning, ParameterError

__all__ = [
    "HOP_SIZE_S",
    "SCENE_HOP_SIZE_S",
    "L3HearModel",
    "get_scene_embeddings",
    "get_timestamp_embeddings",
    "load_model",
]

HOP_SIZE_S = 0.05
"""Seconds between timestamp embeddings (50 ms)."""

SCENE_HOP_SIZE_S = 0.5
"""Seconds between the embeddings a scene embedding averages (0.5 s)."""

DEFAULT_EMBEDDING_SIZE = 512
"""Nominal embedding size of :func:`load_model` (see the module docstring)."""


class L3HearModel(tf.Module):
    """An L3 audio embedding model wrapped for the HEAR API.

    Parameters
    ----------
    embedding_model : keras.Model
        Raw audio (batch, 48000) at 48 kHz -> (batch, D).
    hop_size : float > 0
        Seconds between timestamp embeddings.
    scene_hop_size : float > 0
        Seconds between the embeddings a scene embedding averages.
    batch_size : int >= 1
        Windows per model call.

    Attributes
    ----------
    sample_rate : int
        48000 Hz, the rate HEAR must feed.
    scene_embedding_size, timestamp_embedding_size : int
        D, the embedding dimension.
    """

    sample_rate = TARGET_SR

    def __init__(
        self,
        embedding_model: Any,
        *,
        hop_size: float = HOP_SIZE_S,
        scene_hop_size: float = SCENE_HOP_SIZE_S,
        batch_size: int = 32,
    ) -> None:
        super().__init__(name="l3_kedro_hear")
        count_windows(1, TARGET_SR, hop_size=hop_size)  # validates hop_size
        try:
            count_windows(1, TARGET_SR, hop_size=scene_hop_size)
        except ParameterError as error:
            raise ParameterError(str(error).replace("hop_size", "scene_hop_size")) from None
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ParameterError(f"batch_size must be a positive integer, got {batch_size!r}.")
        self.embedding_model = embedding_model
        self.hop_size = float(hop_size)
        self.scene_hop_size = float(scene_hop_size)
        self.batch_size = batch_size
        self.scene_embedding_size = int(embedding_model.output_shape[-1])
        self.timestamp_embedding_size = self.scene_embedding_size


def load_model(
    model_file_path: str = "",
    *,
    input_repr: str | None = None,
    embedding_size: int = DEFAULT_EMBEDDING_SIZE,
    hop_size: float = HOP_SIZE_S,
    scene_hop_size: float = SCENE_HOP_SIZE_S,
    batch_size: int = 32,
) -> L3HearModel:
    """Load an L3 model for the HEAR API.

    Parameters
    ----------
    model_file_path : str
        ``.keras`` checkpoint of a trained L3 model; ``""`` builds a randomly
        initialised network (a baseline; with an
        :class:`~l3_kedro.errors.L3KedroWarning`).
    input_repr : {"linear", "mel128", "mel256"} or None
        None takes the checkpoint's representation (``"mel256"`` for a random
        network); a given value must match the checkpoint.
    embedding_size : {512, 6144}
        Nominal embedding size.
    hop_size : float > 0
        Seconds between timestamp embeddings.
    scene_hop_size : float > 0
        Seconds between the embeddings a scene embedding averages.
    batch_size : int >= 1
        Windows per model call.

    Returns
    -------
    L3HearModel
        With ``sample_rate`` 48000 and the embedding sizes.

    Raises
    ------
    ParameterError, ModelError
        As :func:`l3_kedro.api.load_audio_embedding_model` raises them.
    """
    if not model_file_path:
        warnings.warn(
            "No model file given: the HEAR model is a randomly initialised L3 network.",
            L3KedroWarning,
            stacklevel=2,
        )
        model = load_audio_embedding_model(
            input_repr=input_repr or "mel256", embedding_size=embedding_size
        )
    elif input_repr is None:
        from l3_kedro.models.l3net import load_audio_embedding_model as load_checkpoint

        model = load_checkpoint(Path(model_file_path), embedding_size=embedding_size)
    else:
        model = load_audio_embedding_model(
            input_repr=input_repr, embedding_size=embedding_size, weights=model_file_path
        )
    return L3HearModel(
        model, hop_size=hop_size, scene_hop_size=scene_hop_size, batch_size=batch_size
    )


def get_timestamp_embeddings(audio: Any, model: L3HearModel) -> tuple[Any, Any]:
    """Embed every sound at regular timestamps, from 0 to the end of the audio.

    Parameters
    ----------
    audio : np.ndarray, tf.Tensor or torch.Tensor [shape=(n_sounds, n_samples), floating]
        Mono sounds in [-1, 1] at ``model.sample_rate`` (48 kHz).
    model : L3HearModel
        From :func:`load_model`.

    Returns
    -------
    embeddings : [shape=(n_sounds, n_timestamps, D), dtype=float32]
        One embedding per 1 s window centred on each timestamp; the input's
        framework (see the module docstring).
    timestamps : [shape=(n_sounds, n_timestamps), dtype=float32]
        Centre of each window in **milliseconds**, ``i * hop_size * 1000``
        for every centre within the audio: ``n_timestamps = 1 +
        floor(n_samples / hop)``, the last within one hop of the end.

    Raises
    ------
    ParameterError
        `audio` is not 2-D or `model` is not an :class:`L3HearModel`.
    AudioError
        A sound is empty, not floating-point or holds NaN/Inf (the message
        gives its index).
    """
    sounds, like = _sounds(audio, model)
    embeddings, timestamps = _embed(sounds, model, model.hop_size)
    return _as_input(embeddings, like), _as_input(timestamps, like)


def get_scene_embeddings(audio: Any, model: L3HearModel) -> Any:
    """Embed every sound as a whole: the mean of its embeddings every ``scene_hop_size`` s.

    Parameters
    ----------
    audio : np.ndarray, tf.Tensor or torch.Tensor [shape=(n_sounds, n_samples), floating]
        Mono sounds in [-1, 1] at ``model.sample_rate`` (48 kHz).
    model : L3HearModel
        From :func:`load_model`.

    Returns
    -------
    [shape=(n_sounds, D), dtype=float32]
        Mean over time of the embeddings of 1 s windows centred every
        ``model.scene_hop_size`` seconds (0.5 s by default) from 0 to the
        end, as :func:`get_timestamp_embeddings` places them; the input's
        framework.
    """
    sounds, like = _sounds(audio, model)
    embeddings, _ = _embed(sounds, model, model.scene_hop_size)
    return _as_input(embeddings.mean(axis=1, dtype=np.float32), like)


def _embed(
    sounds: np.ndarray, model: L3HearModel, hop_size: float
) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings (n, T, D) float32 and their timestamps (n, T) in ms, float32.

    Each sound gets half a window of zeros at the end (the framing adds half
    a window at the start), and only the windows centred within the audio
    are kept: ``T = 1 + n_samples // hop`` (hop in samples).
    """
    n_sounds, n_samples = sounds.shape
    rate = model.sample_rate
    hop = int(hop_size * rate)  # as the framing rounds it
    n_timestamps = 1 + n_samples // hop
    timestamps = np.arange(n_timestamps, dtype=np.float64) * (hop * 1000.0 / rate)
    timestamps = np.tile(timestamps.astype(np.float32), (n_sounds, 1))
    dim = model.timestamp_embedding_size
    if n_sounds == 0:
        return np.zeros((0, n_timestamps, dim), np.float32), timestamps
    tail = np.zeros((n_sounds, rate // 2), dtype=sounds.dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AudioWarning)
        embeddings, _ = get_audio_embedding(
            list(np.concatenate([sounds, tail], axis=1)),
            rate,
            model=model.embedding_model,
            hop_size=hop_size,
            center=True,
            batch_size=model.batch_size,
        )
    return np.stack([e[:n_timestamps] for e in embeddings]).astype(np.float32), timestamps


def _sounds(audio: Any, model: Any) -> tuple[np.ndarray, Any]:
    """Check the HEAR arguments: (audio as a (n_sounds, n_samples) array, the input)."""
    if not isinstance(model, L3HearModel):
        raise ParameterError(
            f"model must come from l3_kedro.hear.load_model, got {type(model).__name__}."
        )
    if isinstance(audio, tf.Tensor):
        sounds = audio.numpy()
    elif _is_torch(audio):
        sounds = audio.detach().cpu().numpy()
    else:
        sounds = np.asarray(audio)
    if sounds.ndim != 2:
        raise ParameterError(
            f"audio must have shape (n_sounds, n_samples), got {sounds.shape}; "
            "stack the sounds (one row each) at 48 kHz."
        )
    if not np.issubdtype(sounds.dtype, np.floating):
        raise AudioError(f"audio must be floating-point samples in [-1, 1], got {sounds.dtype}.")
    if len(sounds) and not sounds.shape[1]:
        raise AudioError("audio clip 0 is empty (0 samples); every sound needs samples.")
    return sounds, audio


def _is_torch(value: Any) -> bool:
    """Whether `value` is a PyTorch tensor (without importing torch)."""
    return type(value).__module__.split(".")[0] == "torch" and hasattr(value, "detach")


def _as_input(array: np.ndarray, like: Any) -> Any:
    """`array` in the framework of `like`: tf.Tensor, torch.Tensor (on its device) or NumPy."""
    if isinstance(like, tf.Tensor):
        return tf.convert_to_tensor(array, dtype=tf.float32)
    if _is_torch(like):
        import torch

        return torch.from_numpy(np.ascontiguousarray(array)).to(like.device)
    return array
