"""Custom Kedro datasets of l3_kedro (usable as ``l3_kedro.datasets.<Name>`` in the catalog)."""

from l3_kedro.datasets.atomic import AtomicCSVDataset, AtomicParquetDataset

__all__ = ["AtomicCSVDataset", "AtomicParquetDataset"]
