"""Embedding stores: round trip, lazy reads, atomic versioned saves."""

from __future__ import annotations

import os
import threading

import h5py
import numpy as np
import pandas as pd
import pytest
from kedro.io.core import DatasetError, Version

from l3_kedro.datasets import EmbeddingChunk, EmbeddingRun, EmbeddingStoreDataset, write_store
from l3_kedro.datasets.fingerprint import EmbeddingSources
from l3_kedro.errors import L3KedroError


def _chunks(rng, n_chunks=3, dim=6, fail_at=None):
    for k in range(n_chunks):
        if k == fail_at:
            raise RuntimeError("model crashed")
        counts = np.array([2, 3])
        yield EmbeddingChunk(
            clips=pd.DataFrame({"clip_id": [f"{k}a", f"0{k}"], "label": ["x", "y"]}),
            embeddings=rng.standard_normal((5, dim)).astype("float32"),
            timestamps=np.array([0, 0.1, 0, 0.1, 0.2]),
            windows_per_clip=counts,
        )


def _dataset(tmp_path, version=None):
    return EmbeddingStoreDataset(filepath=str(tmp_path / "s.h5"), version=Version(None, version))


@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_round_trip_with_lazy_arrays(tmp_path, rng, dtype):
    _dataset(tmp_path).save(
        EmbeddingRun(_chunks(rng), {"name": "t", "input_repr": "mel256"}, dtype=dtype)
    )
    with _dataset(tmp_path).load() as store:
        assert isinstance(store.embeddings._dataset, h5py.Dataset)  # lazy, read on slicing
        assert store.embeddings.dtype == np.dtype(dtype)
        assert (store.n_windows, store.embedding_size) == (15, 6)
        assert store.clips["clip_id"].tolist() == ["0a", "00", "1a", "01", "2a", "02"]
        assert store.clips[["start", "stop"]].to_numpy()[:2].tolist() == [[0, 2], [2, 5]]
        assert store.window_clip.tolist() == [0, 0, 1, 1, 1, 2, 2, 3, 3, 3, 4, 4, 5, 5, 5]
        emb, ts = store.clip_embeddings(1)
        assert emb.shape == (3, 6)
        assert ts.tolist() == [0, 0.1, 0.2]
        assert store.attributes == {"name": "t", "input_repr": "mel256"}


def test_a_crash_mid_run_leaves_no_file_and_keeps_the_last_version(tmp_path, rng):
    _dataset(tmp_path, "2026-01-01T00.00.00.000Z").save(EmbeddingRun(_chunks(rng), {"v": 1}))
    with pytest.raises(DatasetError, match="model crashed"):
        _dataset(tmp_path, "2026-01-02T00.00.00.000Z").save(
            EmbeddingRun(_chunks(rng, fail_at=2), {"v": 2})
        )
    files = sorted(p.name for p in (tmp_path / "s.h5").rglob("*") if p.is_file())
    assert files == ["s.h5"]
    with _dataset(tmp_path).load() as store:
        assert store.attributes == {"v": 1}


def test_an_empty_run_is_an_error_listing_the_skips(tmp_path):
    run = EmbeddingRun(iter(()), {}, skips=[{"clip_id": "a", "path": "a.wav", "reason": "bad"}])
    with pytest.raises(DatasetError, match="No clip could be embedded"):
        _dataset(tmp_path).save(run)


def test_loading_a_missing_store_says_to_run_embed(tmp_path):
    with pytest.raises(DatasetError, match="run the `embed` pipeline"):
        _dataset(tmp_path).load()


def _read_all(path) -> dict:
    with h5py.File(path, "r") as file:
        return {
            name: (file[name][:].tobytes() if name.startswith("tables/") else file[name][:])
            for name in ("embeddings", "timestamps", "window_clip", "tables/clips", "tables/skips")
        } | {"attributes": file.attrs["attributes"]}


def test_the_writer_thread_writes_what_the_calling_thread_writes(tmp_path):
    # 2000 x 1024 rows: several partial writes per chunk (h5py holds the GIL)
    def run():
        rng = np.random.default_rng(0)
        chunks = (
            EmbeddingChunk(
                clips=pd.DataFrame({"clip_id": [f"{k}a", f"{k}b"]}),
                embeddings=rng.standard_normal((2000, 1024)).astype("float32"),
                timestamps=np.arange(2000) * 0.1,
                windows_per_clip=np.array([1500, 500]),
            )
            for k in range(3)
        )
        return EmbeddingRun(chunks, {"name": "t"}, skips=[{"clip_id": "z"}], dtype="float16")

    write_store(tmp_path / "fg.h5", run(), background=False)
    write_store(tmp_path / "bg.h5", run(), background=True)
    fg, bg = _read_all(tmp_path / "fg.h5"), _read_all(tmp_path / "bg.h5")
    assert fg.keys() == bg.keys()
    for name in fg:
        np.testing.assert_array_equal(fg[name], bg[name])
    assert fg["embeddings"].shape == (6000, 1024)


