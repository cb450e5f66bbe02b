"""On-disk embedding stores: windows x dims, read lazily, written atomically.

A store holds one embedding model's output for one dataset, in one HDF5
file:

- ``embeddings``: (n_windows, embedding_size), float16 or float32, chunked
  by rows so that any slice reads without loading the rest;
- ``timestamps``: (n_windows,) float64, window start in seconds;
- ``window_clip``: (n_windows,) int64, row of the window's clip in ``clips``;
- ``clips``: the clip table of the embedded clips (clip_id, label,
  label_index, fold, ...) with ``start``/``stop`` rows into the arrays;
- ``skips``: clips that could not be embedded, and why;
- attributes: the embedding model's description (name, input_repr, ...).

Every array carries HDF5's Fletcher-32 checksum per chunk, so a damaged file
is an :class:`~l3_kedro.errors.L3KedroError` naming it when read, never
numbers read as if they were good; :meth:`EmbeddingStore.verify` reads the
whole file to check it.

The writer consumes an iterable of :class:`EmbeddingChunk` so that a
dataset of any size is written with memory bounded by a few chunks (one
being computed, one queued, one being written by the writer thread).
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any, Protocol

import h5py
import numpy as np
import pandas as pd

from l3_kedro.cluster import EngineConfig
from l3_kedro.datasets.fingerprint import EmbeddingSources
from l3_kedro.errors import L3KedroError

STORE_DTYPES = ("float16", "float32")


@dataclass(frozen=True)
class EmbeddingChunk:
    """Embeddings of a few whole clips.

    Attributes
    ----------
    clips : pandas.DataFrame
        One row per clip in this chunk (any clip-table columns), in order.
    embeddings : np.ndarray [shape=(n, D)]
    timestamps : np.ndarray [shape=(n,)]
        Window start times in seconds.
    windows_per_clip : np.ndarray [shape=(len(clips),)]
        Number of windows of each clip; sums to ``n``.
    """

    clips: pd.DataFrame
    embeddings: np.ndarray
    timestamps: np.ndarray
    windows_per_clip: np.ndarray


@dataclass
class EmbeddingRun:
    """What an embedding node returns: chunks to write, plus metadata.

    Iterating it runs the model; the store dataset iterates it once while
    writing, so no more than a few chunks are held in memory.
    """

    chunks: Iterable[EmbeddingChunk]
    attributes: dict[str, Any]
    skips: list[dict[str, Any]] = field(default_factory=list)
    dtype: str = "float32"
    sources: EmbeddingSources | None = None
    """What the store is computed from; when set, the store dataset fingerprints
    it (``attributes["input_fingerprint"]``) and reuses an unchanged last version."""
    shards: Sequence[StoreShard] = ()
    """Instead of ``chunks``: pieces of the clip table, each written as its own
    store by a task of ``engine`` (see :mod:`l3_kedro.datasets.store_shards`)."""
    engine: EngineConfig | None = None
    """Where ``shards`` are written (a Dask cluster, or here one after the other)."""


class StoreShard(Protocol):
    """A piece of a store that a task writes as a complete store of its own.

    ``write(path)`` writes it with :func:`write_store` (``allow_empty=True``);
    it must be picklable, to run on a Dask worker.
    """

    index: int

    def write(self, path: Path) -> None: ...


class EmbeddingStore:
    """Read access to a store file; arrays are read lazily from disk.

    Use as a context manager or call :meth:`close`.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._file = h5py.File(self.path, "r")
            self.attributes: dict[str, Any] = json.loads(self._file.attrs["attributes"])
            self.clips = _read_table(self._file, "clips")
            self.skips = _read_table(self._file, "skips")
            self._check_shards()
        except (OSError, KeyError, ValueError) as exc:
            raise L3KedroError(
                f"Embedding store '{self.path}' cannot be read ({exc}); it is damaged or not a "
                f"store: delete its version folder '{self.path.parent}' and run the `embed` "
                "pipeline again."
            ) from exc

    def _check_shards(self) -> None:
        """A store made of shards must find every shard file (HDF5 would read fill values)."""
        embeddings = self._file["embeddings"]
        if not embeddings.is_virtual:
            return
        missing = sorted(
            {
                source.file_name
                for source in embeddings.virtual_sources()
                if not (self.path.parent / source.file_name).is_file()
            }
        )
        if missing:
            raise ValueError(f"its shard file(s) {missing[:3]} are missing")

    @property
    def embeddings(self) -> CheckedDataset:
        """(n_windows, D) array on disk; slice it to read."""
        return CheckedDataset(self._file["embeddings"], self._read)

    @property
    def timestamps(self) -> np.ndarray:
        """(n_windows,) window start times in seconds."""
        return self._read(lambda: self._file["timestamps"][:])

    @property
    def window_clip(self) -> np.ndarray:
        """(n_windows,) row in :attr:`clips` of each window."""
        return self._read(lambda: self._file["window_clip"][:])

    def verify(self) -> None:
        """Read every array once, checking its checksums; raise L3KedroError if damaged."""
        for name in ("timestamps", "window_clip"):
            getattr(self, name)
        rows = self.embeddings.chunks[0] if self.embeddings.chunks else 4096
        for begin in range(0, self.n_windows, rows):
            self._read(lambda b=begin: self.embeddings[b : b + rows])

    @property
    def n_windows(self) -> int:
        return int(self.embeddings.shape[0])

    @property
    def embedding_size(self) -> int:
        return int(self.embeddings.shape[1])

    def clip_embeddings(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings (T, D) and timestamps (T,) of the clip in row ``row``."""
        start, stop = self.clips.loc[row, ["start", "stop"]]
        return self._read(
            lambda: (self.embeddings[start:stop], self._file["timestamps"][start:stop])
        )

    def iter_rows(self, rows: np.ndarray, *, chunk_size: int = 8192) -> Iterator[np.ndarray]:
        """Yield the embeddings of sorted window ``rows`` in chunks, as float32."""
        for begin in range(0, len(rows), chunk_size):
            index = rows[begin : begin + chunk_size]
            yield self._read(lambda i=index: self.embeddings[i].astype(np.float32))

    def _read(self, read: Callable[[], Any]) -> Any:
        """``read()``, an HDF5 read error (a failed checksum) becoming L3KedroError."""
        try:
            return read()
        except OSError as exc:
            raise L3KedroError(
                f"Embedding store '{self.path}' is damaged ({exc}); delete its version "
                f"folder '{self.path.parent}' and run the `embed` pipeline again."
            ) from exc

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> EmbeddingStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"EmbeddingStore('{self.path}', {len(self.clips)} clips, "
            f"{self.n_windows} windows x {self.embedding_size})"
        )


class CheckedDataset:
    """An ``h5py.Dataset`` whose reads raise L3KedroError naming the store if damaged."""

    def __init__(self, dataset: h5py.Dataset, read: Callable[[Callable[[], Any]], Any]) -> None:
        self._dataset = dataset
        self._checked_read = read

    def __getitem__(self, key: Any) -> np.ndarray:
        return self._checked_read(lambda: self._dataset[key])

    def __len__(self) -> int:
        return len(self._dataset)

    def __getattr__(self, name: str) -> Any:  # shape, dtype, chunks, ...
        return getattr(self._dataset, name)


def _write_table(file: h5py.File, name: str, table: pd.DataFrame) -> None:
    """Store a table as UTF-8 JSON bytes (no size limit, unlike HDF5 attributes)."""
    text = table.to_json(orient="split", index=False).encode("utf-8")
    file.create_dataset(f"tables/{name}", data=np.frombuffer(text, dtype=np.uint8), fletcher32=True)


def _read_table(file: h5py.File, name: str) -> pd.DataFrame:
    text = file[f"tables/{name}"][:].tobytes().decode("utf-8")
    return pd.read_json(StringIO(text), orient="split", dtype=False)


def write_store(
    path: str | Path, run: EmbeddingRun, *, background: bool = True, allow_empty: bool = False
) -> Path:
    """Write ``run`` to a new HDF5 store at ``path`` (the caller makes it atomic).

    Parameters
    ----------
    path : str or Path
        The file to create (overwritten if it exists).
    run : EmbeddingRun
        Chunks to write (iterated once, in the calling thread: iterating a
        :class:`~l3_kedro.embedding.stream.ClipEmbeddingStream` calls the model),
        attributes, skips and store dtype.
    background : bool
        Convert and write each chunk in a writer thread while the calling
        thread computes the next one (one chunk queued between them), so the
        model does not wait for the disk. False writes in the calling thread.
    allow_empty : bool
        Write a store without arrays when no clip could be embedded (a shard
        of a larger store, :mod:`l3_kedro.datasets.store_shards`), instead of
        raising.

    Returns
    -------
    Path
        ``path``.
    """
    if run.dtype not in STORE_DTYPES:
        raise L3KedroError(f"Store dtype must be one of {STORE_DTYPES}, not {run.dtype!r}.")
    path = Path(path)
    with h5py.File(path, "w") as file:
        writer = _ChunkWriter(file, run.dtype)
        if background:
            _append_in_background(writer, run.chunks)
        else:
            for chunk in run.chunks:
                writer.append(chunk)
        if writer.dim is None and not allow_empty:
            raise L3KedroError(
                "No clip could be embedded: the store would be empty. "
                f"Skipped: {[s.get('clip_id') for s in run.skips][:5]}"
            )
        clips = pd.concat(writer.clip_tables, ignore_index=True) if writer.clip_tables else None
        _write_table(file, "clips", clips if clips is not None else pd.DataFrame())
        _write_table(file, "skips", pd.DataFrame(run.skips, columns=["clip_id", "path", "reason"]))
        file.attrs["attributes"] = json.dumps(run.attributes, default=str)
    return path


class _ChunkWriter:
    """Appends chunks to the growing arrays of an open store file."""

    def __init__(self, file: h5py.File, dtype: str) -> None:
        self.file = file
        self.dtype = dtype
        self.dim: int | None = None
        self.rows_per_write = 0
        self.n_rows = 0
        self.n_clips = 0
        self.clip_tables: list[pd.DataFrame] = []

    def append(self, chunk: EmbeddingChunk) -> None:
        file, n, n_rows = self.file, len(chunk.embeddings), self.n_rows
        if self.dim is None:
            self.dim = dim = chunk.embeddings.shape[1]
            rows = max(1, min(4096, (4 << 20) // (dim * np.dtype(self.dtype).itemsize)))
            file.create_dataset(
                "embeddings", (0, dim), maxshape=(None, dim), dtype=self.dtype,
                chunks=(rows, dim), fletcher32=True,
            )  # fmt: skip
            for name, dtype in (("timestamps", "float64"), ("window_clip", "int64")):
                file.create_dataset(name, (0,), maxshape=(None,), dtype=dtype, fletcher32=True)
            # h5py holds the GIL while it writes: a few MB per call, not a whole chunk
            self.rows_per_write = 2 * rows
        stops = n_rows + np.cumsum(chunk.windows_per_clip)
        self.clip_tables.append(
            chunk.clips.assign(start=stops - chunk.windows_per_clip, stop=stops)
        )
        owner = self.n_clips + np.repeat(np.arange(len(chunk.clips)), chunk.windows_per_clip)
        self.n_clips += len(chunk.clips)
        for name, values in (
            ("embeddings", chunk.embeddings.astype(self.dtype, copy=False)),
            ("timestamps", chunk.timestamps),
            ("window_clip", owner),
        ):
            file[name].resize(n_rows + n, axis=0)
            for begin in range(0, n, self.rows_per_write):
                end = min(n, begin + self.rows_per_write)
                file[name][n_rows + begin : n_rows + end] = values[begin:end]
        self.n_rows += n


_WRITER_POLL_S = 0.1


def _append_in_background(writer: _ChunkWriter, chunks: Iterable[EmbeddingChunk]) -> None:
    """Iterate ``chunks`` here and append them to ``writer`` in a writer thread.

    An exception of either side is raised here once the writer has stopped
    (the file is then closed by the caller); the chunk iterator is closed.
    """
    todo: queue.Queue = queue.Queue(maxsize=1)
    failed: list[BaseException] = []

    def work() -> None:
        try:
            while (chunk := todo.get()) is not None:
                writer.append(chunk)
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=work, name="embedding-store-writer", daemon=True)

    def hand_over(item: EmbeddingChunk | None) -> bool:
        while thread.is_alive():
            try:
                todo.put(item, timeout=_WRITER_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    thread.start()
    iterator = iter(chunks)
    try:
        for chunk in iterator:
            if not hand_over(chunk):
                break
    finally:
        hand_over(None)
        thread.join()
        close = getattr(iterator, "close", None)
        if close is not None:
            close()
    if failed:
        raise failed[0]
