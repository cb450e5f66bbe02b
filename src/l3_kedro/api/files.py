"""Embed audio files to ``.npz`` files, OpenL3-style: the file half of :mod:`l3_kedro.api`.

Same conventions as the array half (:mod:`l3_kedro.api.clips`), documented in
:mod:`l3_kedro.api`.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from l3_kedro.api.checks import check_batch_size, check_mode
from l3_kedro.api.clips import PathLike, _resolve_model
from l3_kedro.atomic_files import ensure_writable_folder, replace_atomically
from l3_kedro.audio import count_windows
from l3_kedro.audio.constants import DEFAULT_HOP_SIZE_S, TARGET_SR
from l3_kedro.errors import AudioError, AudioWarning, ParameterError
from l3_kedro.models.precision import check_precision, with_compute_precision

__all__ = ["get_output_path", "process_audio_file"]

logger = logging.getLogger(__name__)


def get_output_path(
    path: PathLike, *, output_dir: PathLike | None = None, suffix: str | None = None
) -> Path:
    """Return where :func:`process_audio_file` writes the embedding of `path`.

    Parameters
    ----------
    path : str or PathLike
        Audio or video file.
    output_dir : str or PathLike or None
        Folder of the output; None means the folder of `path`.
    suffix : str or None
        Appended verbatim to the file's stem (``"_mel256"`` gives
        ``clip_mel256.npz``); None appends nothing.

    Returns
    -------
    Path
        ``<output_dir or path's folder>/<stem><suffix>.npz``.
    """
    path = Path(path)
    folder = Path(output_dir) if output_dir is not None else path.parent
    return folder / f"{path.stem}{suffix or ''}.npz"


def process_audio_file(
    path_or_paths: PathLike | Sequence[PathLike],
    *,
    output_dir: PathLike | None = None,
    suffix: str | None = None,
    model: Any = None,
    input_repr: str = "mel256",
    embedding_size: int = 6144,
    center: bool = True,
    hop_size: float = DEFAULT_HOP_SIZE_S,
    batch_size: int = 32,
    overwrite: bool = False,
    verbose: bool = True,
    on_error: str = "error",
    mode: str = "exact",
    precision: str = "float32",
) -> list[Path]:
    """Embed audio (or video sound-track) files and save one ``.npz`` per file.

    Each output (see :func:`get_output_path`) holds ``embedding`` (T, D)
    float32 and ``timestamps`` (T,) float64 in seconds, as OpenL3 writes
    them. Files are decoded ahead of the model in threads and their windows
    batched across files (:class:`~l3_kedro.embedding.stream.ClipEmbeddingStream`);
    every output is written atomically (temporary file, then ``os.replace``).

    Parameters
    ----------
    path_or_paths : str or PathLike or list of them
        Files readable by :func:`~l3_kedro.audio.load_audio` (wav, flac, ogg,
        mp3, m4a, mp4, webm, mkv, ...).
    output_dir : str or PathLike or None
        Folder of the outputs (created if missing); None writes next to each
        input.
    suffix : str or None
        Appended verbatim to each output's stem.
    model, input_repr, embedding_size, center, hop_size, batch_size, mode, precision
        As in :func:`get_audio_embedding`.
    overwrite : bool
        Replace existing outputs; if False they are left alone and skipped.
    verbose : bool
        Show a progress bar.
    on_error : {"error", "skip"}
        What to do with a missing or unreadable file: raise
        :class:`~l3_kedro.errors.AudioError`, or warn and go on. Outputs
        already written are kept either way.

    Returns
    -------
    list of Path
        The outputs written by this call, in input order.

    Raises
    ------
    ParameterError
        A parameter is out of its domain, or two inputs would write the same
        output.
    AudioError
        With ``on_error="error"``, the first file that cannot be embedded.
    OutputError
        An output folder is a file or cannot be written (checked before the
        model runs), or an output cannot be written (a full disk).

    Warns
    -----
    AudioWarning
        With ``on_error="skip"``, one per file that could not be embedded,
        starting ``not embedded:`` and naming the file.
    """
    from l3_kedro.embedding.embedders import L3Embedder
    from l3_kedro.embedding.fast import L3FastEmbedder
    from l3_kedro.embedding.stream import ClipEmbeddingStream

    if on_error not in ("error", "skip"):
        raise ParameterError(f"on_error must be 'error' or 'skip', got {on_error!r}.")
    batch_size = check_batch_size(batch_size)
    check_mode(mode)
    check_precision(precision)
    count_windows(1, TARGET_SR, hop_size=hop_size, center=center)  # validates both
    targets = _output_paths(_path_list(path_or_paths), output_dir=output_dir, suffix=suffix)
    todo = []
    for path, output in targets.items():
        if not path.is_file():
            _fail(f"{path}: audio file not found; check the path.", on_error)
        elif output.exists() and not overwrite:
            logger.info("%s exists; skipping %s (pass overwrite=True to replace it).", output, path)
        else:
            todo.append({"clip_id": str(path), "path": str(path), "output": str(output)})
    if not todo:
        return []
    for folder in dict.fromkeys(Path(item["output"]).parent for item in todo):
        ensure_writable_folder(folder)
    model = _resolve_model(model, input_repr=input_repr, embedding_size=embedding_size)
    embedder = L3Embedder(with_compute_precision(model, precision), name="L3", attributes={})
    if mode == "fast":
        embedder = L3FastEmbedder(embedder)
    stream = ClipEmbeddingStream(
        pd.DataFrame(todo),
        embedder,
        hop_size=hop_size,
        center=center,
        batch_size=batch_size,
        on_error=on_error,
        progress=verbose,
    )
    written = []
    for chunk in stream:
        bounds = np.cumsum(chunk.windows_per_clip)[:-1]
        for output, embedding, timestamps in zip(
            chunk.clips["output"],
            np.split(chunk.embeddings, bounds),
            np.split(chunk.timestamps, bounds),
            strict=True,
        ):
            written.append(_save_npz(Path(output), embedding=embedding, timestamps=timestamps))
    for skip in stream.skips:
        reason = skip["reason"]
        where = "" if skip["path"] in reason else f"{skip['path']}: "
        _fail(f"{where}{reason}", "skip")
    return written


def _path_list(path_or_paths: Any) -> list[Path]:
    if isinstance(path_or_paths, str | os.PathLike):
        return [Path(path_or_paths)]
    if isinstance(path_or_paths, list | tuple) and all(
        isinstance(p, str | os.PathLike) for p in path_or_paths
    ):
        return [Path(p) for p in path_or_paths]
    raise ParameterError(
        f"path_or_paths must be a path or a list of paths, got {type(path_or_paths).__name__}."
    )


def _output_paths(
    paths: list[Path], *, output_dir: PathLike | None, suffix: str | None
) -> dict[Path, Path]:
    """Input -> output path (duplicates dropped); ParameterError if two share an output."""
    targets: dict[Path, Path] = {}
    owners: dict[Path, Path] = {}
    for path in paths:
        output = get_output_path(path, output_dir=output_dir, suffix=suffix)
        key = output.resolve()
        if key in owners and owners[key].resolve() != path.resolve():
            raise ParameterError(
                f"{owners[key]} and {path} would both be written to {output}; pass them "
                "in separate calls with other output_dir or suffix values."
            )
        if key not in owners:
            owners[key] = path
            targets[path] = output
    return targets


def _fail(message: str, on_error: str) -> None:
    """Raise AudioError(message), or warn ``not embedded: <message>`` (AudioWarning)."""
    if on_error == "error":
        raise AudioError(message)
    warnings.warn(f"not embedded: {message}", AudioWarning, stacklevel=3)


def _save_npz(path: Path, *, embedding: np.ndarray, timestamps: np.ndarray) -> Path:
    """Write ``embedding`` and ``timestamps`` to `path` atomically; return `path`."""

    def write(partial: Path) -> None:
        with open(partial, "wb") as file:
            np.savez(file, embedding=embedding, timestamps=timestamps)

    replace_atomically(path, write)
    logger.info("Wrote %s", path)
    return path
