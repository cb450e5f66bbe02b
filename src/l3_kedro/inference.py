"""Stream a clip table through an embedder, batch by batch.

Decoding and resampling run in a small thread pool ahead of the model, so
the model rarely waits for audio; windows are batched across clip
boundaries, so every model call but the last sees a full batch. The stream
yields :class:`~l3_kedro.datasets.embedding_store.EmbeddingChunk` objects
of whole clips, ready for the embedding store.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from rich.progress import Progress

from l3_kedro.audio import frame_audio, load_audio
from l3_kedro.datasets.embedding_store import EmbeddingChunk
from l3_kedro.errors import AudioError, AudioWarning, ParameterError

logger = logging.getLogger(__name__)

CHUNK_CLIPS = 64
"""Clips per chunk handed to the store (bounds memory, not speed)."""


def _decode(path: str, sr: int) -> np.ndarray:
    audio, _ = load_audio(path, sr=sr, mono=True)
    return audio


@dataclass
class ClipEmbeddingStream:
    """Iterable of embedding chunks for every clip of ``clips``.

    Parameters
    ----------
    clips : pandas.DataFrame
        A clip table (``clip_id``, ``path`` and any other columns, kept).
    embedder : object
        A window or clip embedder (see :mod:`l3_kedro.models.embedders`).
    hop_size : float
        Seconds between window starts.
    center : bool
        OpenL3 centring: the first window is centred on time 0.
    batch_size : int
        Windows per model call.
    on_error : {"error", "skip"}
        What to do with a clip that cannot be decoded; skipped clips are
        listed in :attr:`skips` (after iteration).
    prefetch : int
        Clips decoded ahead of the model.
    progress : bool
        Show a progress bar.
    """

    clips: pd.DataFrame
    embedder: Any
    hop_size: float
    center: bool = True
    batch_size: int = 32
    on_error: str = "skip"
    prefetch: int = 8
    progress: bool = True
    skips: list[dict[str, Any]] = field(default_factory=list)
    warnings: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        if self.on_error not in ("error", "skip"):
            raise ParameterError(f"on_error must be 'error' or 'skip', not {self.on_error!r}.")
        if self.batch_size < 1:
            raise ParameterError(f"batch_size must be at least 1, not {self.batch_size}.")
        if not self.hop_size > 0:
            raise ParameterError(f"hop_size must be positive, not {self.hop_size}.")

    def _decoded(self) -> Iterator[tuple[dict[str, Any], np.ndarray]]:
        """(clip row, mono audio at the embedder's rate), decoding ahead in threads."""
        rows = self.clips.to_dict("records")
        sr = self.embedder.sample_rate
        with ThreadPoolExecutor(max_workers=2) as pool:
            pending: deque[tuple[dict[str, Any], Future]] = deque()
            for row in rows:
                pending.append((row, pool.submit(_decode, row["path"], sr)))
                if len(pending) > self.prefetch:
                    yield from self._resolve(pending.popleft())
            while pending:
                yield from self._resolve(pending.popleft())

    def _resolve(
        self, item: tuple[dict[str, Any], Future]
    ) -> Iterator[tuple[dict[str, Any], np.ndarray]]:
        row, future = item
        try:
            yield row, future.result()
        except AudioError as exc:
            self._skip(row, exc)

    def _skip(self, row: dict[str, Any], exc: Exception) -> None:
        if self.on_error == "error":
            raise exc
        logger.warning("Skipping clip %s: %s", row.get("clip_id"), exc)
        self.skips.append(
            {"clip_id": row.get("clip_id"), "path": row.get("path"), "reason": str(exc)}
        )

    def __iter__(self) -> Iterator[EmbeddingChunk]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AudioWarning)
            yield from self._iterate(caught)
        self._summarise(caught)

    def _summarise(self, caught: list[warnings.WarningMessage]) -> None:
        """Log one line per kind of audio warning instead of one per clip."""
        for message in caught:
            if issubclass(message.category, AudioWarning):
                text = str(message.message)
                if "shorter" in text:
                    kind = "shorter than one window: zero-padded"
                elif "zeros" in text:
                    kind = "all zeros (silent): embedded as is"
                else:
                    kind = re.sub(r"\d+(\.\d+)?", "#", text)
                self.warnings[kind] += 1
            else:
                warnings.warn_explicit(
                    message.message, message.category, message.filename, message.lineno
                )
        for kind, count in self.warnings.items():
            logger.warning("%s: %d clip(s) %s", self.embedder.name, count, kind)

    def _iterate(self, caught: list) -> Iterator[EmbeddingChunk]:
        with Progress(disable=not self.progress, transient=True) as bar:
            task = bar.add_task(f"Embedding with {self.embedder.name}", total=len(self.clips))
            source = self._decoded()
            if hasattr(self.embedder, "embed_windows"):
                chunks = self._window_chunks(source)
            else:
                chunks = self._clip_chunks(source)
            for chunk in chunks:
                bar.advance(task, len(chunk.clips))
                yield chunk

    def _clip_chunks(
        self, source: Iterator[tuple[dict[str, Any], np.ndarray]]
    ) -> Iterator[EmbeddingChunk]:
        done: list[tuple[dict[str, Any], np.ndarray, np.ndarray]] = []
        for row, audio in source:
            try:
                emb, ts = self.embedder.embed(
                    audio, self.embedder.sample_rate, hop_size=self.hop_size, center=self.center
                )
            except AudioError as exc:
                self._skip(row, exc)
                continue
            done.append((row, emb, ts))
            if len(done) >= CHUNK_CLIPS:
                yield _chunk(done)
                done = []
        if done:
            yield _chunk(done)

    def _window_chunks(
        self, source: Iterator[tuple[dict[str, Any], np.ndarray]]
    ) -> Iterator[EmbeddingChunk]:
        waiting: deque[tuple[dict[str, Any], np.ndarray]] = deque()  # clip row, timestamps
        windows: list[np.ndarray] = []  # not yet embedded, in clip order
        n_buffered = 0
        embedded: list[np.ndarray] = []  # embedded, not yet handed out
        n_embedded = 0
        done: list[tuple[dict[str, Any], np.ndarray, np.ndarray]] = []

        def run(n: int) -> None:
            nonlocal windows, n_buffered, n_embedded
            stacked = np.concatenate(windows) if len(windows) > 1 else windows[0]
            batch, rest = stacked[:n], stacked[n:]
            embedded.append(self.embedder.embed_windows(np.ascontiguousarray(batch)))
            windows = [rest] if len(rest) else []
            n_buffered -= n
            n_embedded += n

        def collect() -> None:
            nonlocal embedded, n_embedded
            while waiting and len(waiting[0][1]) <= n_embedded:
                row, ts = waiting.popleft()
                stacked = np.concatenate(embedded) if len(embedded) > 1 else embedded[0]
                done.append((row, stacked[: len(ts)], ts))
                embedded = [stacked[len(ts) :]]
                n_embedded -= len(ts)

        for row, audio in source:
            try:
                clip_windows, ts = frame_audio(
                    audio, self.embedder.sample_rate, hop_size=self.hop_size, center=self.center
                )
            except AudioError as exc:
                self._skip(row, exc)
                continue
            waiting.append((row, ts))
            windows.append(clip_windows)
            n_buffered += len(clip_windows)
            while n_buffered >= self.batch_size:
                run(self.batch_size)
            collect()
            if len(done) >= CHUNK_CLIPS:
                yield _chunk(done)
                done = []
        if n_buffered:
            run(n_buffered)
            collect()
        if done:
            yield _chunk(done)


def _chunk(done: list[tuple[dict[str, Any], np.ndarray, np.ndarray]]) -> EmbeddingChunk:
    rows, embs, stamps = zip(*done, strict=True)
    return EmbeddingChunk(
        clips=pd.DataFrame(list(rows)),
        embeddings=np.concatenate(embs).astype(np.float32, copy=False),
        timestamps=np.concatenate(stamps),
        windows_per_clip=np.array([len(t) for t in stamps], dtype=np.int64),
    )
