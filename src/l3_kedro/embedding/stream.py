"""Stream a clip table through an embedder, batch by batch.

The host work runs in a background *producer* thread, ahead of the model:
decoding and resampling in a small thread pool, then framing, and the
assembly of contiguous float32 ``(batch_size, window)`` batches across clip
boundaries together with the record of which clip each window belongs to.
Ready batches wait in a short bounded queue; the calling thread only calls
the model and cuts its output into
:class:`~l3_kedro.datasets.embedding_store.EmbeddingChunk` objects of whole
clips, ready for the embedding store. So the model (a GPU, say) never waits
for the host while the host keeps up.

Every model call sees a full batch: the last, partial batch is padded (with
copies of its last window) to ``batch_size`` and the padded rows dropped, so
a jit-compiling backend (JAX, TensorFlow) compiles one batch shape only.
"""

from __future__ import annotations

import logging
import os
import queue
import re
import threading
import warnings
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from rich.progress import Progress

from l3_kedro.audio import WindowBatch, batch_windows, frame_audio, load_audio
from l3_kedro.datasets.embedding_store import EmbeddingChunk
from l3_kedro.embedding.embedders import Embedder
from l3_kedro.errors import AudioError, AudioWarning, ParameterError

logger = logging.getLogger(__name__)

CHUNK_CLIPS = 64
"""Clips per chunk handed to the store (bounds memory, not speed)."""

DECODE_WORKERS = max(2, min(4, os.cpu_count() or 2))
"""Threads decoding and resampling clips (soundfile, PyAV and soxr release the GIL)."""

READY_BYTES = 128 << 20
"""Bytes of ready batches queued between the producer and the model (2 to 8 batches)."""

_POLL_S = 0.1  # how often a blocked thread checks whether the other side is gone
_JOIN_S = 10.0  # how long closing the stream waits for the producer thread

Row = dict[str, Any]


@dataclass
class _Failure:
    """An exception raised in the producer thread, to be raised by the consumer."""

    exc: BaseException


