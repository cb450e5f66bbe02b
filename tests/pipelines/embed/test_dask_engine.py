"""``embed.engine.kind: dask``: shards on a 2-worker LocalCluster (127.0.0.1) make the same store."""

from __future__ import annotations

import h5py
import numpy as np
import pandas as pd
import pytest
from kedro.io.core import Version

from l3_kedro.cluster import close_clusters, dask_client
from l3_kedro.datasets import EmbeddingStore, EmbeddingStoreDataset
from l3_kedro.embedding.shards import shard_clip_table
from l3_kedro.errors import L3KedroError
from l3_kedro.layouts.urbansound8k import read_urbansound8k
from l3_kedro.pipelines.embed.nodes import compute_embeddings
from tests.conftest import EMBEDDED_RAW

SETTINGS = {
    "hop_size": 0.5,
    "center": True,
    "batch_size": 8,
    "store_dtype": "float16",
    "on_error": "skip",
    "reuse": False,
}
TWO_WORKERS = {"kind": "dask", "n_workers": 2}
MODELS = {
    "handcrafted": {"kind": "handcrafted"},
    "l3": {"kind": "l3_random", "input_repr": "mel128", "width": 0.125, "embedding_size": 512},
}


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> pd.DataFrame:
    """7 real UrbanSound8K clips and, in the middle, one that cannot be decoded."""
    real = read_urbansound8k(root=EMBEDDED_RAW / "urbansound8k").head(7)
    broken = tmp_path_factory.mktemp("broken") / "broken.wav"
    broken.write_bytes(b"RIFF not really a wave file")
    bad = real.iloc[[0]].assign(clip_id="broken", path=str(broken))
    return pd.concat([real.iloc[:3], bad, real.iloc[3:]], ignore_index=True)


@pytest.fixture(scope="module", autouse=True)
def _stop_clusters():
    yield
    close_clusters()


def _save(path, clips, name, engine) -> EmbeddingStore:
    dataset = EmbeddingStoreDataset(filepath=str(path), version=Version(None, None))
    settings = {**SETTINGS, "engine": engine}
    dataset.save(compute_embeddings(clips, MODELS[name], settings, model_name=name))
    return dataset.load()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_two_dask_workers_write_the_single_process_store(tmp_path, clips, name):
    with (
        _save(tmp_path / "here.h5", clips, name, None) as here,
        _save(tmp_path / "there.h5", clips, name, TWO_WORKERS) as there,
    ):
        workers = dask_client(there_engine()).scheduler_info()["workers"]
        assert len(workers) == 2 and all(a.startswith("tcp://127.0.0.1:") for a in workers)
        assert there._file["embeddings"].is_virtual  # read through the shard files
        assert len(list((there.path.parent / "there.shards").glob("part-*.h5"))) == 2
        np.testing.assert_array_equal(here.embeddings[:], there.embeddings[:])
        np.testing.assert_array_equal(here.timestamps, there.timestamps)
        np.testing.assert_array_equal(here.window_clip, there.window_clip)
        pd.testing.assert_frame_equal(here.clips, there.clips)
        pd.testing.assert_frame_equal(here.skips, there.skips)
        assert there.skips["clip_id"].tolist() == ["broken"]
        assert here.attributes == there.attributes
        rows = np.array([0, 5, there.n_windows - 1])
        np.testing.assert_array_equal(next(here.iter_rows(rows)), next(there.iter_rows(rows)))
        there.verify()


def there_engine():
    from l3_kedro.cluster import EngineConfig

    return EngineConfig.from_parameters(TWO_WORKERS, parameter="embed.engine")


def test_a_missing_shard_is_an_error_naming_it(tmp_path, clips):
    with _save(tmp_path / "s.h5", clips.head(4), "handcrafted", TWO_WORKERS) as store:
        path = store.path
    shard = next((path.parent / "s.shards").glob("part-*.h5"))
    shard.unlink()
    with pytest.raises(L3KedroError, match=r"shard file\(s\) \['s\.shards/part-0000\d\.h5'\]"):
        EmbeddingStore(path)


def test_an_unchanged_sharded_store_is_reused_with_its_shards(tmp_path, clips):
    dataset = {
        "filepath": str(tmp_path / "s.h5"),
    }
    settings = {**SETTINGS, "reuse": True, "engine": TWO_WORKERS}
    for version in ("2026-01-01T00.00.00.000Z", "2026-01-02T00.00.00.000Z"):
        EmbeddingStoreDataset(**dataset, version=Version(None, version)).save(
            compute_embeddings(clips.head(4), MODELS["handcrafted"], settings, model_name="h")
        )
    first, second = sorted((tmp_path / "s.h5").iterdir())
    for a, b in zip(
        sorted((first / "s.shards").iterdir()), sorted((second / "s.shards").iterdir()), strict=True
    ):
        assert a.stat().st_ino == b.stat().st_ino  # hard links, nothing recomputed
    with EmbeddingStore(second / "s.h5") as store:
        store.verify()
        with h5py.File(first / "s.h5") as old:
            np.testing.assert_array_equal(store.embeddings[:], old["embeddings"][:])


def test_shards_are_consecutive_pieces_without_empty_ones(clips):
    pieces = shard_clip_table(clips, 3)
    assert [len(p) for p in pieces] == [3, 3, 2]
    pd.testing.assert_frame_equal(pd.concat(pieces), clips)
    assert len(shard_clip_table(clips.head(2), 5)) == 2
