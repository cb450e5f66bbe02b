"""Versioned table and text datasets whose saves are atomic.

Kedro's versioned datasets write into a fresh version folder, so a save never
overwrites the last good version. These subclasses also make the write
itself atomic: the data goes to a ``.partial`` file first and is renamed into
place only once complete, so a crash mid-save never leaves a truncated file
that a later run would load as the latest version.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import IO, Any

import pandas as pd
from kedro.io.core import DatasetError, get_filepath_str
from kedro_datasets.pandas import CSVDataset, ParquetDataset
from kedro_datasets.text import TextDataset

from l3_kedro.atomic_files import partial_name, remove_stale_partials
from l3_kedro.errors import OutputError


def write_atomically(fs: Any, save_path: str, write: Callable[[IO[bytes]], None]) -> None:
    """Write through ``write(file)`` to a partial beside ``save_path``, then rename.

    The partial is named as :func:`l3_kedro.atomic_files.partial_name` names it;
    on a local filesystem stale partials of ``save_path`` (left by a killed
    process) are removed first.

    Parameters
    ----------
    fs : fsspec.AbstractFileSystem
        The dataset's filesystem.
    save_path : str
        Final path of the file.
    write : callable
        Receives the open binary file and writes the whole content.

    Raises
    ------
    OutputError
        The file cannot be written (permissions, full disk ...); the previous
        version is unchanged.
    """
    if "file" in fs.protocol or "local" in fs.protocol:
        remove_stale_partials(save_path)
    directory, name = posixpath.split(save_path)
    partial = posixpath.join(directory, partial_name(name))
    try:
        with fs.open(partial, mode="wb") as file:
            write(file)
        fs.mv(partial, save_path)
    except OSError as exc:
        raise OutputError(
            f"cannot write {save_path} ({exc.strerror or exc}); free space or choose a "
            "folder you can write to. The previous version is unchanged."
        ) from exc
    finally:
        if fs.exists(partial):
            fs.rm(partial)


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
