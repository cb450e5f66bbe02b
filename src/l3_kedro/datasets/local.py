"""The base of the project's versioned datasets that write plain local files."""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Any, Generic, TypeVar

from kedro.io.core import AbstractVersionedDataset, DatasetError, Version

Saved = TypeVar("Saved")
Loaded = TypeVar("Loaded")


class LocalVersionedDataset(AbstractVersionedDataset[Saved, Loaded], Generic[Saved, Loaded]):
    """A Kedro versioned dataset at a local path (``<filepath>/<version>/<name>``).

    Subclasses write ``load`` and ``save``; this class turns ``filepath`` into
    an absolute path, finds versions with :mod:`pathlib` (no fsspec), and
    answers ``exists`` and ``describe``. A subclass may require a suffix
    (:attr:`SUFFIX`), checked when the catalog builds it.
    """

    SUFFIX: str = ""
    """Required ending of ``filepath`` (e.g. ``.keras``); empty: any."""

    def __init__(
        self,
        *,
        filepath: str,
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if self.SUFFIX and not filepath.endswith(self.SUFFIX):
            raise DatasetError(
                f"{type(self).__name__} filepath {filepath!r} must end in {self.SUFFIX!r}."
            )
        super().__init__(
            filepath=PurePosixPath(Path(filepath).absolute().as_posix()),
            version=version,
            exists_function=lambda p: Path(p).exists(),
            glob_function=lambda pattern: sorted(str(p) for p in Path("/").glob(pattern[1:])),
        )
        self.metadata = metadata

    def _latest_or_unversioned_path(self) -> Path:
        """The path ``load`` reads: the latest version, or ``filepath`` itself when unversioned."""
        try:
            return Path(self._get_load_path())
        except DatasetError:
            return Path(self._filepath)

    def _exists(self) -> bool:
        try:
            return Path(self._get_load_path()).exists()
        except DatasetError:
            return False

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "version": self._version}
