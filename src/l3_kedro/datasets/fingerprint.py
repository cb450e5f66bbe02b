"""Digests of what an embedding store depends on, so that an unchanged store is reused.

The embed node hands the store dataset an :class:`EmbeddingSources` (it reads
no file itself); :class:`~l3_kedro.datasets.EmbeddingStoreDataset` computes
the fingerprint while saving. A fingerprint covers the clip files (path, size, modification time), every
file a model is read from (content digest), the settings, and the package
version; any change gives a new fingerprint and a recomputation.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from l3_kedro import __version__

FILE_KEYS = ("path", "weights")
"""Keys of a model spec that name files whose content the output depends on."""


def _file_digest(path: Path) -> str:
    if path.is_dir():
        parts = sorted(
            f"{p.relative_to(path)}:{p.stat().st_size}:{p.stat().st_mtime_ns}"
            for p in path.rglob("*")
            if p.is_file()
        )
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _clip_files(paths: Iterable[str]) -> list[str]:
    out = []
    for path in paths:
        try:
            stat = Path(path).stat()
            out.append(f"{path}:{stat.st_size}:{stat.st_mtime_ns}")
        except OSError:
            out.append(f"{path}:missing")
    return out


def _module_source(name: str) -> str:
    """``file:size:mtime`` of an importable module's source (its code version), without importing it."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    origin = getattr(spec, "origin", None)
    if not origin or not Path(origin).exists():
        return f"{name}:not found"
    stat = Path(origin).stat()
    return f"{origin}:{stat.st_size}:{stat.st_mtime_ns}"


_NOT_FINGERPRINTED = ("models", "trained", "engine", "mode", "span_s", "precision")
"""Shared settings a store's fingerprint leaves out: the models (their own spec
counts), where the work runs (``engine``: the numbers are the same) and the
fast mode's and the precision (the spec carries the mode and precision a model
actually runs in)."""


def embedding_fingerprint(
    clips: pd.DataFrame, model_spec: Mapping[str, Any], settings: Mapping[str, Any]
) -> str:
    """Hex digest of everything an embedding store is computed from.

    Parameters
    ----------
    clips : pandas.DataFrame
        The clip table (its rows, and each clip file's size and modification time).
    model_spec : mapping
        The model's spec; files it names (``path``, ``weights``) count by content,
        and a HEAR module (``module``) by the size and time of its source file.
    settings : mapping
        The shared ``embed`` settings.
    """
    files = {
        key: _file_digest(Path(model_spec[key]))
        for key in FILE_KEYS
        if model_spec.get(key) and Path(model_spec[key]).exists()
    }
    if model_spec.get("kind") == "hear" and model_spec.get("module"):
        files["module"] = _module_source(str(model_spec["module"]))
    spec = {k: v for k, v in model_spec.items() if k not in FILE_KEYS}
    payload = {
        "version": __version__,
        "clips": clips.astype(str).to_numpy().tolist(),
        "clip_files": _clip_files(clips["path"]) if "path" in clips else [],
        "spec": spec,
        "files": files,
        "settings": {k: v for k, v in settings.items() if k not in _NOT_FINGERPRINTED},
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class EmbeddingSources:
    """What a store is computed from: the clip table, the model's spec, the ``embed`` settings.

    Held, not read: the files it names are read by :meth:`fingerprint`,
    which the store dataset calls while saving.
    """

    clips: pd.DataFrame
    model_spec: Mapping[str, Any]
    settings: Mapping[str, Any]

    def fingerprint(self) -> str:
        """:func:`embedding_fingerprint` of these sources (reads the files they name)."""
        return embedding_fingerprint(self.clips, self.model_spec, self.settings)
