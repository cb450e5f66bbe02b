"""Embed audio arrays with L3-Net: the array half of :mod:`l3_kedro.api` (its conventions)."""

from __future__ import annotations

import logging
import math
import os
import warnings
from collections.abc import Sequence
from numbers import Real
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import Progress

from l3_kedro.api.checks import check_batch_size, check_embedding_size, check_mode
from l3_kedro.audio import batch_windows, frame_audio, mono_float32, resample
from l3_kedro.audio.constants import (
    DEFAULT_HOP_SIZE_S,
    TARGET_SR,
    WINDOW_SAMPLES,
    check_input_repr,
)
from l3_kedro.audio.features import compute_spectrograms
from l3_kedro.errors import (
    AudioError,
    AudioWarning,
    L3KedroWarning,
    ModelError,
    ParameterError,
)
from l3_kedro.models.precision import check_precision, with_compute_precision

__all__ = ["get_audio_embedding", "load_audio_embedding_model", "preprocess_audio"]

logger = logging.getLogger(__name__)

PathLike = str | os.PathLike


def preprocess_audio(
    audio: np.ndarray,
    sr: float,
    *,
    input_repr: str,
    hop_size: float = DEFAULT_HOP_SIZE_S,
    center: bool = True,
) -> np.ndarray:
    """Return the spectrograms the L3 audio tower sees for a clip.

    The clip is mixed to mono, resampled to 48 kHz, cut into 1 s windows
    (:func:`~l3_kedro.audio.frame_audio`) and each window turned into the
    librosa reference spectrogram (:func:`~l3_kedro.audio.features.compute_spectrograms`),
    which agrees with the model's in-graph front-end to about 1e-5 dB.

    Parameters
    ----------
    audio : np.ndarray [shape=(n,) or (n, channels), floating]
        Samples in [-1, 1], channels last (OpenL3 convention).
    sr : float > 0
        Sampling rate of `audio` in Hz.
    input_repr : {"linear", "mel128", "mel256"}
        Input representation.
    hop_size : float > 0
        Seconds between window starts.
    center : bool
        Centre the first window on time 0.

    Returns
    -------
    np.ndarray [shape=(n_windows, n_bins, n_frames), dtype=float32]
        dB spectrograms in [-80, 0]: (257, 197) per window for ``linear``,
        (128, 199) for ``mel128``, (256, 199) for ``mel256``.

    Raises
    ------
    ParameterError
        `input_repr`, `sr`, `hop_size` or `center` is out of its domain.
    AudioError
        `audio` is empty, not floating-point, channels-first or not finite.
    """
    check_input_repr(input_repr)
    _, windows, _ = _frame_clip(audio, sr, 0, hop_size=hop_size, center=center)
    return compute_spectrograms(np.ascontiguousarray(windows), input_repr=input_repr)


def load_audio_embedding_model(
    *,
    input_repr: str,
    embedding_size: int = 6144,
    weights: PathLike | None = None,
    width: float = 1.0,
):
    """Build an L3 audio embedding model, random or from a trained checkpoint.

    Parameters
    ----------
    input_repr : {"linear", "mel128", "mel256"}
        Input representation; must be the checkpoint's when `weights` is given.
    embedding_size : {512, 6144}
        Nominal embedding size (exact at width 1.0).
    weights : str or PathLike or None
        ``.keras`` file of a trained L3 model (from ``build_l3net``) or audio
        tower; its block widths are read from the file. None builds a randomly
        initialised network.
    width : float > 0
        Width multiplier of a random network. With `weights` it is only
        checked against the checkpoint when it is not 1.0.

    Returns
    -------
    keras.Model
        Raw audio (batch, 48000) at 48 kHz -> (batch, D) float32 embeddings.

    Raises
    ------
    ParameterError
        `input_repr`, `embedding_size`, `width` or the suffix of `weights` is
        invalid.
    ModelError
        The checkpoint is missing, unreadable, not an L3 model, or was
        trained with another `input_repr` or `width`.
    """
    check_input_repr(input_repr)
    check_embedding_size(embedding_size)
    if not isinstance(width, Real) or isinstance(width, bool) or not 0 < width < math.inf:
        raise ParameterError(f"width must be a positive number, got {width!r}.")
    from l3_kedro.models.audio_tower import build_audio_tower

    if weights is None:
        return build_audio_tower(input_repr=input_repr, embedding_size=embedding_size, width=width)
    from l3_kedro.models.blocks import block_filters
    from l3_kedro.models.l3net import infer_input_repr
    from l3_kedro.models.l3net import load_audio_embedding_model as load_checkpoint

    path = Path(weights)
    if path.suffix != ".keras":
        raise ParameterError(
            f"weights={str(path)!r} must be a '.keras' file saved by model.save()."
        )
    if not path.is_file():
        raise ModelError(f"weights file {str(path)!r} not found; check the path.")
    model = load_checkpoint(path, embedding_size=embedding_size)
    trained_repr = infer_input_repr(model)
    if trained_repr != input_repr:
        raise ModelError(
            f"weights {str(path)!r} were trained with input_repr={trained_repr!r}, not "
            f"{input_repr!r}; pass input_repr={trained_repr!r}."
        )
    filters = tuple(model.get_layer(f"audio_block{k}_conv1").filters for k in range(1, 5))
    if width != 1.0 and filters != block_filters(width=width):
        raise ModelError(
            f"weights {str(path)!r} hold a network with block filters {filters}, not "
            f"width={width}; leave width at 1.0 to take the checkpoint's."
        )
    return model


