"""Constants of the audio front-end: sample rate, window, STFT and decibel settings.

Every number comes from the paper (Cramer et al., ICASSP 2019) or from the
facts its authors published with OpenL3 0.4.x (see ``docs/reference.md``
§1-2). Imports nothing heavy, so the librosa reference front-end
(:mod:`l3_kedro.audio.features`) and the Keras front-end layers
(:mod:`l3_kedro.models.frontends`) share it without loading Keras.
"""

from __future__ import annotations

from dataclasses import dataclass

from l3_kedro.errors import ParameterError

VALID_INPUT_REPRS: tuple[str, ...] = ("linear", "mel128", "mel256")
"""Names of the audio input representations (spectrogram front-ends)."""


TARGET_SR: int = 48000
"""Sample rate of the audio network input, in Hz."""


WINDOW_SAMPLES: int = TARGET_SR
"""Length of one audio input window: 1 s at ``TARGET_SR``, in samples."""


DEFAULT_HOP_SIZE_S: float = 0.1
"""Seconds between the starts of consecutive 1 s windows unless a caller says
otherwise: OpenL3's API default, shared by this project's API, command line and
window embedders (HEAR uses its own 50 ms, SoundNet and VGGish their frames)."""


HOP_LENGTH: int = 242
"""STFT hop shared by every representation, in samples (about 5 ms)."""


DB_AMIN: float = 1e-10
"""Smallest magnitude before the logarithm (kapre 0.1.x decibel rule)."""


DB_DYNAMIC_RANGE: float = 80.0
"""Decibel floor below the per-example maximum, in dB."""


MEL_FMIN: float = 0.0
"""Lowest edge of the mel filterbank, in Hz."""


MEL_FMAX: float = TARGET_SR / 2
"""Highest edge of the mel filterbank, in Hz (Nyquist of ``TARGET_SR``)."""


@dataclass(frozen=True)
class FrontendSettings:
    """STFT settings of one input representation.

    Attributes
    ----------
    n_fft : int
        FFT size and periodic Hann window length, in samples.
    hop_length : int
        Frame hop, in samples. Frames start at sample 0 (no centring).
    n_mels : int or None
        Number of HTK mel bands, or ``None`` for the linear-frequency
        magnitude spectrogram (``n_fft // 2 + 1`` bins).
    pad_end : bool
        Whether the window is zero-padded at the end so that there are
        ``ceil(n_samples / hop_length)`` frames. Without padding there are
        ``1 + (n_samples - n_fft) // hop_length`` frames.
    """

    n_fft: int
    hop_length: int
    n_mels: int | None
    pad_end: bool

    @property
    def n_bins(self) -> int:
        """Number of frequency bins (mel bands or FFT bins) of the output."""
        return self.n_mels if self.n_mels is not None else self.n_fft // 2 + 1


FRONTEND_SETTINGS: dict[str, FrontendSettings] = {
    "linear": FrontendSettings(n_fft=512, hop_length=HOP_LENGTH, n_mels=None, pad_end=False),
    "mel128": FrontendSettings(n_fft=2048, hop_length=HOP_LENGTH, n_mels=128, pad_end=True),
    "mel256": FrontendSettings(n_fft=2048, hop_length=HOP_LENGTH, n_mels=256, pad_end=True),
}
"""STFT settings per input representation."""


INPUT_SHAPES: dict[str, tuple[int, int]] = {
    "linear": (257, 197),
    "mel128": (128, 199),
    "mel256": (256, 199),
}
"""Spectrogram shape (bins, frames) of one 1 s window per representation."""


def check_input_repr(input_repr: str) -> str:
    """Return ``input_repr`` if it names a known input representation.

    Parameters
    ----------
    input_repr : str
        One of ``VALID_INPUT_REPRS``.

    Returns
    -------
    str
        ``input_repr`` unchanged.

    Raises
    ------
    ParameterError
        If ``input_repr`` is not one of ``VALID_INPUT_REPRS``.
    """
    if input_repr not in VALID_INPUT_REPRS:
        raise ParameterError(
            f"input_repr={input_repr!r} is not supported; use one of {VALID_INPUT_REPRS}."
        )
    return input_repr
