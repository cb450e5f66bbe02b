"""Custom Kedro datasets of l3_kedro (usable as ``l3_kedro.datasets.<Name>`` in the catalog)."""

from l3_kedro.datasets.atomic import AtomicCSVDataset, AtomicParquetDataset
from l3_kedro.datasets.embedding_store import (
    EmbeddingChunk,
    EmbeddingRun,
    EmbeddingStore,
    write_store,
)
from l3_kedro.datasets.embedding_store_dataset import EmbeddingStoreDataset

__all__ = [
    "AtomicCSVDataset",
    "AtomicParquetDataset",
    "EmbeddingChunk",
    "EmbeddingRun",
    "EmbeddingStore",
    "EmbeddingStoreDataset",
    "write_store",
]
