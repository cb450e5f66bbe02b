"""Fast mode: the L3 audio tower run once over a span of overlapping windows.

At a 0.1 s hop, consecutive 1 s windows share 90 % of their audio, and the
exact mode computes the spectrogram and the convolutions of every sample ten
times. :class:`SpanTower` computes them once over a *span* (the audio of
several consecutive windows), then cuts each window's columns out of the
last convolution's output and applies the embedding model's own pooling
head to them. The weights are the embedding model's, shared, not copied.

What differs from the exact mode (the price of the speed):

- **dB reference.** The exact front-end scales each window to its own
  maximum (0 dB) and floors it at -80 dB. Here each frame is scaled to the
  maximum of the 1 s of frames centred on it: exact at a window's centre,
  approximate towards its edges when a louder sound is near.
- **Time grid.** The trunk downsamples time 8x (three 2x2 max-pools), so a
  window's columns start at the nearest multiple of 8 frames (1,936
  samples, 40 ms): up to 20 ms off, where the exact mode is exact.
- **Context.** Convolutions near a window's edges see the neighbouring
  audio instead of the exact mode's zero padding.

How much the downstream accuracy moves is measured by
``benchmarks/fast_mode_accuracy.py`` (real UrbanSound8K); the speed by
``benchmarks/compare_torchopenl3.py``.
"""

from __future__ import annotations

import weakref

import keras
import numpy as np
from keras import ops
from scipy.ndimage import maximum_filter1d

from l3_kedro.audio.constants import INPUT_SHAPES
from l3_kedro.errors import ModelError

__all__ = ["SpanTower"]

TRUNK_DOWNSAMPLING = 8
"""Frames per column of the last convolution's output (three 2x2 max-pools)."""


def _trunk_layers(model: keras.Model) -> list[keras.layers.Layer]:
    """The layers between ``audio_frontend`` and ``audio_embedding_pool``, in order.

    Raises
    ------
    ModelError
        The model is not an L3 audio embedding model with its front-end in
        the graph, or its trunk is not a plain chain of layers.
    """
    names = [layer.name for layer in model.layers]
    try:
        first, head = names.index("audio_frontend") + 1, names.index("audio_embedding_pool")
    except ValueError:
        raise ModelError(
            f"Model {model.name!r} has no 'audio_frontend' or 'audio_embedding_pool' layer: "
            "fast mode needs an L3 audio embedding model with its front-end "
            "(load_audio_embedding_model, or an embed.models entry of kind l3, "
            "l3_random or openl3)."
        ) from None
    layers = model.layers[first:head]
    previous = "audio_frontend"
    for layer in [*layers, model.get_layer("audio_embedding_pool")]:
        node = layer._inbound_nodes[0]  # where the model calls it (a SpanTower adds one)
        parents = [parent.operation.name for parent in node.parent_nodes]
        if parents != [previous]:
            raise ModelError(
                f"Model {model.name!r}: layer {layer.name!r} takes {parents}, not "
                f"[{previous!r}]; fast mode needs the L3 tower's plain chain of layers."
            )
        previous = layer.name
    return layers


_TOWERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class SpanTower:
    """An L3 audio embedding model applied to spans of windows instead of windows.

    Parameters
    ----------
    model : keras.Model
        An L3 audio embedding model with its front-end: (batch, 48000) audio
        at 48 kHz -> (batch, D).

    Attributes
    ----------
    input_repr : str
        The front-end's representation.
    embedding_size : int
        D.
    """

    def __init__(self, model: keras.Model) -> None:
        trunk = _trunk_layers(model)
        self._frontend = model.get_layer("audio_frontend")
        spectrogram = keras.Input(shape=(self._frontend.settings.n_bins, None, 1))
        x = spectrogram
        for layer in trunk:
            x = layer(x)
        # (1, bins, frames, 1) dB -> (1, rows, columns, channels): one graph for any length
        self._trunk = keras.Model(spectrogram, x, name=f"{model.name}_trunk")
        self._head = [model.get_layer("audio_embedding_pool"), model.get_layer("audio_embedding")]
        settings = self._frontend.settings
        self.input_repr = "linear" if settings.n_mels is None else f"mel{settings.n_mels}"
        self._window_frames = INPUT_SHAPES[self.input_repr][1]
        self._window_columns = self._window_frames // TRUNK_DOWNSAMPLING
        self._column_samples = settings.hop_length * TRUNK_DOWNSAMPLING
        self.embedding_size = int(model.output_shape[-1])

    @classmethod
    def of(cls, model: keras.Model) -> SpanTower:
        """The span tower of ``model``, built once per model (its trunk graph is compiled once)."""
        if model not in _TOWERS:
            _TOWERS[model] = cls(model)
        return _TOWERS[model]

    def spectrogram(self, span: np.ndarray):
        """(n_samples,) audio -> (1, bins, frames, 1) dB, each frame scaled to the loudest
        frame within half a window of it (0 dB) and floored at -80 dB."""
        magnitude = self._frontend.magnitudes(ops.convert_to_tensor(span[None, :]))
        loudest = ops.convert_to_numpy(ops.max(magnitude, axis=2))[0]  # (frames,)
        reference = maximum_filter1d(loudest, self._window_frames, mode="nearest")
        reference = ops.convert_to_tensor(reference[None, :, None], dtype=magnitude.dtype)
        return self._frontend.decibels(magnitude, reference)

    def embed_span(self, span: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """Embed the windows starting at ``offsets`` of one span.

        Parameters
        ----------
        span : np.ndarray [shape=(n_samples,), dtype=float32]
            48 kHz audio holding every window: ``offsets[-1] + 48000 <= n_samples``.
        offsets : np.ndarray [shape=(K,), int]
            Window starts, in samples from the span's start, ascending.

        Returns
        -------
        np.ndarray [shape=(K, D), dtype=float32]
        """
        x = np.asarray(self._trunk.predict_on_batch(self.spectrogram(span)))[0]
        columns = x.shape[1]
        starts = np.minimum(
            np.rint(np.asarray(offsets) / self._column_samples).astype(np.int64),
            columns - self._window_columns,
        )
        if starts.size and starts[0] < 0:
            raise ModelError(f"A span of {span.size} samples is shorter than one window.")
        index = starts[:, None] + np.arange(self._window_columns)  # (K, window columns)
        y = np.moveaxis(x[:, index], 1, 0)  # (K, rows, window columns, channels)
        for layer in self._head:
            y = layer(y)
        return np.asarray(ops.convert_to_numpy(y), dtype=np.float32)
