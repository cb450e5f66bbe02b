"""Window features of a fold: row selection, streaming scaler, float16 matrices.

A store may be larger than memory as float32 (UrbanSound8K at 6144 dims:
350k windows, 8.6 GB), so the store is only ever read in chunks of rows; the
scaler is fitted in one streaming pass, and a fold's windows are held once,
standardised, as float16 (2 bytes per value). Batches are cast to float32 by
the classifier's batch feeder.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from l3_kedro.errors import EvaluationError

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_BYTES = 64 << 20
"""Bytes of float32 values read from the store at a time."""

FLOAT16_LIMIT = 65_000.0
"""Standardised values are clipped to +- this (float16 overflows past 65,504)."""


class _NonFinite(EvaluationError):
    """NaN or Inf found in the embeddings at store row ``row``."""

    def __init__(self, message: str, *, row: int) -> None:
        super().__init__(message)
        self.row = row


def rows_per_chunk(dim: int, *, chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> int:
    """Rows of ``dim`` float32 values that fit in ``chunk_bytes`` (at least 1)."""
    return max(1, chunk_bytes // (4 * dim))


def window_rows(starts: np.ndarray, stops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Store rows of the windows of some clips, and the clip of each window.

    Parameters
    ----------
    starts, stops : np.ndarray [shape=(n_clips,)], int
        Each clip's windows are the store rows ``[start, stop)``; clips given
        in increasing ``start`` (store order) give increasing rows.

    Returns
    -------
    rows : np.ndarray [shape=(n_windows,)], int64
    owner : np.ndarray [shape=(n_windows,)], int64
        Position in ``starts`` of each window's clip.
    """
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(stops, dtype=np.int64) - starts
    owner = np.repeat(np.arange(starts.size), lengths)
    first = np.repeat(np.cumsum(lengths) - lengths, lengths)
    rows = starts[owner] + np.arange(owner.size) - first
    return rows, owner


def _runs(rows: np.ndarray) -> list[tuple[int, int]]:
    """Maximal ``[start, stop)`` ranges of consecutive values in sorted ``rows``."""
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    firsts = np.concatenate(([0], breaks))
    lasts = np.concatenate((breaks, [rows.size]))
    return [(int(rows[a]), int(rows[b - 1]) + 1) for a, b in zip(firsts, lasts, strict=True)]


def iter_row_chunks(
    embeddings: np.ndarray, rows: np.ndarray, *, chunk_rows: int, context: str
) -> Iterator[np.ndarray]:
    """Read ``embeddings[rows]`` in chunks, as float32, checking finiteness.

    Consecutive rows are read as slices (fast for an HDF5 dataset).

    Parameters
    ----------
    embeddings : h5py.Dataset or np.ndarray [shape=(n_windows, D)]
    rows : np.ndarray [shape=(n,)], int
        Strictly increasing store rows.
    chunk_rows : int
        Rows per yielded chunk (the last may be shorter).
    context : str
        What is being read (dataset, fold, split), for error messages.

    Yields
    ------
    np.ndarray [shape=(<= chunk_rows, D)], float32

    Raises
    ------
    EvaluationError
        If a value is NaN or infinite.
    """
    for begin in range(0, rows.size, chunk_rows):
        piece = rows[begin : begin + chunk_rows]
        block = np.empty((piece.size, embeddings.shape[1]), dtype=np.float32)
        filled = 0
        for start, stop in _runs(piece):
            block[filled : filled + stop - start] = embeddings[start:stop]
            filled += stop - start
        if not np.isfinite(block).all():
            bad = int(piece[np.flatnonzero(~np.isfinite(block).all(axis=1))[0]])
            raise _NonFinite(
                f"{context}: the embeddings contain NaN or Inf (first at store row {bad}); "
                "re-embed that clip or drop it from the clip table.",
                row=bad,
            )
        yield block


def first_nonfinite_row(embeddings: np.ndarray, rows: np.ndarray, *, chunk_rows: int) -> int | None:
    """The first store row among ``rows`` holding NaN or Inf, if any.

    Parameters
    ----------
    embeddings : h5py.Dataset or np.ndarray [shape=(n_windows, D)]
    rows : np.ndarray [shape=(n,)], int
        Strictly increasing store rows.
    chunk_rows : int

    Returns
    -------
    int or None
    """
    try:
        for _ in iter_row_chunks(embeddings, rows, chunk_rows=chunk_rows, context=""):
            pass
    except _NonFinite as exc:
        return exc.row
    return None


@dataclass(frozen=True)
class Scaler:
    """Per-dimension standardisation ``(x - mean) / scale``.

    Attributes
    ----------
    mean : np.ndarray [shape=(D,)], float64
    scale : np.ndarray [shape=(D,)], float64
        Population standard deviation; 1 where it is 0 (constant dimension).
    n_windows : int
        Windows it was fitted on.
    """

    mean: np.ndarray
    scale: np.ndarray
    n_windows: int

    def transform(self, block: np.ndarray) -> np.ndarray:
        """Standardise a (n, D) float32 block (in float32)."""
        return (block - self.mean.astype(np.float32)) / self.scale.astype(np.float32)


