"""Downstream folds on a 2-worker Dask LocalCluster (127.0.0.1) equal the sequential run."""

from __future__ import annotations

import pandas as pd
import pytest

from l3_kedro.cluster import EngineConfig, close_clusters, dask_client
from l3_kedro.evaluation import ProtocolConfig
from l3_kedro.evaluation.protocol import run_protocol

GRID = {"learning_rate": [1e-3, 1e-4], "weight_decay": [1e-4]}


@pytest.fixture
def two_workers():
    engine = EngineConfig.from_parameters({"kind": "dask", "n_workers": 2}, parameter="test")
    yield engine
    close_clusters()


def test_dask_folds_equal_the_sequential_folds(toy_store, two_workers):
    config = ProtocolConfig.from_parameters(
        {"grid": GRID, "epochs": 4, "patience": 2, "batch_size": 16, "seed": 3}
    )
    here = run_protocol(toy_store, config=config, dataset="toy")
    there = run_protocol(toy_store, config=config, dataset="toy", engine=two_workers)
    client = dask_client(two_workers)
    assert len(client.scheduler_info()["workers"]) == 2
    assert all(a.startswith("tcp://127.0.0.1:") for a in client.scheduler_info()["workers"])
    pd.testing.assert_frame_equal(here.folds, there.folds)
    pd.testing.assert_frame_equal(
        here.grid.drop(columns="seconds"), there.grid.drop(columns="seconds")
    )
    pd.testing.assert_frame_equal(here.per_class_accuracy, there.per_class_accuracy)
    for fold, confusion in here.confusion.items():
        assert (confusion == there.confusion[fold]).all()


def test_a_failing_fold_raises_its_own_error_here(tmp_path, toy, two_workers):
    from tests.evaluation.stores import write_clips_store

    clips, embeddings = toy
    path = write_clips_store(tmp_path / "s.h5", clips, embeddings)
    config = ProtocolConfig.from_parameters({"grid": GRID, "epochs": 2, "patience": 1})
    moved = path.rename(tmp_path / "moved.h5")
    # the store is opened here first; a worker that cannot read it fails with the store's error
    from l3_kedro.datasets import EmbeddingStore

    with EmbeddingStore(moved) as store:
        store.path = tmp_path / "gone.h5"  # workers open the store by this path
        with pytest.raises(Exception, match=r"gone\.h5"):
            run_protocol(store, config=config, dataset="toy", engine=two_workers)


def test_engine_parameters_are_checked():
    from l3_kedro.errors import ParameterError

    with pytest.raises(ParameterError, match=r"downstream_eval\.engine\.kind='spark'"):
        EngineConfig.from_parameters({"kind": "spark"}, parameter="downstream_eval.engine")
    with pytest.raises(ParameterError, match=r"Unknown key\(s\) \['workers'\]"):
        EngineConfig.from_parameters({"workers": 2}, parameter="downstream_eval.engine")
    with pytest.raises(ParameterError, match=r"n_workers=0"):
        EngineConfig.from_parameters({"n_workers": 0}, parameter="embed.engine")
    with pytest.raises(ParameterError, match=r"jobqueue\.kind='k8s'"):
        EngineConfig.from_parameters({"jobqueue": {"kind": "k8s"}}, parameter="embed.engine")
    assert not EngineConfig.from_parameters(None, parameter="embed.engine").distributed
