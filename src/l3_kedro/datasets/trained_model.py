"""Versioned ``.keras`` models with their training facts, as one catalog dataset."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kedro.io.core import DatasetError

from l3_kedro.atomic_files import replace_atomically
from l3_kedro.datasets.local import LocalVersionedDataset


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


class TrainedModelDataset(LocalVersionedDataset[TrainedModel, TrainedModel]):
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

    SUFFIX = ".keras"

    @staticmethod
    def _info_path(path: Path) -> Path:
        return path.with_suffix(".json")

    def load(self) -> TrainedModel:
        path = self._latest_or_unversioned_path()
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


class TrainedModelIndexDataset(
    LocalVersionedDataset[dict[str, TrainedModel], dict[str, TrainedModel]]
):
    """Every trained model of a run by name, as one versioned JSON index; nothing copied.

    ``save`` takes ``{name: TrainedModel}`` (models already saved by
    :class:`TrainedModelDataset`) and writes one JSON file: per name, the
    model's path relative to the index and its facts. ``load`` returns the
    same mapping, pointing at exactly the model versions that were indexed,
    so a later ``kedro run --pipeline embed`` embeds the models of the
    training run it names. The index is the one dataset ``avc_training``
    hands to ``embed`` (kedro-viz draws one edge, not one per model).

    Example catalog entry::

        trained_models:
          type: l3_kedro.datasets.TrainedModelIndexDataset
          filepath: data/06_models/avc/trained_models.json
          versioned: true
    """

    SUFFIX = ".json"

    def load(self) -> dict[str, TrainedModel]:
        path = self._latest_or_unversioned_path()
        if not path.is_file():
            raise DatasetError(
                f"No trained-model index at '{path}': run the `avc_training` pipeline first."
            )
        entries = json.loads(path.read_text())
        models = {}
        for name, entry in entries.items():
            model_path = (path.parent / entry["path"]).resolve()
            if not model_path.is_file():
                raise DatasetError(
                    f"The index '{path}' names {name!r} at '{model_path}', which is gone: "
                    "run the `avc_training` pipeline again to retrain or re-index it."
                )
            models[name] = TrainedModel(path=model_path, info=entry.get("info", {}))
        return models

    def save(self, data: dict[str, TrainedModel]) -> None:
        path = Path(self._get_save_path())
        path.parent.mkdir(parents=True, exist_ok=True)
        entries = {
            name: {"path": os.path.relpath(model.path, path.parent), "info": model.info}
            for name, model in data.items()
        }
        text = json.dumps(entries, indent=1, default=str)
        replace_atomically(path, lambda partial: Path(partial).write_text(text))
