"""Kedro dataset for embedding stores (see :mod:`l3_kedro.datasets.embedding_store`)."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io.core import AbstractVersionedDataset, DatasetError, Version

from l3_kedro.datasets.atomic import PARTIAL_SUFFIX
from l3_kedro.datasets.embedding_store import EmbeddingRun, EmbeddingStore, write_store


class EmbeddingStoreDataset(AbstractVersionedDataset[EmbeddingRun, EmbeddingStore]):
    """A versioned HDF5 embedding store on the local filesystem.

    ``save`` takes an :class:`EmbeddingRun` and streams its chunks to disk
    (memory bounded by a few chunks; written in a writer thread), into a ``.partial`` file renamed into
    place when complete; ``load`` returns a lazily reading
    :class:`EmbeddingStore`.

    Example catalog entry::

        "{dataset}.{model}.embeddings":
          type: l3_kedro.datasets.EmbeddingStoreDataset
          filepath: data/04_feature/{dataset}/{model}.h5
          versioned: true
    """

    def __init__(
        self,
        *,
        filepath: str,
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(
            filepath=PurePosixPath(Path(filepath).absolute().as_posix()),
            version=version,
            exists_function=lambda p: Path(p).exists(),
            glob_function=lambda pattern: sorted(str(p) for p in Path("/").glob(pattern[1:])),
        )
        self.metadata = metadata

    def load(self) -> EmbeddingStore:
        try:
            path = Path(self._get_load_path())
        except DatasetError:
            path = Path(self._filepath)
        if not path.is_file():
            raise DatasetError(
                f"Embedding store '{path}' does not exist: run the `embed` pipeline first."
            )
        return EmbeddingStore(path)

    def save(self, data: EmbeddingRun) -> None:
        path = Path(self._get_save_path())
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + PARTIAL_SUFFIX)
        try:
            write_store(partial, data)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)

    def _exists(self) -> bool:
        try:
            return Path(self._get_load_path()).exists()
        except DatasetError:
            return False

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "version": self._version}