def test_a_failing_writer_stops_the_run_and_closes_the_chunks(tmp_path, rng, monkeypatch):
    closed = []

    def chunks():
        try:
            yield from _chunks(rng, n_chunks=50)
        finally:
            closed.append(True)

    def broken_append(self, chunk):
        raise OSError("disk full")

    monkeypatch.setattr("l3_kedro.datasets.embedding_store._ChunkWriter.append", broken_append)
    with pytest.raises(OSError, match="disk full"):
        write_store(tmp_path / "s.h5", EmbeddingRun(chunks(), {}))
    assert closed == [True]
    assert not [t for t in threading.enumerate() if t.name == "embedding-store-writer"]


def test_unchanged_inputs_reuse_the_last_store_without_running_the_model(tmp_path, rng):
    first = {"name": "t", "input_fingerprint": "abc"}
    _dataset(tmp_path, "2026-01-01T00.00.00.000Z").save(EmbeddingRun(_chunks(rng), first))
    # the model would crash if it ran: the same fingerprint must not run it
    _dataset(tmp_path, "2026-01-02T00.00.00.000Z").save(
        EmbeddingRun(_chunks(rng, fail_at=0), dict(first))
    )
    versions = sorted((tmp_path / "s.h5").iterdir())
    assert [v.name for v in versions] == ["2026-01-01T00.00.00.000Z", "2026-01-02T00.00.00.000Z"]
    with _dataset(tmp_path).load() as store:
        assert store.attributes == first and store.n_windows == 15
    changed = {"name": "t", "input_fingerprint": "def"}
    with pytest.raises(DatasetError, match="model crashed"):
        _dataset(tmp_path, "2026-01-03T00.00.00.000Z").save(
            EmbeddingRun(_chunks(rng, fail_at=0), changed)
        )


def test_the_dataset_fingerprints_the_sources_a_run_names(tmp_path, rng):
    """The node reads no file: the dataset fingerprints clips and model files while saving."""
    clip = tmp_path / "a.wav"
    clip.write_bytes(b"1234")
    sources = EmbeddingSources(
        pd.DataFrame({"clip_id": ["a"], "path": [str(clip)]}), {"kind": "l3"}, {"hop_size": 1.0}
    )
    first = EmbeddingRun(_chunks(rng), {"name": "t"}, sources=sources)
    _dataset(tmp_path, "2026-01-01T00.00.00.000Z").save(first)
    with _dataset(tmp_path).load() as store:
        assert store.attributes["input_fingerprint"] == sources.fingerprint()
    # unchanged sources: the last version is reused and the model never runs
    again = EmbeddingRun(_chunks(rng, fail_at=0), {"name": "t"}, sources=sources)
    _dataset(tmp_path, "2026-01-02T00.00.00.000Z").save(again)
    # a rewritten clip file changes the fingerprint: the model runs (and here crashes)
    stat = clip.stat()
    os.utime(clip, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    changed = EmbeddingRun(_chunks(rng, fail_at=0), {"name": "t"}, sources=sources)
    with pytest.raises(DatasetError, match="model crashed"):
        _dataset(tmp_path, "2026-01-03T00.00.00.000Z").save(changed)
    # without sources nothing is fingerprinted and nothing reused
    _dataset(tmp_path, "2026-01-04T00.00.00.000Z").save(EmbeddingRun(_chunks(rng), {"name": "t"}))
    with _dataset(tmp_path).load() as store:
        assert "input_fingerprint" not in store.attributes


def _damage_first_embedding_chunk(path) -> None:
    """Flip bytes inside the first stored chunk of ``embeddings`` (not its metadata)."""
    with h5py.File(path, "r") as file:
        info = file["embeddings"].id.get_chunk_info(0)
    with open(path, "r+b") as raw:
        raw.seek(info.byte_offset + 8)
        data = raw.read(4)
        raw.seek(info.byte_offset + 8)
        raw.write(bytes(b ^ 0xFF for b in data))


def test_a_damaged_store_is_an_error_naming_it_never_read_as_numbers(tmp_path, rng):
    _dataset(tmp_path, "2026-01-01T00.00.00.000Z").save(
        EmbeddingRun(_chunks(rng), {"name": "t", "input_fingerprint": "abc"})
    )
    path = next((tmp_path / "s.h5").glob("*/s.h5"))
    _damage_first_embedding_chunk(path)
    with _dataset(tmp_path).load() as store:
        with pytest.raises(L3KedroError, match=r"is damaged \(.*filter returned failure") as info:
            store.embeddings[0:2]
        assert str(path) in str(info.value)
        with pytest.raises(L3KedroError, match="damaged"):
            next(store.iter_rows(np.arange(3)))
        with pytest.raises(L3KedroError, match="damaged"):
            store.verify()


def test_a_damaged_store_is_recomputed_not_reused(tmp_path, rng):
    first = {"name": "t", "input_fingerprint": "abc"}
    _dataset(tmp_path, "2026-01-01T00.00.00.000Z").save(EmbeddingRun(_chunks(rng), first))
    damaged = next((tmp_path / "s.h5").glob("*/s.h5"))
    _damage_first_embedding_chunk(damaged)
    _dataset(tmp_path, "2026-01-02T00.00.00.000Z").save(EmbeddingRun(_chunks(rng), dict(first)))
    latest = tmp_path / "s.h5" / "2026-01-02T00.00.00.000Z" / "s.h5"
    assert latest.stat().st_ino != damaged.stat().st_ino
    with _dataset(tmp_path).load() as store:
        store.verify()
