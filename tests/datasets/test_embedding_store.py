"""Embedding stores: round trip, lazy reads, atomic versioned saves."""

from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pytest
from kedro.io.core import DatasetError, Version

from l3_kedro.datasets import EmbeddingChunk, EmbeddingRun, EmbeddingStoreDataset


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
        assert isinstance(store.embeddings, h5py.Dataset)
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
