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

import h5py
import numpy as np
import pandas as pd

from l3_kedro.atomic_files import partial_name, remove_stale_partials, replace_atomically
from l3_kedro.cluster import EngineConfig, map_tasks
from l3_kedro.datasets.embedding_store import (
    EmbeddingRun,
    L3KedroError,
    StoreShard,
    _read_table,
    _write_table,
)

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


def combine_shards(path: Path, shards: list[Path], *, attributes: dict) -> Path:
    """Write the store at ``path`` whose arrays are virtual datasets over ``shards``.

    ``shards`` are complete stores of consecutive pieces of one clip table (a
    shard whose clips were all skipped has no arrays). The store's clip table
    is theirs joined, with ``start``/``stop`` counted over all windows; its
    ``window_clip`` is written here, shard by shard (memory: one shard's
    window index); its skips are theirs joined.
    """
    pieces = []
    for shard in shards:
        with h5py.File(shard, "r") as file:
            n, dim, dtype = 0, None, None
            if "embeddings" in file:
                (n, dim), dtype = file["embeddings"].shape, file["embeddings"].dtype
            pieces.append(
                (shard, n, dim, dtype, _read_table(file, "clips"), _read_table(file, "skips"))
            )
    filled = [p for p in pieces if p[1]]
    if not filled:
        skips = pd.concat([p[5] for p in pieces], ignore_index=True)
        raise L3KedroError(
            "No clip could be embedded: the store would be empty. "
            f"Skipped: {skips['clip_id'].tolist()[:5] if 'clip_id' in skips else []}"
        )
    n_windows, dim, dtype = sum(p[1] for p in filled), filled[0][2], filled[0][3]
    layouts = {
        "embeddings": h5py.VirtualLayout(shape=(n_windows, dim), dtype=dtype),
        "timestamps": h5py.VirtualLayout(shape=(n_windows,), dtype="float64"),
    }
    clip_tables, row, n_clips = [], 0, 0
    with h5py.File(path, "w") as file:
        owner = file.create_dataset("window_clip", (n_windows,), dtype="int64", fletcher32=True)
        for shard, n, shard_dim, _, clips, _ in filled:
            if shard_dim != dim:
                raise L3KedroError(f"Shard {shard} has {shard_dim} dims, the first {dim}.")
            relative = str(shard.relative_to(path.parent))
            layouts["embeddings"][row : row + n] = h5py.VirtualSource(
                relative, "embeddings", shape=(n, dim)
            )
            layouts["timestamps"][row : row + n] = h5py.VirtualSource(
                relative, "timestamps", shape=(n,)
            )
            with h5py.File(shard, "r") as source:
                owner[row : row + n] = source["window_clip"][:] + n_clips
            clip_tables.append(clips.assign(start=clips["start"] + row, stop=clips["stop"] + row))
            row, n_clips = row + n, n_clips + len(clips)
        for name, layout in layouts.items():
            file.create_virtual_dataset(name, layout, fillvalue=np.nan)
        _write_table(file, "clips", pd.concat(clip_tables, ignore_index=True))
        skips = pd.concat([p[5] for p in pieces], ignore_index=True)
        _write_table(file, "skips", skips.reindex(columns=["clip_id", "path", "reason"]))
        file.attrs["attributes"] = json.dumps(attributes, default=str)
        file.attrs["shards"] = json.dumps([str(p[0].relative_to(path.parent)) for p in pieces])
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
