"""``downstream_eval``: selection at run time, results table, one MLflow run per pair."""

from __future__ import annotations

import mlflow
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.io.core import Version
from kedro.runner import SequentialRunner

from l3_kedro.datasets import EmbeddingRun, EmbeddingStoreDataset, MlflowVariantRunsDataset
from l3_kedro.embedding.embedders import build_embedder
from l3_kedro.embedding.stream import ClipEmbeddingStream
from l3_kedro.errors import ParameterError
from l3_kedro.layouts.urbansound8k import read_urbansound8k
from l3_kedro.pipelines.downstream_eval.pipeline import create_pipeline
from l3_kedro.project.config import set_active_env
from tests.conftest import EMBEDDED_RAW, use_private_mlflow_store


@pytest.fixture
def runtime_params():
    """Run-time parameters (as ``kedro run --params``) seen by the registry."""

    class Loader(dict):
        pass

    def use(**downstream):
        from l3_kedro.project.config import load_parameters

        params = load_parameters(env="base")
        params["downstream_eval"].update(downstream)
        set_active_env("base", loader=Loader(parameters=params))
        return params

    yield use
    set_active_env(None)


def test_runtime_parameters_select_embeddings_and_datasets(runtime_params):
    runtime_params(embeddings="soundnet+handcrafted", datasets="us8k")
    pipeline = create_pipeline()
    assert pipeline.inputs() >= {"us8k.soundnet.embeddings", "us8k.handcrafted.embeddings"}
    assert not any("fsdd" in name for name in pipeline.inputs())
    assert not any("l3_random" in name for name in pipeline.inputs())
    assert "downstream_results" in pipeline.outputs()
    runtime_params(embeddings="vggish")
    with pytest.raises(ParameterError, match=r"downstream_eval\.embeddings.*vggish"):
        create_pipeline()


@pytest.mark.slow
def test_downstream_eval_runs_from_stores_in_the_catalog(runtime_params, tmp_path):
    params = runtime_params(embeddings="handcrafted", datasets="us8k")
    clips = read_urbansound8k(root=EMBEDDED_RAW / "urbansound8k").groupby(["fold", "label"]).head(4)
    store = EmbeddingStoreDataset(filepath=str(tmp_path / "hc.h5"), version=Version(None, None))
    embedder = build_embedder("handcrafted", {"kind": "handcrafted"})
    stream = ClipEmbeddingStream(clips, embedder, hop_size=0.5, progress=False)
    store.save(EmbeddingRun(stream, {**embedder.attributes, "hop_size": 0.5}))
    protocol = {**params["downstream_eval"]["protocol"], "epochs": 3, "patience": 2}
    protocol["grid"] = {"learning_rate": [1e-3], "weight_decay": [1e-4]}
    use_private_mlflow_store(tmp_path, "downstream")
    catalog = DataCatalog(
        {
            "us8k.handcrafted.embeddings": store,
            "us8k.clips": MemoryDataset(clips),
            "params:downstream_eval": MemoryDataset(
                {**params["downstream_eval"], "protocol": protocol, "test_folds": {}}
            ),
            "us8k.handcrafted.downstream_mlflow": MlflowVariantRunsDataset(),
            "downstream_results": MemoryDataset(),
            "downstream_runs": MemoryDataset(),
        }
    )
    try:
        with mlflow.start_run() as parent:
            SequentialRunner().run(create_pipeline(), catalog)
        results = catalog["downstream_results"].load()
        assert results["fold"].tolist() == [1, 2]
        assert set(results["embedding"]) == {"handcrafted"}
        assert results["kind"].iloc[0] == "handcrafted"
        assert results["clip_accuracy"].between(0, 1).all()
        assert (results["n_test_clips"] == 40).all()
        children = mlflow.search_runs(
            filter_string=f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
        )
        assert children["tags.mlflow.runName"].tolist() == ["us8k / handcrafted"]
        runs = catalog["downstream_runs"].load()
        assert runs.values.tolist() == [["us8k", "handcrafted", children["run_id"].iloc[0]]]
        assert children["params.dataset"].tolist() == ["us8k"]
        assert "metrics.clip_accuracy_mean" in children
    finally:
        mlflow.set_tracking_uri(None)
