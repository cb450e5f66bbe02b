"""Versioned table and text datasets whose saves are atomic.

Kedro's versioned datasets write into a fresh version folder, so a save never
overwrites the last good version. These subclasses also make the write
itself atomic: the data goes to a ``.partial`` file first and is renamed into
place only once complete, so a crash mid-save never leaves a truncated file
that a later run would load as the latest version.
"""

from __future__ import annotations

import pandas as pd
from kedro.io.core import DatasetError, get_filepath_str
from kedro_datasets.pandas import CSVDataset, ParquetDataset
from kedro_datasets.text import TextDataset

from l3_kedro.atomic_files import write_atomically


class AtomicParquetDataset(ParquetDataset):
    """``pandas.ParquetDataset`` whose save is atomic (see module docstring)."""

    def save(self, data: pd.DataFrame) -> None:
        save_path = get_filepath_str(self._get_save_path(), self._protocol)
        write_atomically(self._fs, save_path, lambda f: data.to_parquet(f, **self._save_args))
        self._invalidate_cache()


class AtomicCSVDataset(CSVDataset):
    """``pandas.CSVDataset`` whose save is atomic (see module docstring)."""

    def save(self, data: pd.DataFrame) -> None:
        save_path = get_filepath_str(self._get_save_path(), self._protocol)
        text = data.to_csv(path_or_buf=None, **self._save_args)
        write_atomically(self._fs, save_path, lambda f: f.write(text.encode("utf-8")))
        self._invalidate_cache()


class AtomicTextDataset(TextDataset):
    """``text.TextDataset`` whose save is atomic (see module docstring); UTF-8."""

    def save(self, data: str) -> None:
        save_path = get_filepath_str(self._get_save_path(), self._protocol)
        write_atomically(self._fs, save_path, lambda f: f.write(data.encode("utf-8")))
        self._invalidate_cache()


class OptionalCSVDataset(AtomicCSVDataset):
    """An :class:`AtomicCSVDataset` that loads as an empty table while nothing is saved.

    For a report that runs on whatever results exist: read a pipeline's
    output through a transcoded entry (``name@optional``, same ``filepath``)
    so that Kedro still orders the reader after the writer.
    """

    def load(self) -> pd.DataFrame:
        try:
            return super().load()
        except (DatasetError, FileNotFoundError):
            return pd.DataFrame()