def get_audio_embedding(
    audio: np.ndarray | Sequence[np.ndarray],
    sr: float | Sequence[float],
    *,
    model: Any = None,
    input_repr: str = "mel256",
    embedding_size: int = 6144,
    center: bool = True,
    hop_size: float = DEFAULT_HOP_SIZE_S,
    batch_size: int = 32,
    verbose: bool = False,
    mode: str = "exact",
    precision: str = "float32",
) -> tuple[np.ndarray, np.ndarray] | tuple[list[np.ndarray], list[np.ndarray]]:
    """Embed one clip or a list of clips with L3-Net, window by window.

    Windows of all clips are batched together, so many short clips cost
    about as much as one long one.

    Parameters
    ----------
    audio : np.ndarray [shape=(n,) or (n, channels)] or list of them
        Floating-point samples in [-1, 1], channels last (OpenL3 convention;
        transpose a (channels, n) array first). A list gives lists back.
    sr : float > 0 or list of float
        Sampling rate(s) in Hz: one for all clips or one per clip. Audio is
        resampled to 48 kHz with soxr.
    model : keras.Model or None
        From :func:`load_audio_embedding_model`; then `input_repr` and
        `embedding_size` are ignored. None builds a *randomly initialised*
        network (with an :class:`~l3_kedro.errors.L3KedroWarning`).
    input_repr : {"linear", "mel128", "mel256"}
        Input representation of the network built when `model` is None.
    embedding_size : {512, 6144}
        Embedding size of the network built when `model` is None.
    center : bool
        Centre the first window on time 0 (half a window of zeros first).
    hop_size : float > 0
        Seconds between windows.
    batch_size : int >= 1
        Windows per model call.
    verbose : bool
        Show a progress bar.
    mode : {"exact", "fast"}
        ``"exact"``: every window on its own, as OpenL3. ``"fast"``: the
        network runs once over spans of up to 10 s of windows and each window
        is pooled out of it (:mod:`l3_kedro.embedding.fast`): the same windows
        and timestamps, about 5x faster at a 0.1 s hop, slightly different
        numbers; `batch_size` is not used.
    precision : {"float32", "bfloat16"}
        ``"bfloat16"``: the network's convolutions compute in bfloat16
        (:mod:`l3_kedro.models.precision`): faster on CPUs with AVX512_BF16
        or AMX and on GPUs, embeddings within about 1 %; slower elsewhere.

    Returns
    -------
    embedding : np.ndarray [shape=(T, D), dtype=float32] or list of them
        One row per window.
    timestamps : np.ndarray [shape=(T,), dtype=float64] or list of them
        ``i * hop_size`` in seconds: the window centre if `center`, else its
        start.

    Raises
    ------
    ParameterError
        A parameter is out of its domain (the message names it), or the
        numbers of clips and rates differ.
    AudioError
        A clip is empty, not floating-point, channels-first, or holds NaN or
        Inf; the message names the clip's index.

    Warns
    -----
    AudioWarning
        A clip is shorter than 1 s (padded) or all zeros (embedded as is).
    """
    clips, rates, is_list = _clip_list(audio, sr)
    batch_size = check_batch_size(batch_size)
    check_mode(mode)
    check_precision(precision)
    check_input_repr(input_repr)
    check_embedding_size(embedding_size)
    framed = []  # checks every clip before any model is built or run
    for index, (clip, rate) in enumerate(zip(clips, rates, strict=True)):
        framed.append(_frame_clip(clip, rate, index, hop_size=hop_size, center=center))
    model = _resolve_model(model, input_repr=input_repr, embedding_size=embedding_size)
    model = with_compute_precision(model, precision)
    timestamps = [ts for _, _, ts in framed]
    if mode == "fast":
        embeddings = _embed_fast(model, framed, hop_size=hop_size, center=center, verbose=verbose)
        return (embeddings, timestamps) if is_list else (embeddings[0], timestamps[0])
    counts = [len(windows) for _, windows, _ in framed]
    outputs = []
    with Progress(disable=not verbose, transient=True) as bar:
        task = bar.add_task("Embedding windows", total=sum(counts))
        clips = ((index, windows) for index, (_, windows, _) in enumerate(framed))
        for batch in batch_windows(clips, batch_size, pad_last=False):
            outputs.append(np.asarray(model.predict_on_batch(batch.windows), dtype=np.float32))
            bar.advance(task, batch.n_valid)
    embeddings = np.split(np.concatenate(outputs), np.cumsum(counts)[:-1])
    if is_list:
        return embeddings, timestamps
    return embeddings[0], timestamps[0]


