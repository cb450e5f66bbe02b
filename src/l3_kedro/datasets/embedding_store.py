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

The writer consumes an iterable of :class:`EmbeddingChunk` so that a
dataset of any size is written with memory bounded by one chunk.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

import h5py
import numpy as np
import pandas as pd

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
    writing, so nothing beyond one chunk is held in memory.
    """

    chunks: Iterable[EmbeddingChunk]
    attributes: dict[str, Any]
    skips: list[dict[str, Any]] = field(default_factory=list)
    dtype: str = "float32"


class EmbeddingStore:
    """Read access to a store file; arrays are read lazily from disk.

    Use as a context manager or call :meth:`close`.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._file = h5py.File(self.path, "r")
        except OSError as exc:
            raise L3KedroError(f"Embedding store '{self.path}' cannot be opened: {exc}") from exc
        self.attributes: dict[str, Any] = json.loads(self._file.attrs["attributes"])
        self.clips = _read_table(self._file, "clips")
        self.skips = _read_table(self._file, "skips")

    @property
    def embeddings(self) -> h5py.Dataset:
        """(n_windows, D) array on disk; slice it to read."""
        return self._file["embeddings"]

    @property
    def timestamps(self) -> np.ndarray:
        """(n_windows,) window start times in seconds."""
        return self._file["timestamps"][:]

    @property
    def window_clip(self) -> np.ndarray:
        """(n_windows,) row in :attr:`clips` of each window."""
        return self._file["window_clip"][:]

    @property
    def n_windows(self) -> int:
        return int(self.embeddings.shape[0])

    @property
    def embedding_size(self) -> int:
        return int(self.embeddings.shape[1])

    def clip_embeddings(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Embeddings (T, D) and timestamps (T,) of the clip in row ``row``."""
        start, stop = self.clips.loc[row, ["start", "stop"]]
        return self.embeddings[start:stop], self._file["timestamps"][start:stop]

    def iter_rows(self, rows: np.ndarray, *, chunk_size: int = 8192) -> Iterator[np.ndarray]:
        """Yield the embeddings of sorted window ``rows`` in chunks, as float32."""
        for begin in range(0, len(rows), chunk_size):
            index = rows[begin : begin + chunk_size]
            yield self.embeddings[index].astype(np.float32)

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


def _write_table(file: h5py.File, name: str, table: pd.DataFrame) -> None:
    """Store a table as UTF-8 JSON bytes (no size limit, unlike HDF5 attributes)."""
    text = table.to_json(orient="split", index=False).encode("utf-8")
    file.create_dataset(f"tables/{name}", data=np.frombuffer(text, dtype=np.uint8))


def _read_table(file: h5py.File, name: str) -> pd.DataFrame:
    text = file[f"tables/{name}"][:].tobytes().decode("utf-8")
    return pd.read_json(StringIO(text), orient="split", dtype=False, convert_dates=False)


def write_store(path: str | Path, run: EmbeddingRun) -> Path:
    """Write ``run`` to a new HDF5 store at ``path`` (the caller makes it atomic)."""
    if run.dtype not in STORE_DTYPES:
        raise L3KedroError(f"Store dtype must be one of {STORE_DTYPES}, not {run.dtype!r}.")
    path = Path(path)
    clip_tables, n_rows, dim = [], 0, None
    with h5py.File(path, "w") as file:
        for chunk in run.chunks:
            n = len(chunk.embeddings)
            if dim is None:
                dim = chunk.embeddings.shape[1]
                rows = max(1, min(4096, (4 << 20) // (dim * np.dtype(run.dtype).itemsize)))
                file.create_dataset(
                    "embeddings", (0, dim), maxshape=(None, dim), dtype=run.dtype,
                    chunks=(rows, dim),
                )  # fmt: skip
                file.create_dataset("timestamps", (0,), maxshape=(None,), dtype="float64")
                file.create_dataset("window_clip", (0,), maxshape=(None,), dtype="int64")
            first_clip = sum(len(t) for t in clip_tables)
            stops = n_rows + np.cumsum(chunk.windows_per_clip)
            clip_tables.append(chunk.clips.assign(start=stops - chunk.windows_per_clip, stop=stops))
            owner = first_clip + np.repeat(np.arange(len(chunk.clips)), chunk.windows_per_clip)
            for name, values in (
                ("embeddings", chunk.embeddings.astype(run.dtype)),
                ("timestamps", chunk.timestamps),
                ("window_clip", owner),
            ):
                file[name].resize(n_rows + n, axis=0)
                file[name][n_rows : n_rows + n] = values
            n_rows += n
        if dim is None:
            raise L3KedroError(
                "No clip could be embedded: the store would be empty. "
                f"Skipped: {[s.get('clip_id') for s in run.skips][:5]}"
            )
        clips = pd.concat(clip_tables, ignore_index=True)
        _write_table(file, "clips", clips)
        _write_table(file, "skips", pd.DataFrame(run.skips, columns=["clip_id", "path", "reason"]))
        file.attrs["attributes"] = json.dumps(run.attributes, default=str)
    return path
