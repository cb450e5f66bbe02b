"""Atomic, versioned table saves: a crash never leaves half a file or loses a version."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys

import pandas as pd
import pytest
from kedro.io.core import Version

from l3_kedro.datasets import AtomicCSVDataset, AtomicParquetDataset, AtomicTextDataset


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


def test_text_versions_accumulate_and_an_unversioned_text_is_replaced_whole(tmp_path):
    path = str(tmp_path / "report.html")
    AtomicTextDataset(filepath=path, version=Version(None, "2026-01-01T00.00.00.000Z")).save("a")
    AtomicTextDataset(filepath=path, version=Version(None, "2026-01-02T00.00.00.000Z")).save("é")
    assert AtomicTextDataset(filepath=path, version=Version(None, None)).load() == "é"
    latest = tmp_path / "latest" / "report.html"
    AtomicTextDataset(filepath=str(latest)).save("old")
    AtomicTextDataset(filepath=str(latest)).save("new")
    assert latest.read_text() == "new"
    assert [p.name for p in latest.parent.iterdir()] == ["report.html"]  # no partial left


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


KILLED_SAVE = """
import os, signal, sys
import pandas as pd
from kedro.io.core import Version
from l3_kedro.datasets import AtomicParquetDataset

class Killed(pd.DataFrame):
    def to_parquet(self, file, **kwargs):
        file.write(b"half a table")
        file.flush()
        os.kill(os.getpid(), signal.SIGKILL)

AtomicParquetDataset(filepath=sys.argv[1], version=Version(None, sys.argv[2])).save(
    Killed({"a": [1]})
)
"""


def test_a_save_killed_by_sigkill_is_cleaned_by_the_next_save(tmp_path, caplog):
    path = str(tmp_path / "t.parquet")
    good = "2026-01-01T00.00.00.000Z"
    AtomicParquetDataset(filepath=path, version=Version(None, good)).save(pd.DataFrame({"a": [1]}))
    killed = "2026-01-02T00.00.00.000Z"
    done = subprocess.run([sys.executable, "-c", KILLED_SAVE, path, killed], check=False)
    assert done.returncode == -signal.SIGKILL
    stranded = list((tmp_path / "t.parquet" / killed).iterdir())
    assert len(stranded) == 1 and ".partial" in stranded[0].name
    latest = AtomicParquetDataset(filepath=path, version=Version(None, None)).load()
    assert latest["a"].tolist() == [1]  # the partial is never read
    with caplog.at_level(logging.WARNING, logger="l3_kedro.atomic_files"):
        AtomicParquetDataset(filepath=path, version=Version(None, "2026-01-03T00.00.00.000Z")).save(
            pd.DataFrame({"a": [3]})
        )
    assert sorted(p.name for p in (tmp_path / "t.parquet").iterdir()) == [
        good,
        "2026-01-03T00.00.00.000Z",
    ]
    assert "no longer exists" in caplog.text