def _embed_fast(
    model: Any, framed: list[tuple[np.ndarray, np.ndarray, np.ndarray]], **options: Any
) -> list[np.ndarray]:
    """Fast-mode embeddings (T, D) of clips framed by :func:`_frame_clip`."""
    from l3_kedro.embedding.embedders import L3Embedder
    from l3_kedro.embedding.fast import L3FastEmbedder

    fast = L3FastEmbedder(L3Embedder(model, name=model.name, attributes={}))
    verbose = options.pop("verbose")
    embeddings = []
    with Progress(disable=not verbose, transient=True) as bar, warnings.catch_warnings():
        warnings.simplefilter("ignore", AudioWarning)  # _frame_clip warned, naming the clip
        task = bar.add_task("Embedding clips (fast mode)", total=len(framed))
        for samples, _, _ in framed:
            embeddings.append(fast.embed(samples, TARGET_SR, **options)[0])
            bar.advance(task)
    return embeddings


def _resolve_model(model: Any, *, input_repr: str, embedding_size: int) -> Any:
    """Check a given model, or build a random one (with a warning)."""
    import keras

    check_input_repr(input_repr)
    check_embedding_size(embedding_size)
    if model is None:
        warnings.warn(
            "No model given: embedding with a randomly initialised L3 network. Pass "
            "model=load_audio_embedding_model(input_repr=..., weights='trained.keras').",
            L3KedroWarning,
            stacklevel=3,
        )
        return load_audio_embedding_model(input_repr=input_repr, embedding_size=embedding_size)
    if not isinstance(model, keras.Model):
        raise ParameterError(
            f"model must be a keras.Model from load_audio_embedding_model, got {type(model).__name__}."
        )
    if tuple(model.input_shape[1:]) != (WINDOW_SAMPLES,):
        raise ParameterError(
            f"model takes inputs of shape {model.input_shape}, not raw audio (batch, "
            f"{WINDOW_SAMPLES}); build it with load_audio_embedding_model."
        )
    return model


def _clip_list(audio: Any, sr: Any) -> tuple[list[Any], list[Any], bool]:
    """Normalise (audio, sr) to two equal-length lists, and whether audio was a list."""
    is_list = isinstance(audio, list | tuple)
    clips = list(audio) if is_list else [audio]
    if not clips:
        raise ParameterError("audio is an empty list; pass at least one clip.")
    rates = list(sr) if isinstance(sr, list | tuple | np.ndarray) else [sr] * len(clips)
    if len(rates) != len(clips):
        raise ParameterError(
            f"sr holds {len(rates)} rates for {len(clips)} clips; pass one rate or one per clip."
        )
    return clips, rates, is_list


def _frame_clip(
    audio: Any, sr: Any, index: int, *, hop_size: float, center: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mono 48 kHz samples, windows (a read-only view) and timestamps of clip `index`.

    Errors and warnings name the clip; the warnings are OpenL3's (silent,
    shorter than one window).
    """
    if not isinstance(sr, Real) or isinstance(sr, bool) or not 0 < sr < math.inf:
        raise ParameterError(
            f"sr of audio clip {index} must be a positive number in Hz, got {sr!r}."
        )
    try:
        samples = _mono(audio)
        if not np.isfinite(samples).all():
            raise AudioError("holds NaN or Inf samples; repair or drop it.")
        if sr != TARGET_SR:
            samples = resample(samples, sr, TARGET_SR)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AudioWarning)  # re-issued below, naming the clip
            windows, timestamps = frame_audio(
                samples, TARGET_SR, hop_size=hop_size, center=center, copy=False
            )
    except AudioError as exc:
        raise AudioError(f"audio clip {index}: {exc}") from exc
    if not samples.any():
        warnings.warn(
            f"audio clip {index} is all zeros (silent); it is embedded as is.",
            AudioWarning,
            stacklevel=3,
        )
    if samples.size < WINDOW_SAMPLES:
        warnings.warn(
            f"audio clip {index} ({samples.size / TARGET_SR:.3f} s) is shorter than one "
            "window (1 s); it is zero-padded.",
            AudioWarning,
            stacklevel=3,
        )
    return samples, windows, timestamps


def _mono(audio: Any) -> np.ndarray:
    """(n,) or (n, channels) -> (n,) float32 (OpenL3's channels-last convention)."""
    array = np.asarray(audio)
    if array.ndim not in (1, 2):
        raise AudioError(
            f"audio must have shape (n,) or (n, channels) (channels last, as OpenL3 and "
            f"soundfile use), got {array.shape}."
        )
    if array.ndim == 2 and array.size:
        if array.shape[1] > array.shape[0]:
            raise AudioError(
                f"audio of shape {array.shape} looks channels-first; this API takes "
                "(n,) or (n, channels) as OpenL3 does: pass audio.T."
            )
        array = array.T
    return mono_float32(array)
