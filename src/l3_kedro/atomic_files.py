"""Atomic replacement of local files.

A file is written to a hidden partial sibling and renamed over its final path
only once complete, so a crash mid-write leaves the previous file intact and
no partial file behind. (Datasets on any fsspec filesystem use
:func:`l3_kedro.datasets.atomic.write_atomically`.)
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

PARTIAL_SUFFIX = ".partial"
"""Marks a file still being written."""


def replace_atomically(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(partial)``, then rename ``partial`` to ``path``; return ``path``.

    ``partial`` is ``.{stem}.{pid}.partial{suffix}`` beside ``path``: hidden,
    one per process, and with ``path``'s suffix (Keras' ``model.save`` checks
    for ``.keras``). It is removed if ``write`` or the rename fails.
    """
    path = Path(path)
    partial = path.with_name(f".{path.stem}.{os.getpid()}{PARTIAL_SUFFIX}{path.suffix}")
    try:
        write(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path
