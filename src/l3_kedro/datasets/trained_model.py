"""Versioned ``.keras`` models with their training facts, as one catalog dataset."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io.core import AbstractVersionedDataset, DatasetError, Version

from l3_kedro.atomic_files import replace_atomically


@dataclass(frozen=True)
class TrainedModel:
    """A saved Keras model and what is known about it.

    Attributes
    ----------
    path : Path
        The ``.keras`` file.
    info : dict
        JSON-able facts: ``variant``, ``input_repr``, ``subset``,
        ``samples_seen``, ``epoch``, ``val_accuracy``, ``width`` ...
    """

    path: Path
    info: dict[str, Any] = field(default_factory=dict)

    def load(self, *, compile: bool = False):
        """Load the Keras model (``keras.saving.load_model``).

        Imports the project's model modules first, so that their custom
        layers are registered even in a fresh notebook.
        """
        import keras

        import l3_kedro.models.l3net  # noqa: F401  (registers the custom layers)

        return keras.saving.load_model(self.path, compile=compile)


class TrainedModelDataset(AbstractVersionedDataset[TrainedModel, TrainedModel]):
    """A ``.keras`` file plus a ``.json`` of its facts, versioned, saved atomically.

    ``save`` copies the model file of a :class:`TrainedModel` into the new
    version (via a ``.partial`` file renamed into place) and writes the facts
    beside it; ``load`` returns a :class:`TrainedModel` pointing at the saved
    version (the Keras model itself loads on ``.load()``).

    Example catalog entry::

        "{variant}.avc_model":
          type: l3_kedro.datasets.TrainedModelDataset
          filepath: data/06_models/avc/{variant}/best.keras
          versioned: true
    """

    def __init__(
        self,
        *,
        filepath: str,
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if not filepath.endswith(".keras"):
            raise DatasetError(f"TrainedModelDataset filepath {filepath!r} must end in '.keras'.")
        super().__init__(
            filepath=PurePosixPath(Path(filepath).absolute().as_posix()),
            version=version,
            exists_function=lambda p: Path(p).exists(),
            glob_function=lambda pattern: sorted(str(p) for p in Path("/").glob(pattern[1:])),
        )
        self.metadata = metadata

    @staticmethod
    def _info_path(path: Path) -> Path:
        return path.with_suffix(".json")

    def load(self) -> TrainedModel:
        try:
            path = Path(self._get_load_path())
        except DatasetError:
            path = Path(self._filepath)
        if not path.is_file():
            raise DatasetError(
                f"No trained model at '{path}': run the `avc_training` pipeline first."
            )
        info_path = self._info_path(path)
        info = json.loads(info_path.read_text()) if info_path.is_file() else {}
        return TrainedModel(path=path, info=info)

    def save(self, data: TrainedModel) -> None:
        path = Path(self._get_save_path())
        path.parent.mkdir(parents=True, exist_ok=True)
        self._info_path(path).write_text(json.dumps(data.info, indent=1, default=str))
        replace_atomically(path, lambda partial: shutil.copyfile(data.path, partial))

    def _exists(self) -> bool:
        try:
            return Path(self._get_load_path()).exists()
        except DatasetError:
            return False

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "version": self._version}
