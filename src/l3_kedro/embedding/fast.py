"""Fast mode (``embed.mode: fast``): an L3 embedder that runs its tower over spans of windows.

The exact mode (the default) embeds every 1 s window on its own, as OpenL3
does. The fast mode gives the same windows and timestamps but computes the
spectrogram and the convolutions once per *span* of up to ``span_s``
seconds of consecutive windows and pools each window out of it
(:class:`~l3_kedro.models.span_tower.SpanTower`, which says what differs).
At a 0.1 s hop that is about eight times less arithmetic; at a hop of a
whole window it saves nothing.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from l3_kedro.audio.windows import pad_for_windows
from l3_kedro.errors import ParameterError
from l3_kedro.models.precision import PRECISIONS

__all__ = ["DEFAULT_SPAN_S", "EMBED_MODES", "FAST_KINDS", "L3FastEmbedder", "embed_mode"]

EMBED_MODES = ("exact", "fast")
"""Values of ``embed.mode`` (and of an ``embed.models`` entry's ``mode``); the first is the default."""

FAST_KINDS = ("l3", "l3_random", "openl3")
"""``embed.models`` kinds that have a fast mode (the L3 audio towers)."""

DEFAULT_SPAN_S = 10.0
"""Seconds of audio per tower call in fast mode (memory grows with it; 10 s of
mel256 at width 1.0 is about 0.5 GB of activations)."""


def embed_mode(name: str, spec: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """The ``embed.models`` entry ``spec`` with the mode and precision it runs in.

    An entry's own ``mode`` wins over the shared ``embed.mode`` (default
    ``"exact"``); ``span_s`` and ``precision`` (default ``"float32"``:
    :mod:`l3_kedro.models.precision`) likewise. The shared fast mode and
    bfloat16 precision apply to the L3 kinds only (the others have one of
    each); an entry that asks for them itself must be of one of them.

    Returns
    -------
    dict
        ``spec`` without ``mode``, ``span_s`` and ``precision`` in the
        default exact float32 run; else with ``mode: fast`` and ``span_s``
        and/or ``precision: bfloat16``.

    Raises
    ------
    ParameterError
        An unknown mode or precision, a fast mode or bfloat16 asked of a kind
        without one, or a ``span_s`` that is not a positive number.
    """
    out = {k: v for k, v in spec.items() if k not in ("mode", "span_s", "precision")}
    kind = spec.get("kind")
    for key, allowed in (("mode", EMBED_MODES), ("precision", PRECISIONS)):
        own, default = key in spec, allowed[0]
        value = spec.get(key, settings.get(key, default))
        where = f"embed.models.{name}.{key}" if own else f"embed.{key}"
        if value not in allowed:
            raise ParameterError(f"Parameter '{where}' must be one of {allowed}, not {value!r}.")
        if value == default or (kind not in FAST_KINDS and not own):
            continue
        if kind not in FAST_KINDS:
            raise ParameterError(
                f"Parameter '{where}' is {value!r}, but kind {kind!r} runs in {key} "
                f"{default!r} only; {key} {value!r} is for kinds {FAST_KINDS}. "
                f"Remove the entry's {key}."
            )
        out[key] = value
    if out.get("mode") == "fast":
        span_s = spec.get("span_s", settings.get("span_s", DEFAULT_SPAN_S))
        if isinstance(span_s, bool) or not isinstance(span_s, (int, float)) or not span_s > 0:
            raise ParameterError(
                f"Parameter 'embed.span_s' (or 'embed.models.{name}.span_s') must be a positive "
                f"number of seconds, not {span_s!r}."
            )
        out["span_s"] = float(span_s)
    return out


class L3FastEmbedder:
    """Clip embedder: an :class:`~l3_kedro.embedding.embedders.L3Embedder`'s model in fast mode.

    Parameters
    ----------
    exact : L3Embedder
        The window embedder whose model (and name, attributes) it uses.
    span_s : float
        Seconds of audio per tower call (at least one window).
    """

    window_s = 1.0

    def __init__(self, exact: Any, *, span_s: float = DEFAULT_SPAN_S) -> None:
        from l3_kedro.models.span_tower import SpanTower

        self._tower = SpanTower.of(exact.model)
        self.name = exact.name
        self.sample_rate = exact.sample_rate
        self.default_hop_size = exact.default_hop_size
        self.embedding_size = exact.embedding_size
        self.span_s = float(span_s)
        self.attributes = {**exact.attributes, "mode": "fast", "span_s": self.span_s}

    def embed(
        self, audio: np.ndarray, sr: float, *, hop_size: float, center: bool
    ) -> tuple[np.ndarray, np.ndarray]:
        """Embed one clip: the windows and timestamps of the exact mode.

        Parameters
        ----------
        audio : np.ndarray [shape=(n,), floating]
            Mono samples at ``sr`` = :attr:`sample_rate` (48 kHz).
        sr : float
            Must be the embedder's sample rate.
        hop_size : float
            Seconds between window starts.
        center : bool
            OpenL3 centring.

        Returns
        -------
        embeddings : np.ndarray [shape=(T, D), dtype=float32]
        timestamps : np.ndarray [shape=(T,), dtype=float64]
            As :func:`~l3_kedro.audio.frame_audio` gives them.
        """
        if sr != self.sample_rate:
            raise ParameterError(
                f"{self.name}: fast mode takes audio at {self.sample_rate} Hz, got {sr} Hz; "
                "resample it first."
            )
        signal = pad_for_windows(
            audio, sr, window_s=self.window_s, hop_size=hop_size, center=center
        )
        per_span = max(1, 1 + math.floor((self.span_s * sr - signal.window) / signal.hop))
        parts = []
        for first in range(0, signal.n_windows, per_span):
            count = min(per_span, signal.n_windows - first)
            start = first * signal.hop
            stop = start + (count - 1) * signal.hop + signal.window
            offsets = np.arange(count, dtype=np.int64) * signal.hop
            parts.append(self._tower.embed_span(signal.samples[start:stop], offsets))
        return np.concatenate(parts), signal.timestamps