_END = object()


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
        A window or clip embedder (see :mod:`l3_kedro.embedding.embedders`).
    hop_size : float
        Seconds between window starts.
    center : bool
        OpenL3 centring: the first window is centred on time 0.
    batch_size : int
        Windows per model call; the last batch is padded to this size.
    on_error : {"error", "skip"}
        What to do with a clip that cannot be decoded; skipped clips are
        listed in :attr:`skips` (after iteration).
    prefetch : int
        Clips decoded ahead of the framing.
    progress : bool
        Show a progress bar.

    Notes
    -----
    Iterating starts a daemon producer thread (see the module docstring);
    an exception raised there (e.g. the :class:`~l3_kedro.errors.AudioError`
    of ``on_error="error"``) is raised by the iteration, after the chunks
    before it, and closing the iteration early (``break``, an exception,
    Ctrl-C) stops the thread.
    """

    clips: pd.DataFrame
    embedder: Embedder
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

    # -- iteration (consumer: the calling thread) ------------------------------------

    def __iter__(self) -> Iterator[EmbeddingChunk]:
        # One catch_warnings, entered and left by the consuming thread only:
        # it swaps process-wide state, so it must not be entered from several
        # threads at once; the warnings of the producer and decoding threads
        # land in `caught` too (list.append is atomic) and every one of those
        # threads has ended before the block is left.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", AudioWarning)
            yield from self._iterate()
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

    def _iterate(self) -> Iterator[EmbeddingChunk]:
        windowed = hasattr(self.embedder, "embed_windows")  # a WindowEmbedder
        if windowed:
            produce = self._produce_batches
            batch_bytes = self.batch_size * 4 * round(self.embedder.sample_rate)
            depth = min(8, max(2, READY_BYTES // batch_bytes))
        else:
            produce = self._produce_clips
            depth = max(1, self.prefetch)
        ready: queue.Queue = queue.Queue(maxsize=depth)
        stop = threading.Event()

        def put(item: object) -> bool:
            """Queue an item for the consumer; False once the consumer has gone."""
            while not stop.is_set():
                try:
                    ready.put(item, timeout=_POLL_S)
                    return True
                except queue.Full:
                    continue
            return False

        def run() -> None:
            try:
                produce(put, stop)
            except BaseException as exc:  # handed to the consumer, which raises it
                put(_Failure(exc))
            else:
                put(_END)

        producer = threading.Thread(
            target=run, name=f"ClipEmbeddingStream-{self.embedder.name}", daemon=True
        )

        def items() -> Iterator[Any]:
            while True:
                try:
                    item = ready.get(timeout=_POLL_S)
                except queue.Empty:
                    if producer.is_alive():
                        continue
                    try:  # it may have queued its last item just before ending
                        item = ready.get_nowait()
                    except queue.Empty:
                        raise RuntimeError("the producer thread ended without a result") from None
                if item is _END:
                    return
                if isinstance(item, _Failure):
                    raise item.exc
                yield item

        with Progress(disable=not self.progress, transient=True) as bar:
            task = bar.add_task(f"Embedding with {self.embedder.name}", total=len(self.clips))
            producer.start()
            try:
                chunks = self._window_chunks(items()) if windowed else self._clip_chunks(items())
                for chunk in chunks:
                    bar.advance(task, len(chunk.clips))
                    yield chunk
            finally:
                stop.set()
                producer.join(_JOIN_S)
                if producer.is_alive():  # a decode still running: the daemon ends on its own
                    logger.debug("%s still running after the stream closed", producer.name)

    def _clip_chunks(self, source: Iterator[tuple[Row, np.ndarray]]) -> Iterator[EmbeddingChunk]:
        done: list[tuple[Row, np.ndarray, np.ndarray]] = []
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

    def _window_chunks(self, batches: Iterator[WindowBatch]) -> Iterator[EmbeddingChunk]:
        """Call the model on each batch; hand out the clips it completes."""
        carry: list[np.ndarray] = []  # embedded rows of the clip running into the next batch
        done: list[tuple[Row, np.ndarray, np.ndarray]] = []
        for batch in batches:
            out = np.asarray(self.embedder.embed_windows(batch.windows))
            pos = 0
            for row, ts in batch.finished:
                if carry:
                    take = len(ts) - sum(len(c) for c in carry)
                    emb = np.concatenate([*carry, out[pos : pos + take]])
                    carry = []
                else:
                    take = len(ts)
                    emb = out[pos : pos + take]
                pos += take
                done.append((row, emb, ts))
                if len(done) >= CHUNK_CLIPS:
                    yield _chunk(done)
                    done = []
            if pos < batch.n_valid:
                carry.append(out[pos : batch.n_valid])
        if done:
            yield _chunk(done)

    # -- production (the producer thread) ---------------------------------------------

    def _skip(self, row: Row, exc: Exception) -> None:
        if self.on_error == "error":
            raise exc
        logger.warning("Skipping clip %s: %s", row.get("clip_id"), exc)
        self.skips.append(
            {"clip_id": row.get("clip_id"), "path": row.get("path"), "reason": str(exc)}
        )

    def _decoded(self, stop: threading.Event) -> Iterator[tuple[Row, np.ndarray]]:
        """(clip row, mono audio at the embedder's rate) in order, decoding ahead in threads."""
        rows = self.clips.to_dict("records")
        sr = self.embedder.sample_rate
        pool = ThreadPoolExecutor(max_workers=DECODE_WORKERS, thread_name_prefix="decode")
        pending: deque[tuple[Row, Future]] = deque()
        try:
            for row in rows:
                if stop.is_set():
                    return
                pending.append((row, pool.submit(_decode, row["path"], sr)))
                if len(pending) > self.prefetch:
                    yield from self._resolve(*pending.popleft())
            while pending and not stop.is_set():
                yield from self._resolve(*pending.popleft())
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _resolve(self, row: Row, future: Future) -> Iterator[tuple[Row, np.ndarray]]:
        try:
            audio = future.result()
        except AudioError as exc:
            self._skip(row, exc)
            return
        yield row, audio

    def _produce_clips(self, put: Callable[[object], bool], stop: threading.Event) -> None:
        with closing(self._decoded(stop)) as decoded:
            for item in decoded:
                if not put(item):
                    return

    def _produce_batches(self, put: Callable[[object], bool], stop: threading.Event) -> None:
        """Frame clips and pack their windows into full batches, recording clip ends."""
        with closing(self._decoded(stop)) as decoded:
            for batch in batch_windows(self._framed(decoded), self.batch_size, pad_last=True):
                if not put(batch):
                    return

    def _framed(
        self, decoded: Iterator[tuple[Row, np.ndarray]]
    ) -> Iterator[tuple[tuple[Row, np.ndarray], np.ndarray]]:
        """``((row, timestamps), windows)`` per clip; a clip that cannot be framed is skipped."""
        for row, audio in decoded:
            try:
                windows, ts = frame_audio(
                    audio,
                    self.embedder.sample_rate,
                    hop_size=self.hop_size,
                    center=self.center,
                    copy=False,
                )
            except AudioError as exc:
                self._skip(row, exc)
                continue
            yield (row, ts), windows


def _chunk(done: list[tuple[Row, np.ndarray, np.ndarray]]) -> EmbeddingChunk:
    rows, embs, stamps = zip(*done, strict=True)
    return EmbeddingChunk(
        clips=pd.DataFrame(list(rows)),
        embeddings=np.concatenate(embs).astype(np.float32, copy=False),
        timestamps=np.concatenate(stamps),
        windows_per_clip=np.array([len(t) for t in stamps], dtype=np.int64),
    )
