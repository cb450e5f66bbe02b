"""A clip table cut into shards, each embedded by one task into a store of its own.

The ``embed`` node hands the store dataset one :class:`ClipShard` per piece
of the clip table (consecutive rows, in order) when ``embed.engine.kind`` is
``dask``; each Dask worker builds the embedder once, streams its shard through
:class:`~l3_kedro.embedding.stream.ClipEmbeddingStream` (the engine of the
single-process path) and writes the chunks straight to its shard file. See
:mod:`l3_kedro.datasets.store_shards` for how the shards read as one store.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from l3_kedro.datasets.embedding_store import EmbeddingRun, write_store
from l3_kedro.embedding.embedders import Embedder, build_embedder
from l3_kedro.embedding.stream import ClipEmbeddingStream

logger = logging.getLogger(__name__)

_EMBEDDERS: dict[str, Embedder] = {}
_LOCK = threading.Lock()


def shard_clip_table(clips: pd.DataFrame, n_shards: int) -> list[pd.DataFrame]:
    """``clips`` cut into at most ``n_shards`` pieces of consecutive rows (no empty piece)."""
    n_shards = max(1, min(int(n_shards), len(clips)))
    return [clips.iloc[rows] for rows in np.array_split(np.arange(len(clips)), n_shards)]


def _embedder(name: str, spec: dict[str, Any]) -> Embedder:
    """The embedder of ``(name, spec)``, built once per worker process."""
    key = json.dumps([name, spec], sort_keys=True, default=str)
    with _LOCK:
        if key not in _EMBEDDERS:
            _EMBEDDERS[key] = build_embedder(name, spec)
        return _EMBEDDERS[key]


@dataclass(frozen=True)
class ClipShard:
    """One piece of a clip table, embedded and written as a complete store by :meth:`write`.

    Attributes
    ----------
    index : int
        Position of the piece in the clip table (shard file ``part-<index>.h5``).
    clips : pandas.DataFrame
        Its rows of the clip table.
    model_name, model_spec
        The ``embed.models`` entry (the embedder is built in the worker).
    hop_size : float
        Seconds, resolved by the node as for the single-process path.
    center, batch_size, on_error, dtype
        As the single-process path uses them.
    attributes : dict
        The store's attributes (each shard carries them too).
    """

    index: int
    clips: pd.DataFrame
    model_name: str
    model_spec: dict[str, Any]
    hop_size: float
    center: bool
    batch_size: int
    on_error: str
    dtype: str
    attributes: dict[str, Any]

    def write(self, path: Path) -> None:
        """Embed the shard's clips and write them to the store file ``path``."""
        stream = ClipEmbeddingStream(
            clips=self.clips,
            embedder=_embedder(self.model_name, self.model_spec),
            hop_size=self.hop_size,
            center=self.center,
            batch_size=self.batch_size,
            on_error=self.on_error,
            progress=False,
        )
        run = EmbeddingRun(
            chunks=stream, attributes=self.attributes, skips=stream.skips, dtype=self.dtype
        )
        write_store(path, run, allow_empty=True)
        logger.info(
            "Shard %d: %d clips embedded, %d skipped",
            self.index,
            len(self.clips),
            len(stream.skips),
        )
