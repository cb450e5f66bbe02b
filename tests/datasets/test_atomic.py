"""Atomic, versioned table saves: a crash never leaves half a file or loses a version."""

from __future__ import annotations

import pandas as pd
import pytest
from kedro.io.core import Version

from l3_kedro.datasets import AtomicCSVDataset, AtomicParquetDataset


@pytest.mark.parametrize(
    "cls,name", [(AtomicParquetDataset, "t.parquet"), (AtomicCSVDataset, "t.csv")]
)
def test_versions_accumulate_and_load_latest(tmp_path, cls, name):
    path = str(tmp_path / name)
    first = pd.DataFrame({"a": [1, 2]})
    cls(filepath=path, version=Version(None, "2026-01-01T00.00.00.000Z")).save(first)
    cls(filepath=path, version=Version(None, "2026-01-02T00.00.00.000Z")).save(first * 10)
    latest = cls(filepath=path, version=Version(None, None)).load()
    assert latest["a"].tolist() == [10, 20]
    pinned = cls(filepath=path, version=Version("2026-01-01T00.00.00.000Z", None)).load()
    assert pinned["a"].tolist() == [1, 2]


def test_a_save_that_fails_midway_leaves_no_file_and_the_last_version_intact(tmp_path):
    path = str(tmp_path / "t.parquet")
    AtomicParquetDataset(filepath=path, version=Version(None, "2026-01-01T00.00.00.000Z")).save(
        pd.DataFrame({"a": [1]})
    )
    unsavable = pd.DataFrame({"a": [object()]})  # pyarrow cannot write a bare object
    with pytest.raises(Exception):  # noqa: B017
        AtomicParquetDataset(filepath=path, version=Version(None, "2026-01-02T00.00.00.000Z")).save(
            unsavable
        )
    leftovers = [p.name for p in (tmp_path / "t.parquet").rglob("*") if p.is_file()]
    assert leftovers == ["t.parquet"]
    latest = AtomicParquetDataset(filepath=path, version=Version(None, None)).load()
    assert latest["a"].tolist() == [1]