def fit_scaler(
    embeddings: np.ndarray, rows: np.ndarray, *, chunk_rows: int, context: str
) -> Scaler:
    """Fit a :class:`Scaler` on some store rows in one streaming pass.

    Chunk means and sums of squared deviations (float64) are merged with
    Chan et al.'s pairwise update, so memory is one chunk whatever ``rows``.

    Parameters
    ----------
    embeddings : h5py.Dataset or np.ndarray [shape=(n_windows, D)]
    rows : np.ndarray [shape=(n,)], int
        Strictly increasing store rows of the training windows (n >= 1).
    chunk_rows : int
    context : str
        For error messages.

    Returns
    -------
    Scaler
    """
    count, mean, m2 = 0, None, None
    for block in iter_row_chunks(embeddings, rows, chunk_rows=chunk_rows, context=context):
        n = block.shape[0]
        block_mean = block.sum(axis=0, dtype=np.float64) / n
        np.subtract(block, block_mean.astype(np.float32), out=block)  # in place: ours
        block_m2 = np.square(block, out=block).sum(axis=0, dtype=np.float64)
        if mean is None:
            count, mean, m2 = n, block_mean, block_m2
            continue
        delta = block_mean - mean
        total = count + n
        mean = mean + delta * (n / total)
        m2 = m2 + block_m2 + delta**2 * (count * n / total)
        count = total
    if mean is None:
        raise EvaluationError(f"{context}: there is no window to fit the scaler on.")
    std = np.sqrt(m2 / count)
    return Scaler(mean=mean, scale=np.where(std > 0, std, 1.0), n_windows=count)


def load_scaled(
    embeddings: np.ndarray,
    rows: np.ndarray,
    *,
    scaler: Scaler,
    chunk_rows: int,
    context: str,
) -> np.ndarray:
    """Read store rows, standardise them and hold them as float16.

    Parameters
    ----------
    embeddings : h5py.Dataset or np.ndarray [shape=(n_windows, D)]
    rows : np.ndarray [shape=(n,)], int
        Strictly increasing store rows.
    scaler : Scaler
    chunk_rows : int
    context : str
        For messages.

    Returns
    -------
    np.ndarray [shape=(n, D)], float16
        Values beyond +-:data:`FLOAT16_LIMIT` standard deviations are clipped
        (with a warning).
    """
    out = np.empty((rows.size, embeddings.shape[1]), dtype=np.float16)
    mean, scale = scaler.mean.astype(np.float32), scaler.scale.astype(np.float32)
    begin, clipped = 0, 0
    for block in iter_row_chunks(embeddings, rows, chunk_rows=chunk_rows, context=context):
        # in place: the chunk is ours, and a copy would double its memory
        np.subtract(block, mean, out=block)
        np.divide(block, scale, out=block)
        clipped += int(np.count_nonzero(block > FLOAT16_LIMIT))
        clipped += int(np.count_nonzero(block < -FLOAT16_LIMIT))
        np.clip(block, -FLOAT16_LIMIT, FLOAT16_LIMIT, out=block)
        out[begin : begin + block.shape[0]] = block
        begin += block.shape[0]
    if clipped:
        logger.warning(
            "%s: %d standardised value(s) beyond +-%g standard deviations were clipped",
            context,
            clipped,
            FLOAT16_LIMIT,
        )
    return out


@dataclass(frozen=True)
class WindowSet:
    """Standardised windows of some clips.

    Attributes
    ----------
    features : np.ndarray [shape=(n_windows, D)], float16
    targets : np.ndarray [shape=(n_windows,)], int64
        Class of each window (its clip's class).
    owner : np.ndarray [shape=(n_windows,)], int64
        Position of each window's clip in ``clip_targets``.
    clip_targets : np.ndarray [shape=(n_clips,)], int64
    """

    features: np.ndarray
    targets: np.ndarray
    owner: np.ndarray
    clip_targets: np.ndarray

    @property
    def n_clips(self) -> int:
        return int(self.clip_targets.size)


def load_windows(
    embeddings: Any,
    clips: pd.DataFrame,
    positions: np.ndarray,
    *,
    scaler: Scaler,
    chunk_rows: int,
    context: str,
) -> WindowSet:
    """Read and standardise the windows of the clips at ``positions``.

    Parameters
    ----------
    embeddings : h5py.Dataset or np.ndarray [shape=(n_windows, D)]
    clips : pandas.DataFrame
        Coded clip table.
    positions : np.ndarray [shape=(n_clips,)], int
        Sorted clip positions.
    scaler : Scaler
    chunk_rows : int
    context : str
        For messages.

    Returns
    -------
    WindowSet
    """
    chosen = clips.iloc[positions]
    rows, owner = window_rows(chosen["start"].to_numpy(), chosen["stop"].to_numpy())
    clip_targets = chosen["target"].to_numpy(np.int64)
    features = load_scaled(embeddings, rows, scaler=scaler, chunk_rows=chunk_rows, context=context)
    return WindowSet(features, clip_targets[owner], owner, clip_targets)
