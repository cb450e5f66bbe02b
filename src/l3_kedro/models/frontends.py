"""Keras spectrogram front-end layers of L3-Net, computed inside the graph.

The layers map raw 48 kHz audio of shape (batch, n_samples) to decibel
spectrograms of shape (batch, bins, frames, 1), matching the librosa
reference of :mod:`l3_kedro.audio.features`.

Precision: by default the STFT, the mel projection and the logarithm run in
float64 and only the result is cast to float32. The decibel rule keeps eight
decades of *magnitude* (80 dB with a factor of 10), more than float32 FFT
round-off allows (about 1e-7 of the peak). In float32 the layer differs from
librosa by up to about 0.14 dB at -60 dB and by several dB near the -80 dB
floor on real audio; in float64 the two agree to about 2e-5 dB everywhere
(measured with TensorFlow on CPU). ``fft_dtype="float32"`` is offered for
hardware with slow float64. The layers use ``keras.ops`` only; with the JAX
backend float64 needs ``jax_enable_x64``, else JAX computes in float32:
:func:`enable_fft_dtype` turns it on when float64 is asked for (the
embedders of :func:`~l3_kedro.embedding.embedders.build_embedder` call it).
"""

from __future__ import annotations

import logging

import keras
import numpy as np
from keras import ops

from l3_kedro.audio.constants import (
    DB_AMIN,
    DB_DYNAMIC_RANGE,
    FRONTEND_SETTINGS,
    FrontendSettings,
    check_input_repr,
)
from l3_kedro.audio.features import frame_layout, mel_filterbank
from l3_kedro.errors import ParameterError

__all__ = ["LinearSpectrogram", "MelSpectrogram", "build_frontend", "enable_fft_dtype"]

logger = logging.getLogger(__name__)

_FFT_DTYPES = ("float32", "float64")


def enable_fft_dtype(fft_dtype: str) -> str:
    """Make the running Keras backend compute the front-end in ``fft_dtype``.

    Only JAX needs anything: it computes float64 in float32 unless
    ``jax_enable_x64`` is on. For ``"float64"`` on the JAX backend this turns
    ``jax_enable_x64`` on (process-wide, logged once when it changes) before
    the model is first called; ``"float32"``, or another backend, changes
    nothing. The model's weights and inputs stay float32 either way.

    Parameters
    ----------
    fft_dtype : {"float64", "float32"}
        Precision of the in-graph front-end.

    Returns
    -------
    str
        ``fft_dtype``.

    Raises
    ------
    ParameterError
        If ``fft_dtype`` is not one of the two.
    """
    if fft_dtype not in _FFT_DTYPES:
        raise ParameterError(f"fft_dtype={fft_dtype!r} is not supported; use one of {_FFT_DTYPES}.")
    if fft_dtype == "float64" and keras.backend.backend() == "jax":
        import jax

        if not jax.config.jax_enable_x64:
            jax.config.update("jax_enable_x64", True)
            logger.info(
                "Enabled jax_enable_x64: the spectrogram front-end computes in float64 "
                "(fft_dtype='float64'); use fft_dtype='float32' to keep JAX in 32 bits."
            )
    return fft_dtype


class _DecibelSpectrogram(keras.layers.Layer):
    """Shared STFT -> (mel) -> decibel computation of the front-end layers.

    Parameters
    ----------
    settings : FrontendSettings
        STFT settings of the representation.
    fft_dtype : {"float64", "float32"}
        Precision of the internal computation.
    **kwargs
        Passed to ``keras.layers.Layer`` (``name``, ``dtype`` ...).
    """

    def __init__(self, *, settings: FrontendSettings, fft_dtype: str = "float64", **kwargs):
        kwargs.setdefault("trainable", False)
        super().__init__(**kwargs)
        if fft_dtype not in _FFT_DTYPES:
            raise ParameterError(
                f"fft_dtype={fft_dtype!r} is not supported; use one of {_FFT_DTYPES}."
            )
        self.settings = settings
        self.fft_dtype = fft_dtype
        self._mel_basis = None
        if settings.n_mels is not None:
            # (n_fft // 2 + 1, n_mels): right-multiplies (batch, frames, fft bins).
            basis = mel_filterbank(n_mels=settings.n_mels, n_fft=settings.n_fft, dtype=np.float64)
            self._mel_basis = basis.T.astype(fft_dtype)

    def _layout(self, n_samples: int | None) -> tuple[int, int]:
        if n_samples is None:
            raise ParameterError(
                f"{type(self).__name__} needs a known window length; build the model "
                "with keras.Input(shape=(48000,))."
            )
        return frame_layout(int(n_samples), settings=self.settings)

    def compute_output_shape(self, input_shape):
        n_frames, _ = self._layout(input_shape[-1])
        return (input_shape[0], self.settings.n_bins, n_frames, 1)

    def magnitudes(self, inputs):
        """(batch, n_samples) audio -> (batch, frames, bins) magnitudes >= ``DB_AMIN``.

        Computed in ``fft_dtype``; ``n_samples`` must be known (any length
        that gives one frame).
        """
        settings = self.settings
        _, n_pad = self._layout(inputs.shape[-1])
        x = ops.cast(inputs, self.fft_dtype)
        if n_pad:
            x = ops.pad(x, [(0, 0), (0, n_pad)])
        real, imag = ops.stft(
            x,
            sequence_length=settings.n_fft,
            sequence_stride=settings.hop_length,
            fft_length=settings.n_fft,
            window="hann",
            center=False,
        )
        magnitude = ops.sqrt(real * real + imag * imag)  # (batch, frames, fft bins)
        if self._mel_basis is not None:
            magnitude = ops.matmul(magnitude, ops.convert_to_tensor(self._mel_basis))
        return ops.maximum(magnitude, DB_AMIN)

    def decibels(self, magnitude, reference):
        """``magnitude`` (batch, frames, bins) in dB of ``reference`` (broadcast to it).

        Returns (batch, bins, frames, 1) in ``[-DB_DYNAMIC_RANGE, 0]`` where
        ``reference`` is at least ``magnitude``, in the layer's compute dtype.
        """
        # 10 log10(S) - 10 log10(ref) computed as 10 log10(S / ref): the
        # maximum maps to log10(1) = 0 exactly, whatever code path log10 takes.
        log_spec = ops.maximum(10.0 * ops.log10(magnitude / reference), -DB_DYNAMIC_RANGE)
        spec = ops.expand_dims(ops.transpose(log_spec, (0, 2, 1)), -1)
        return ops.cast(spec, self.compute_dtype)

    def call(self, inputs):
        magnitude = self.magnitudes(inputs)
        return self.decibels(magnitude, ops.max(magnitude, axis=(1, 2), keepdims=True))

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"fft_dtype": self.fft_dtype})
        return config


