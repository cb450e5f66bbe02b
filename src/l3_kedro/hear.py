"""The HEAR 2021 common API for L3-Net embeddings.

``load_model``, ``get_timestamp_embeddings`` and ``get_scene_embeddings`` as
the HEAR benchmark (hear-eval-kit) calls them: audio is a float tensor
(n_sounds, n_samples) in [-1, 1] at ``model.sample_rate`` (48 kHz);
results are TensorFlow tensors (the kit calls ``.numpy()`` on them), and
the model is a ``tf.Module`` so the kit recognises it as a TensorFlow model.

Choices, following the OpenL3 HEAR 2021 submission (marl/openl3-hear):

- **embedding size 512** by default: the size of that submission, and it
  keeps the kit's timestamp-embedding caches twelve times smaller than 6144
  (at a 50 ms hop a second of audio gives 20 embeddings);
- **timestamps every 50 ms** (``HOP_SIZE_S``), the resolution HEAR asks of
  event-detection embeddings; windows are centred (``center=True``), so the
  timestamp of each 1 s window is its centre, the first at 0 ms;
- **scene embedding = mean over time of the timestamp embeddings**, as the
  HEAR baselines compute it (so it costs as much as the timestamp embeddings).

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
from l3_kedro.errors import AudioError, AudioWarning, L3KedroWarning, ParameterError
from l3_kedro.models.constants import TARGET_SR

__all__ = [
    "HOP_SIZE_S",
    "L3HearModel",
    "get_scene_embeddings",
    "get_timestamp_embeddings",
    "load_model",
]

HOP_SIZE_S = 0.05
"""Seconds between timestamp embeddings (50 ms)."""

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
        self, embedding_model: Any, *, hop_size: float = HOP_SIZE_S, batch_size: int = 32
    ) -> None:
        super().__init__(name="l3_kedro_hear")
        count_windows(1, TARGET_SR, hop_size=hop_size)  # validates hop_size
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ParameterError(f"batch_size must be a positive integer, got {batch_size!r}.")
        self.embedding_model = embedding_model
        self.hop_size = float(hop_size)
        self.batch_size = batch_size
        self.scene_embedding_size = int(embedding_model.output_shape[-1])
        self.timestamp_embedding_size = self.scene_embedding_size


def load_model(
    model_file_path: str = "",
    *,
    input_repr: str | None = None,
    embedding_size: int = DEFAULT_EMBEDDING_SIZE,
    hop_size: float = HOP_SIZE_S,
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
    return L3HearModel(model, hop_size=hop_size, batch_size=batch_size)


def get_timestamp_embeddings(audio: Any, model: L3HearModel) -> tuple[tf.Tensor, tf.Tensor]:
    """Embed every sound at regular timestamps.

    Parameters
    ----------
    audio : np.ndarray or tf.Tensor [shape=(n_sounds, n_samples), floating]
        Mono sounds in [-1, 1] at ``model.sample_rate`` (48 kHz).
    model : L3HearModel
        From :func:`load_model`.

    Returns
    -------
    embeddings : tf.Tensor [shape=(n_sounds, n_timestamps, D), dtype=float32]
        One embedding per 1 s window, every ``model.hop_size`` seconds.
    timestamps : tf.Tensor [shape=(n_sounds, n_timestamps), dtype=float32]
        Centre of each window in **milliseconds**: ``i * hop_size * 1000``.

    Raises
    ------
    ParameterError
        `audio` is not 2-D or `model` is not an :class:`L3HearModel`.
    AudioError
        A sound is empty, not floating-point or holds NaN/Inf (the message
        gives its index).
    """
    sounds = _sounds(audio, model)
    n_sounds, n_samples = sounds.shape
    dim = model.timestamp_embedding_size
    if n_sounds == 0:
        n_windows = count_windows(max(n_samples, 1), model.sample_rate, hop_size=model.hop_size)
        return tf.zeros((0, n_windows, dim)), tf.zeros((0, n_windows))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AudioWarning)
        embeddings, timestamps = get_audio_embedding(
            list(sounds),
            model.sample_rate,
            model=model.embedding_model,
            hop_size=model.hop_size,
            center=True,
            batch_size=model.batch_size,
        )
    return (
        tf.convert_to_tensor(np.stack(embeddings), dtype=tf.float32),
        tf.convert_to_tensor(np.stack(timestamps) * 1000.0, dtype=tf.float32),
    )


def get_scene_embeddings(audio: Any, model: L3HearModel) -> tf.Tensor:
    """Embed every sound as a whole: the mean of its timestamp embeddings.

    Parameters
    ----------
    audio : np.ndarray or tf.Tensor [shape=(n_sounds, n_samples), floating]
        Mono sounds in [-1, 1] at ``model.sample_rate`` (48 kHz).
    model : L3HearModel
        From :func:`load_model`.

    Returns
    -------
    tf.Tensor [shape=(n_sounds, D), dtype=float32]
        Mean over time of :func:`get_timestamp_embeddings`.
    """
    embeddings, _ = get_timestamp_embeddings(audio, model)
    return tf.reduce_mean(embeddings, axis=1)


def _sounds(audio: Any, model: Any) -> np.ndarray:
    """Check the HEAR arguments; return audio as a (n_sounds, n_samples) array."""
    if not isinstance(model, L3HearModel):
        raise ParameterError(
            f"model must come from l3_kedro.hear.load_model, got {type(model).__name__}."
        )
    sounds = audio.numpy() if isinstance(audio, tf.Tensor) else np.asarray(audio)
    if sounds.ndim != 2:
        raise ParameterError(
            f"audio must have shape (n_sounds, n_samples), got {sounds.shape}; "
            "stack the sounds (one row each) at 48 kHz."
        )
    if not np.issubdtype(sounds.dtype, np.floating):
        raise AudioError(f"audio must be floating-point samples in [-1, 1], got {sounds.dtype}.")
    return sounds
