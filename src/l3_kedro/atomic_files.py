"""Atomic writes (local paths and Kedro's fsspec filesystems), and the clean-up of killed writes.

A file is written to a hidden partial sibling and renamed over its final path
only once complete, so a crash mid-write leaves the previous file intact.
The partial's name says which process wrote it
(``.{stem}.{host}-{pid}.partial{suffix}``): a process killed with SIGKILL
cannot remove its partial, so the next writer of the same target removes the
partials whose process no longer exists on this host, logs each one, and
drops version folders they leave empty. (Datasets on any fsspec filesystem
use :func:`write_atomically`, named the same way.)

Errors of the filesystem (a folder that is a file, no permission, a full
disk) become :class:`~l3_kedro.errors.OutputError` naming the path.
"""

from __future__ import annotations

import logging
import os
import posixpath
import re
import shutil
import socket
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from l3_kedro.errors import OutputError

logger = logging.getLogger(__name__)

PARTIAL_SUFFIX = ".partial"
"""Marks a file still being written."""

_PARTIAL_NAME = re.compile(
    r"^\.(?P<stem>.+?)\.(?:(?P<host>[A-Za-z0-9_]+)-)?(?P<pid>\d+)\.partial(?P<suffix>.*)$"
)
"""``.{stem}.{host}-{pid}.partial{suffix}`` (``{host}-`` absent in older versions)."""


def writer_id() -> str:
    """``{host}-{pid}`` of this process, the host name reduced to ``[A-Za-z0-9_]``."""
    host = re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname()) or "host"
    return f"{host}-{os.getpid()}"


def partial_name(name: str) -> str:
    """The partial file name of the final file name `name`, for this process."""
    stem, dot, suffix = name.partition(".")
    return f".{stem}.{writer_id()}{PARTIAL_SUFFIX}{dot}{suffix}"


def is_stale_partial(name: str, target_name: str | None = None) -> bool:
    """Whether `name` is a partial (of `target_name`, if given) whose writer is gone.

    Only partials written on this host can be judged: a live process of
    another host (a shared filesystem) is never touched.
    """
    match = _PARTIAL_NAME.match(name)
    if match is None:
        return False
    if target_name is not None:
        stem, dot, suffix = target_name.partition(".")
        if (match["stem"], match["suffix"]) != (stem, dot + suffix):
            return False
    host = match["host"]
    if host is not None and host != writer_id().rsplit("-", 1)[0]:
        return False
    return not _process_exists(int(match["pid"]))


def remove_stale_partials(target: str | os.PathLike) -> list[Path]:
    """Remove the partials of `target` left by processes that no longer exist.

    Looks beside `target` and, when `target` sits in a Kedro version folder
    (``name/<version>/name``), in every version folder of that dataset; a
    version folder left empty is removed too. Each removal is logged.

    Returns
    -------
    list of Path
        The partial files (or folders) removed.
    """
    target = Path(target)
    folders = [target.parent]
    dataset_folder = target.parent.parent
    if dataset_folder.name == target.name and dataset_folder.is_dir():
        folders = sorted(p for p in dataset_folder.iterdir() if p.is_dir())
    removed = []
    for folder in folders:
        try:
            candidates = [p for p in folder.iterdir() if is_stale_partial(p.name, target.name)]
        except OSError:
            continue
        for partial in candidates:
            try:
                if partial.is_dir() and not partial.is_symlink():
                    shutil.rmtree(partial)
                else:
                    partial.unlink()
            except OSError as exc:
                logger.warning("Could not remove the stale partial file %s (%s).", partial, exc)
                continue
            removed.append(partial)
            logger.warning(
                "Removed %s, a partial output left by a process that no longer exists "
                "(a killed run).",
                partial,
            )
        if folder != target.parent and candidates and not any(folder.iterdir()):
            folder.rmdir()
    return removed


def replace_atomically(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(partial)``, then rename ``partial`` to ``path``; return ``path``.

    ``partial`` is :func:`partial_name` beside ``path``: hidden, one per
    process, and with ``path``'s suffix (Keras' ``model.save`` checks for
    ``.keras``). It is removed if ``write`` or the rename fails. Stale
    partials of ``path`` are removed first (:func:`remove_stale_partials`).

    Raises
    ------
    OutputError
        The folder cannot be made or written, or the disk is full; the
        previous ``path`` is unchanged.
    """
    path = Path(path)
    remove_stale_partials(path)
    partial = path.with_name(partial_name(path.name))
    try:
        write(partial)
        os.replace(partial, path)
    except OSError as exc:
        if isinstance(exc, OutputError):
            raise
        raise OutputError(
            f"cannot write {path} ({_reason(exc)}); free space or choose a folder you can "
            "write to. Any previous version of it is unchanged."
        ) from exc
    finally:
        partial.unlink(missing_ok=True)
    return path


def write_atomically(fs: Any, save_path: str, write: Callable[[IO[bytes]], None]) -> None:
    """Write through ``write(file)`` to a partial beside ``save_path``, then rename.

    The partial is named as :func:`partial_name` names it;
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


def ensure_writable_folder(folder: str | os.PathLike, *, what: str = "output folder") -> Path:
    """Create `folder` if needed and check that a file can be written in it.

    Call before long work so that a bad output path fails first, not after.

    Raises
    ------
    OutputError
        `folder` is an existing file, or cannot be created or written.
    """
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise OutputError(
            f"{what} {folder} is a file, not a folder; pass a folder (it is created if missing)."
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=f".{writer_id()}.", suffix=".probe"):
            pass
    except OSError as exc:
        raise OutputError(
            f"cannot write to the {what} {folder} ({_reason(exc)}); choose a folder you can "
            "write to."
        ) from exc
    return folder


def _reason(exc: OSError) -> str:
    """An OSError's reason without repeating the path (``No space left on device``)."""
    return exc.strerror or str(exc)


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    except OSError:
        return True
    return True
