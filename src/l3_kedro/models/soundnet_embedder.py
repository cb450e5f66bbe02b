"""SoundNet as a clip embedder: a layer's frames pooled per 1 s window.

The network itself is :func:`~l3_kedro.models.soundnet.build_soundnet`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from numbers import Real
from pathlib import Path

import keras
import numpy as np

from l3_kedro.audio.io import resample
from l3_kedro.audio.windows import count_windows, mono_float32
from l3_kedro.errors import AudioError, AudioWarning, ParameterError
from l3_kedro.models.constants import SOUNDNET_HOP_S
from l3_kedro.models.soundnet import (
    SOUNDNET_INPUT_SCALE,
    SOUNDNET_POOLINGS,
    SOUNDNET_SAMPLE_RATE,
    _check_layer,
    build_soundnet,
    frame_times,
    layer_channels,
    min_samples,
)


class SoundNetEmbedder:
    """Clip-level SoundNet embeddings, time-pooled per 1 s window.

    Parameters
    ----------
    weights_path : str or Path
        The ``sound8.npy`` weights file.
    layer : str
        Which layer to pool (see :data:`SOUNDNET_OUTPUT_LAYERS`); the SoundNet
        paper found conv5-conv7 the best features.
    pooling : {"max", "mean"}
        How the layer's frames are pooled over each window. Default ``"max"``,
        like the max-pooled L3 embedding it is compared with.
    batch_size : int
        Clips of equal length run through the network together in
        :meth:`embed_batch`.

    Notes
    -----
    A window ``[t, t + 1 s)`` pools the frames whose receptive-field centre
    lies in it; a window that holds no frame centre (possible for conv6 and
    deeper, whose frames are 0.74 s and 1.49 s apart) takes the frame nearest
    its middle. The window layout follows the L3 convention: ``center=True``
    centres window ``i`` on ``i * hop_size``; the end is zero-padded so that
    the last window is complete.
    """

    sample_rate = SOUNDNET_SAMPLE_RATE
    window_s = 1.0

    def __init__(
        self,
        weights_path: str | Path,
        *,
        layer: str = "conv5",
        pooling: str = "max",
        batch_size: int = 16,
    ) -> None:
        if pooling not in SOUNDNET_POOLINGS:
            raise ParameterError(f"pooling={pooling!r}; expected one of {SOUNDNET_POOLINGS}")
        if batch_size < 1:
            raise ParameterError(f"batch_size={batch_size}; expected a positive int")
        _check_layer(layer)
        self.layer = layer
        self.pooling = pooling
        self.batch_size = batch_size
        self.embedding_size = layer_channels(layer)
        self.model = build_soundnet(weights_path, output_layer=layer)

    def embed(
        self, audio: np.ndarray, sr: int, *, hop_size: float = SOUNDNET_HOP_S, center: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Embed one clip.

        Parameters
        ----------
        audio : np.ndarray, shape (n_samples,) or (n_channels, n_samples)
            Floating-point waveform in [-1, 1]; channels are averaged.
        sr : int
            Its sample rate in Hz; it is resampled to 22,050 Hz (soxr).
        hop_size : float
            Seconds between window starts; the default 1.0 gives the
            non-overlapping windows of the L3 paper's SoundNet baseline.
        center : bool
            Centre window ``i`` on ``i * hop_size`` instead of starting it there.

        Returns
        -------
        embeddings : np.ndarray, shape (T, embedding_size), float32
        timestamps : np.ndarray, shape (T,)
            ``i * hop_size`` in seconds.
        """
        return self.embed_batch([audio], sr, hop_size=hop_size, center=center)[0]

    def embed_batch(
        self,
        clips: Sequence[np.ndarray],
        sr: int | Sequence[int],
        *,
        hop_size: float = SOUNDNET_HOP_S,
        center: bool = False,
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Embed several clips; same results as :meth:`embed` on each, in order.

        ``sr`` is one rate for all clips or one per clip. Clips that pad to the
        same length share forward passes of up to ``batch_size`` clips.
        """
        rates = [sr] * len(clips) if isinstance(sr, Real) else list(sr)
        if len(rates) != len(clips):
            raise ParameterError(f"Got {len(clips)} clips but {len(rates)} sample rates.")
        prepared = [
            self._prepare(audio, rate, hop_size=hop_size, center=center)
            for audio, rate in zip(clips, rates, strict=True)
        ]
        by_length: dict[int, list[int]] = {}
        for index, (padded, _) in enumerate(prepared):
            by_length.setdefault(padded.size, []).append(index)
        results: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for indices in by_length.values():
            for first in range(0, len(indices), self.batch_size):
                chunk = indices[first : first + self.batch_size]
                batch = np.stack([prepared[i][0] for i in chunk])
                frames = keras.ops.convert_to_numpy(self.model(batch, training=False))
                for index, clip_frames in zip(chunk, frames, strict=True):
                    starts = prepared[index][1]
                    timestamps = np.arange(starts.size) * float(hop_size)
                    results[index] = (self._pool(clip_frames, starts), timestamps)
        return [results[index] for index in range(len(clips))]

    def _prepare(
        self, audio: np.ndarray, sr: int, *, hop_size: float, center: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """Scaled, zero-padded network input (n,) and window start times (T,) in s."""
        wave = _to_mono_22k(audio, sr)
        count = count_windows(wave.size, self.sample_rate, hop_size=hop_size, center=center)
        window = round(self.window_s * self.sample_rate)
        hop = int(hop_size * self.sample_rate)  # as frame_audio does
        starts = np.arange(count) * hop - (window // 2 if center else 0)
        length = max(int(starts[-1]) + window, wave.size, min_samples(layer=self.layer))
        padded = np.zeros(length, np.float32)
        padded[: wave.size] = wave * SOUNDNET_INPUT_SCALE
        return padded, starts / self.sample_rate

    def _pool(self, frames: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """Pool ``frames`` (F, D) over windows starting at ``starts`` (T,) s -> (T, D)."""
        times = frame_times(frames.shape[0], layer=self.layer)
        lows = np.searchsorted(times, starts, side="left")
        highs = np.searchsorted(times, starts + self.window_s, side="left")
        reduce = np.max if self.pooling == "max" else np.mean
        out = np.empty((starts.size, frames.shape[1]), np.float32)
        for i, (low, high) in enumerate(zip(lows, highs, strict=True)):
            if high > low:
                out[i] = reduce(frames[low:high], axis=0)
            else:
                out[i] = frames[np.argmin(np.abs(times - (starts[i] + self.window_s / 2)))]
        return out


def _to_mono_22k(audio: np.ndarray, sr: int) -> np.ndarray:
    """Check a waveform, average its channels and resample it to 22,050 Hz."""
    audio = mono_float32(audio)
    if not np.isfinite(audio).all():
        raise AudioError("audio holds NaN or Inf samples; repair or drop the clip first.")
    if not audio.any():
        warnings.warn("audio is all zeros (silent).", AudioWarning, stacklevel=4)
    if audio.size < sr:
        warnings.warn(
            f"audio lasts {audio.size / sr:.3f} s, under the 1 s window; it is zero-padded.",
            AudioWarning,
            stacklevel=4,
        )
    return resample(audio, sr, SOUNDNET_SAMPLE_RATE).astype(np.float32, copy=False)
