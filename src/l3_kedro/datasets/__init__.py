"""Custom Kedro datasets of l3_kedro (usable as ``l3_kedro.datasets.<Name>`` in the catalog).

Names load on first use (module ``__getattr__``), so that importing
:mod:`l3_kedro.datasets.embedding_store`, which needs only h5py and pandas,
does not import kedro, kedro-datasets or MLflow.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from l3_kedro.datasets.atomic import (
        AtomicCSVDataset,
        AtomicParquetDataset,
        AtomicTextDataset,
        OptionalCSVDataset,
    )
    from l3_kedro.datasets.embedding_store import (
        EmbeddingChunk,
        EmbeddingRun,
        EmbeddingStore,
        write_store,
    )
    from l3_kedro.datasets.embedding_store_dataset import EmbeddingStoreDataset
    from l3_kedro.datasets.mlflow_artifacts import VersionedMlflowArtifactDataset
    from l3_kedro.datasets.mlflow_runs import MlflowVariantRunsDataset
    from l3_kedro.datasets.synthetic_corpus import SyntheticCorpusDataset
    from l3_kedro.datasets.trained_model import (
        TrainedModel,
        TrainedModelDataset,
        TrainedModelIndexDataset,
    )

_LAZY = {
    "AtomicCSVDataset": "atomic",
    "AtomicParquetDataset": "atomic",
    "AtomicTextDataset": "atomic",
    "OptionalCSVDataset": "atomic",
    "EmbeddingChunk": "embedding_store",
    "EmbeddingRun": "embedding_store",
    "EmbeddingStore": "embedding_store",
    "write_store": "embedding_store",
    "EmbeddingStoreDataset": "embedding_store_dataset",
    "MlflowVariantRunsDataset": "mlflow_runs",
    "VersionedMlflowArtifactDataset": "mlflow_artifacts",
    "SyntheticCorpusDataset": "synthetic_corpus",
    "TrainedModel": "trained_model",
    "TrainedModelDataset": "trained_model",
    "TrainedModelIndexDataset": "trained_model",
}

__all__ = [
    "AtomicCSVDataset",
    "AtomicParquetDataset",
    "AtomicTextDataset",
    "EmbeddingChunk",
    "EmbeddingRun",
    "EmbeddingStore",
    "EmbeddingStoreDataset",
    "MlflowVariantRunsDataset",
    "OptionalCSVDataset",
    "SyntheticCorpusDataset",
    "TrainedModel",
    "TrainedModelDataset",
    "TrainedModelIndexDataset",
    "VersionedMlflowArtifactDataset",
    "write_store",
]


def __getattr__(name: str):
    if name in _LAZY:
        module = importlib.import_module(f"{__name__}.{_LAZY[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