@keras.saving.register_keras_serializable(package="l3_kedro")
class LinearSpectrogram(_DecibelSpectrogram):
    """Linear-frequency magnitude spectrogram in dB (the ``linear`` repr).

    n_fft 512 with a periodic Hann window, hop 242, no padding: a 1 s window
    at 48 kHz gives 257 bins x 197 frames.

    Parameters
    ----------
    fft_dtype : {"float64", "float32"}
        Precision of the internal computation (see the module docstring).
    **kwargs
        Passed to ``keras.layers.Layer``.

    Notes
    -----
    Input shape (batch, n_samples) float32 audio at 48 kHz; output shape
    (batch, 257, frames, 1) float32 dB in [-80, 0], maximum 0 per example.
    """

    def __init__(self, *, fft_dtype: str = "float64", **kwargs):
        super().__init__(settings=FRONTEND_SETTINGS["linear"], fft_dtype=fft_dtype, **kwargs)


@keras.saving.register_keras_serializable(package="l3_kedro")
class MelSpectrogram(_DecibelSpectrogram):
    """HTK mel magnitude spectrogram in dB (the ``mel128`` / ``mel256`` reprs).

    n_fft 2048 with a periodic Hann window, hop 242, the window zero-padded at
    the end to ``ceil(n_samples / 242)`` frames (199 for 1 s), magnitude
    (power 1), HTK mel filters from 0 to 24 kHz with area normalisation.

    Parameters
    ----------
    n_mels : {128, 256}
        Number of mel bands.
    fft_dtype : {"float64", "float32"}
        Precision of the internal computation (see the module docstring).
    **kwargs
        Passed to ``keras.layers.Layer``.

    Notes
    -----
    Input shape (batch, n_samples) float32 audio at 48 kHz; output shape
    (batch, n_mels, frames, 1) float32 dB in [-80, 0], maximum 0 per example.
    """

    def __init__(self, *, n_mels: int = 256, fft_dtype: str = "float64", **kwargs):
        input_repr = f"mel{n_mels}"
        if input_repr not in FRONTEND_SETTINGS:
            raise ParameterError(f"n_mels={n_mels!r} is not supported; use 128 or 256.")
        super().__init__(settings=FRONTEND_SETTINGS[input_repr], fft_dtype=fft_dtype, **kwargs)
        self.n_mels = n_mels

    def get_config(self) -> dict:
        config = super().get_config()
        config.update({"n_mels": self.n_mels})
        return config


def build_frontend(
    input_repr: str, *, fft_dtype: str = "float64", name: str = "audio_frontend"
) -> keras.layers.Layer:
    """Return the front-end layer of an input representation.

    Parameters
    ----------
    input_repr : {"linear", "mel128", "mel256"}
        Input representation.
    fft_dtype : {"float64", "float32"}
        Precision of the internal computation.
    name : str
        Layer name.

    Returns
    -------
    keras.layers.Layer
        Maps (batch, 48000) audio to (batch, bins, frames, 1) dB.

    Raises
    ------
    ParameterError
        If ``input_repr`` or ``fft_dtype`` is unknown.
    """
    settings = FRONTEND_SETTINGS[check_input_repr(input_repr)]
    # float32 output even under a mixed-precision policy: decibels near the
    # -80 dB floor need more than float16's 11-bit mantissa.
    if settings.n_mels is None:
        return LinearSpectrogram(fft_dtype=fft_dtype, name=name, dtype="float32")
    return MelSpectrogram(n_mels=settings.n_mels, fft_dtype=fft_dtype, name=name, dtype="float32")
