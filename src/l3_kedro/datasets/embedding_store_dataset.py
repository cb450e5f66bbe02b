"""Kedro dataset for embedding stores (see :mod:`l3_kedro.datasets.embedding_store`)."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from kedro.io.core import DatasetError

from l3_kedro.atomic_files import replace_atomically
from l3_kedro.datasets.embedding_store import EmbeddingRun, EmbeddingStore, write_store
from l3_kedro.datasets.local import LocalVersionedDataset
from l3_kedro.datasets.store_shards import link_store, write_sharded_store

logger = logging.getLogger(__name__)


def _with_input_fingerprint(data: EmbeddingRun) -> EmbeddingRun:
    """``data`` with ``attributes["input_fingerprint"]`` computed from its sources (if any)."""
    if data.sources is None or "input_fingerprint" in data.attributes:
        return data
    fingerprint = data.sources.fingerprint()
    return replace(data, attributes={**data.attributes, "input_fingerprint": fingerprint})


class EmbeddingStoreDataset(LocalVersionedDataset[EmbeddingRun, EmbeddingStore]):
    """A versioned HDF5 embedding store on the local filesystem.

    ``save`` takes an :class:`EmbeddingRun`; when the run names its sources
    (clips, model, settings) it fingerprints them and, if the latest version
    was made from the same ones, links that version instead of running the
    model. Otherwise it streams the chunks to disk
    (memory bounded by a few chunks; written in a writer thread), into a ``.partial`` file renamed into
    place when complete; ``load`` returns a lazily reading
    :class:`EmbeddingStore`.

    Example catalog entry::

        "{dataset}.{model}.embeddings":
          type: l3_kedro.datasets.EmbeddingStoreDataset
          filepath: data/04_feature/{dataset}/{model}.h5
          versioned: true
    """

    def load(self) -> EmbeddingStore:
        path = self._latest_or_unversioned_path()
        if not path.is_file():
            raise DatasetError(
                f"Embedding store '{path}' does not exist: run the `embed` pipeline first."
            )
        return EmbeddingStore(path)

    def save(self, data: EmbeddingRun) -> None:
        path = Path(self._get_save_path())
        path.parent.mkdir(parents=True, exist_ok=True)
        data = _with_input_fingerprint(data)
        previous = self._same_inputs_store(data.attributes.get("input_fingerprint"))

        def write(partial: Path) -> None:
            if previous is not None:
                # Same clips, model and settings as the last version: reuse its
                # embeddings (hard links, or copies) instead of recomputing.
                link_store(previous, partial)
                logger.info("Reusing %s (inputs unchanged; embed.reuse=false recomputes)", previous)
            elif data.shards:
                write_sharded_store(partial, data, final=path)
            else:
                write_store(partial, data)

        replace_atomically(path, write)

    def _same_inputs_store(self, fingerprint: str | None) -> Path | None:
        """The latest saved store made from the same inputs, if any."""
        if not fingerprint:
            return None
        try:
            previous = Path(self._get_load_path())
        except DatasetError:
            return None
        if not previous.is_file():
            return None
        try:
            with EmbeddingStore(previous) as store:
                same = store.attributes.get("input_fingerprint") == fingerprint
                if same:
                    store.verify()  # a damaged store is recomputed, not linked
        except Exception as exc:  # an unreadable old version is simply not reused
            logger.warning("Not reusing %s: %s", previous, exc)
            return None
        return previous if same else None
