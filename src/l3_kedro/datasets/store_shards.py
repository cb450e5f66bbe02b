"""Embedding stores written in shards: one store file per piece of the clip table.

With ``embed.engine.kind: dask`` every shard is embedded and written by a
Dask worker, straight to disk; nothing but its file name comes back. The
store is then one small HDF5 file beside the shards whose ``embeddings`` and
``timestamps`` are HDF5 *virtual datasets* over the shards' arrays, so it
reads, lazily, exactly like a store written in one piece (same
:class:`~l3_kedro.datasets.embedding_store.EmbeddingStore` API, same
numbers), and nothing is copied. Its own arrays are ``window_clip`` (the
clip index over all shards) and the joined clip and skip tables.

Layout of one version (the paths are relative, so the version folder can
move)::

    <name>.h5                   the store (virtual arrays, tables, attributes)
    <name>.shards/part-00000.h5 shard 0, a complete store of its clips
    <name>.shards/part-00001.h5 ...
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import NamedTuple

import h5py
import numpy as np
import pandas as pd

from l3_kedro.atomic_files import partial_name, remove_stale_partials, replace_atomically
from l3_kedro.cluster import EngineConfig, map_tasks
from l3_kedro.datasets.embedding_store import (
    EmbeddingRun,
    StoreShard,
    _read_table,
    _write_table,
)
from l3_kedro.errors import L3KedroError

logger = logging.getLogger(__name__)

SHARD_NAME = "part-{index:05d}.h5"


def shard_folder(path: Path) -> Path:
    """``<name>.shards`` beside the store ``<name>.h5`` (``path``, or its partial)."""
    return path.with_name(f"{path.name.lstrip('.').split('.')[0]}.shards")


def _write_shard(shard: StoreShard, *, folder: str) -> str:
    """Write ``shard`` into ``folder`` atomically; return its file name (a Dask task)."""
    name = SHARD_NAME.format(index=shard.index)
    replace_atomically(Path(folder) / name, shard.write)
    return name


def write_sharded_store(path: Path, run: EmbeddingRun, *, final: Path) -> Path:
    """Write ``run.shards`` on ``run.engine`` and the store over them at ``path``.

    Parameters
    ----------
    path : Path
        The store file to write (the partial of ``final``).
    run : EmbeddingRun
        With ``shards`` (in clip-table order) and ``engine``.
    final : Path
        Where the store will be renamed to; the shards go to its
        ``<name>.shards`` folder (written under a partial name first, renamed
        once every shard is complete).
    """
    folder = shard_folder(final)
    staging = folder.with_name(partial_name(folder.name))
    remove_stale_partials(folder)
    if folder.exists():  # shards of an earlier attempt that wrote no store
        shutil.rmtree(folder)
    staging.mkdir(parents=True)
    try:
        names = map_tasks(
            _write_shard, run.shards, engine=run.engine or EngineConfig(), folder=str(staging)
        )
        os.replace(staging, folder)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    try:
        combine_shards(path, [folder / n for n in names], attributes=run.attributes)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return path


class _Shard(NamedTuple):
    """What the store needs to know of one shard file."""

    path: Path
    n_windows: int
    dim: int | None  # None: every clip of the shard was skipped (no arrays)
    dtype: np.dtype | None
    clips: pd.DataFrame
    skips: pd.DataFrame


def _read_shard(path: Path) -> _Shard:
    """The shard's array shape and its clip and skip tables (the arrays are not read)."""
    with h5py.File(path, "r") as file:
        n_windows, dim, dtype = 0, None, None
        if "embeddings" in file:
            (n_windows, dim), dtype = file["embeddings"].shape, file["embeddings"].dtype
        clips, skips = _read_table(file, "clips"), _read_table(file, "skips")
    return _Shard(path, n_windows, dim, dtype, clips, skips)


def combine_shards(path: Path, shards: list[Path], *, attributes: dict) -> Path:
    """Write the store at ``path`` whose arrays are virtual datasets over ``shards``.

    ``shards`` are complete stores of consecutive pieces of one clip table (a
    shard whose clips were all skipped has no arrays). The store's clip table
    is theirs joined, with ``start``/``stop`` counted over all windows; its
    ``window_clip`` is written here, shard by shard (memory: one shard's
    window index); its skips are theirs joined.
    """
    pieces = [_read_shard(shard) for shard in shards]
    skips = pd.concat([p.skips for p in pieces], ignore_index=True)
    filled = [p for p in pieces if p.n_windows]
    if not filled:
        raise L3KedroError(
            "No clip could be embedded: the store would be empty. "
            f"Skipped: {skips['clip_id'].tolist()[:5] if 'clip_id' in skips else []}"
        )
    n_windows, dim, dtype = sum(p.n_windows for p in filled), filled[0].dim, filled[0].dtype
    layouts = {
        "embeddings": h5py.VirtualLayout(shape=(n_windows, dim), dtype=dtype),
        "timestamps": h5py.VirtualLayout(shape=(n_windows,), dtype="float64"),
    }
    clip_tables, row, n_clips = [], 0, 0
    with h5py.File(path, "w") as file:
        owner = file.create_dataset("window_clip", (n_windows,), dtype="int64", fletcher32=True)
        for shard in filled:
            if shard.dim != dim:
                raise L3KedroError(f"Shard {shard.path} has {shard.dim} dims, the first {dim}.")
            n, relative = shard.n_windows, str(shard.path.relative_to(path.parent))
            layouts["embeddings"][row : row + n] = h5py.VirtualSource(
                relative, "embeddings", shape=(n, dim)
            )
            layouts["timestamps"][row : row + n] = h5py.VirtualSource(
                relative, "timestamps", shape=(n,)
            )
            with h5py.File(shard.path, "r") as source:
                owner[row : row + n] = source["window_clip"][:] + n_clips
            clips = shard.clips
            clip_tables.append(clips.assign(start=clips["start"] + row, stop=clips["stop"] + row))
            row, n_clips = row + n, n_clips + len(clips)
        for name, layout in layouts.items():
            file.create_virtual_dataset(name, layout, fillvalue=np.nan)
        _write_table(file, "clips", pd.concat(clip_tables, ignore_index=True))
        _write_table(file, "skips", skips.reindex(columns=["clip_id", "path", "reason"]))
        file.attrs["attributes"] = json.dumps(attributes, default=str)
        file.attrs["shards"] = json.dumps([str(p.path.relative_to(path.parent)) for p in pieces])
    logger.info("Store %s: %d windows from %d shards", path, n_windows, len(shards))
    return path


def link_store(previous: Path, path: Path) -> None:
    """Make ``path`` the same store as ``previous`` (hard links, else copies), shards too."""

    def same(source: Path, target: Path) -> None:
        try:
            os.link(source, target)
        except OSError:
            shutil.copyfile(source, target)

    old_shards = shard_folder(previous)
    if old_shards.is_dir():
        new_shards = shard_folder(path)
        if new_shards.exists():
            shutil.rmtree(new_shards)
        new_shards.mkdir()
        for shard in sorted(old_shards.iterdir()):
            same(shard, new_shards / shard.name)
    same(previous, path)
