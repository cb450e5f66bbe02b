"""A hand-crafted baseline embedding: log-mel and MFCC statistics per 1 s window.

Each 1 s window (cut by :func:`~l3_kedro.audio.windows.frame_audio`, so with
the same layout and timestamps as the L3 embeddings) is summarised by the
mean and standard deviation over its STFT frames of

- the log-mel spectrogram (``n_mels`` bands, dB re 1.0, floored at -100 dB),
- the MFCCs (``n_mfcc`` coefficients of that log-mel spectrogram),
- the MFCC deltas (first-order, over 9 frames),

in that order, so ``D = 2 * n_mels + 4 * n_mfcc`` (336 with the defaults).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from numbers import Real

import librosa
import numpy as np

from l3_kedro.audio.constants import DEFAULT_HOP_SIZE_S
from l3_kedro.audio.io import resample
from l3_kedro.audio.windows import frame_audio, mono_float32
from l3_kedro.errors import AudioError, ParameterError

HANDCRAFTED_SAMPLE_RATES = (22_050, 48_000)
DELTA_WIDTH = 9
_TOP_DB_FLOOR = 1e-10  # power floor of the log-mel: 10 * log10(1e-10) = -100 dB


def default_n_fft(sample_rate: int) -> int:
    """FFT length closest (in octaves) to 93 ms: 2048 at 22,050 Hz, 4096 at 48 kHz."""
    return 2 ** round(math.log2(0.093 * sample_rate))


class HandcraftedEmbedder:
    """Log-mel and MFCC summary statistics of 1 s windows.

    Parameters
    ----------
    sample_rate : {22050, 48000}
        Rate in Hz the audio is resampled to (soxr) before analysis. 22,050 Hz
        matches the SoundNet baseline, 48,000 Hz the L3 input.
    n_mels : int
        Mel bands (Slaney mel scale, 0 Hz to Nyquist).
    n_mfcc : int
        MFCCs kept, at most ``n_mels``.
    n_fft : int, optional
        STFT length in samples; by default :func:`default_n_fft`.
    hop_length : int, optional
        STFT hop in samples; by default ``n_fft // 4``.
    chunk_size : int
        Windows analysed together (bounds memory: the STFT of a chunk takes
        about ``chunk_size * n_fft * 11`` bytes per second of window).

    Attributes
    ----------
    embedding_size : int
        ``D = 2 * n_mels + 4 * n_mfcc``: log-mel means, log-mel stds, MFCC
        means, MFCC stds, delta-MFCC means, delta-MFCC stds.
    """

    window_s = 1.0

    def __init__(
        self,
        *,
        sample_rate: int = 22_050,
        n_mels: int = 128,
        n_mfcc: int = 20,
        n_fft: int | None = None,
        hop_length: int | None = None,
        chunk_size: int = 64,
    ) -> None:
        if sample_rate not in HANDCRAFTED_SAMPLE_RATES:
            raise ParameterError(
                f"sample_rate={sample_rate!r}; expected one of {HANDCRAFTED_SAMPLE_RATES} Hz"
            )
        n_fft = default_n_fft(sample_rate) if n_fft is None else n_fft
        hop_length = n_fft // 4 if hop_length is None else hop_length
        for name, value in (
            ("n_mels", n_mels),
            ("n_mfcc", n_mfcc),
            ("n_fft", n_fft),
            ("hop_length", hop_length),
            ("chunk_size", chunk_size),
        ):
            if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
                raise ParameterError(f"{name}={value!r}; expected a positive int")
        if n_mfcc > n_mels:
            raise ParameterError(f"n_mfcc={n_mfcc} exceeds n_mels={n_mels}; lower n_mfcc")
        window = round(self.window_s * sample_rate)
        if n_fft > window:
            raise ParameterError(f"n_fft={n_fft} exceeds the 1 s window ({window} samples)")
        frames = 1 + window // hop_length  # librosa's centred STFT
        if frames < DELTA_WIDTH:
            raise ParameterError(
                f"hop_length={hop_length} gives {frames} STFT frames per window; "
                f"the deltas need at least {DELTA_WIDTH}: lower hop_length"
            )
        self.sample_rate = sample_rate
        self.n_mels = n_mels
        self.n_mfcc = n_mfcc
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.chunk_size = chunk_size
        self.embedding_size = 2 * n_mels + 4 * n_mfcc
        self._mel_basis = librosa.filters.mel(
            sr=sample_rate, n_fft=n_fft, n_mels=n_mels, dtype=np.float32
        )

    def embed(
        self,
        audio: np.ndarray,
        sr: int,
        *,
        hop_size: float = DEFAULT_HOP_SIZE_S,
        center: bool = True,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Embed one clip.

        Parameters
        ----------
        audio : np.ndarray, shape (n_samples,) or (n_channels, n_samples)
            Floating-point waveform in [-1, 1]; channels are averaged.
        sr : int
            Its sample rate in Hz; it is resampled to :attr:`sample_rate`.
        hop_size : float
            Seconds between windows.
        center : bool
            Centre window ``i`` on ``i * hop_size`` (else it starts there).

        Returns
        -------
        embeddings : np.ndarray, shape (T, embedding_size), float32
        timestamps : np.ndarray, shape (T,)
            ``i * hop_size`` in seconds.
        """
        audio = resample(mono_float32(audio), sr, self.sample_rate)
        windows, timestamps = frame_audio(
            audio, self.sample_rate, window_s=self.window_s, hop_size=hop_size, center=center
        )
        return self.embed_windows(windows), timestamps

    def embed_batch(
        self,
        clips: Sequence[np.ndarray],
        sr: int | Sequence[int],
        *,
        hop_size: float = DEFAULT_HOP_SIZE_S,
        center: bool = True,
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Embed several clips (one rate for all or one per clip), in order."""
        rates = [sr] * len(clips) if isinstance(sr, Real) else list(sr)
        if len(rates) != len(clips):
            raise ParameterError(f"Got {len(clips)} clips but {len(rates)} sample rates.")
        return [
            self.embed(audio, rate, hop_size=hop_size, center=center)
            for audio, rate in zip(clips, rates, strict=True)
        ]

    def embed_windows(self, windows: np.ndarray) -> np.ndarray:
        """Features of windows already at :attr:`sample_rate`.

        Parameters
        ----------
        windows : np.ndarray, shape (n, n_window_samples), float32

        Returns
        -------
        np.ndarray, shape (n, embedding_size), float32
            Computed ``chunk_size`` windows at a time.
        """
        windows = np.asarray(windows, dtype=np.float32)
        if windows.ndim != 2 or windows.shape[1] < self.n_fft:
            raise AudioError(
                f"windows have shape {windows.shape}; expected (n, samples) with "
                f"samples >= n_fft={self.n_fft} (1 s = {self.sample_rate} samples)."
            )
        chunks = [
            self._features(windows[start : start + self.chunk_size])
            for start in range(0, windows.shape[0], self.chunk_size)
        ]
        if not chunks:
            return np.zeros((0, self.embedding_size), np.float32)
        return np.concatenate(chunks, axis=0)

    def _features(self, windows: np.ndarray) -> np.ndarray:
        """Statistics of (n, samples) windows -> (n, embedding_size)."""
        spectrum = librosa.stft(
            windows, n_fft=self.n_fft, hop_length=self.hop_length, center=True
        )  # (n, 1 + n_fft // 2, frames)
        power = np.abs(spectrum) ** 2
        mel = np.einsum("mf,nft->nmt", self._mel_basis, power, optimize=True)
        log_mel = 10.0 * np.log10(np.maximum(mel, _TOP_DB_FLOOR))
        mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=self.n_mfcc)
        delta = librosa.feature.delta(mfcc, width=DELTA_WIDTH, axis=-1)
        stats = [f(x, axis=-1) for x in (log_mel, mfcc, delta) for f in (np.mean, np.std)]
        # order: mel mean, mel std, mfcc mean, mfcc std, delta mean, delta std
        return np.concatenate(stats, axis=-1).astype(np.float32)
