"""Digests of what an output depends on, so that an unchanged input can be reused.

A fingerprint covers the clip files (path, size, modification time), every
file a model is read from (content digest), the settings, and the package
version; any change gives a new fingerprint and a recomputation.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
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


def embedding_fingerprint(
    clips: pd.DataFrame, model_spec: Mapping[str, Any], settings: Mapping[str, Any]
) -> str:
    """Hex digest of everything an embedding store is computed from.

    Parameters
    ----------
    clips : pandas.DataFrame
        The clip table (its rows, and each clip file's size and modification time).
    model_spec : mapping
        The model's spec; files it names (``path``, ``weights``) count by content.
    settings : mapping
        The shared ``embed`` settings.
    """
    files = {
        key: _file_digest(Path(model_spec[key]))
        for key in FILE_KEYS
        if model_spec.get(key) and Path(model_spec[key]).exists()
    }
    spec = {k: v for k, v in model_spec.items() if k not in FILE_KEYS}
    payload = {
        "version": __version__,
        "clips": clips.astype(str).to_numpy().tolist(),
        "clip_files": _clip_files(clips["path"]) if "path" in clips else [],
        "spec": spec,
        "files": files,
        "settings": {k: v for k, v in settings.items() if k not in ("models", "trained")},
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()
