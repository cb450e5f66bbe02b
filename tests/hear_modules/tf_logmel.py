"""A third HEAR 2021 module, in TensorFlow: log-mel frames projected at random.

The TensorFlow twin of :mod:`tests.hear_modules.torch_logmel` (16 kHz, 25 ms
timestamps, 100 ms windows, 32 dimensions), cheap enough for the toy
``kedro run`` of ``tests/test_default_run.py`` and needing no PyTorch.
"""

from __future__ import annotations

import librosa
import numpy as np
import tensorflow as tf

SAMPLE_RATE = 16_000
HOP_MS = 25
WINDOW = 1_600  # samples: 100 ms


class LogMelProjection(tf.Module):
    """(frames, 1600) audio -> (frames, 32): log power in 40 mel bands, projected."""

    sample_rate = SAMPLE_RATE
    scene_embedding_size = 32
    timestamp_embedding_size = 32

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        mel = librosa.filters.mel(sr=SAMPLE_RATE, n_fft=WINDOW, n_mels=40)
        self.mel = tf.constant(mel.T, dtype=tf.float32)
        self.window = tf.signal.hann_window(WINDOW, periodic=True)
        projection = np.random.default_rng(seed).standard_normal((40, 32))
        self.projection = tf.Variable(projection.astype(np.float32))

    def __call__(self, frames: tf.Tensor) -> tf.Tensor:
        power = tf.abs(tf.signal.rfft(frames * self.window)) ** 2
        return tf.math.log(power @ self.mel + 1e-6) @ self.projection


def load_model(model_file_path: str = "") -> LogMelProjection:
    model = LogMelProjection()
    if model_file_path:
        model.projection.assign(np.load(model_file_path))
    return model


def get_timestamp_embeddings(
    audio: tf.Tensor, model: LogMelProjection
) -> tuple[tf.Tensor, tf.Tensor]:
    hop = SAMPLE_RATE * HOP_MS // 1000
    n_sounds, n_samples = audio.shape
    padded = tf.pad(audio, [[0, 0], [WINDOW // 2, WINDOW // 2]])
    n_frames = 1 + n_samples // hop  # centres 0 .. end
    frames = tf.signal.frame(padded, WINDOW, hop)[:, :n_frames]
    embeddings = tf.reshape(model(tf.reshape(frames, (-1, WINDOW))), (n_sounds, n_frames, -1))
    timestamps = tf.range(n_frames, dtype=tf.float32) * HOP_MS
    return embeddings, tf.tile(timestamps[None], (n_sounds, 1))


def get_scene_embeddings(audio: tf.Tensor, model: LogMelProjection) -> tf.Tensor:
    return tf.reduce_mean(get_timestamp_embeddings(audio, model)[0], axis=1)


__all__ = ["get_scene_embeddings", "get_timestamp_embeddings", "load_model"]
