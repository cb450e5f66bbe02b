"""The ``ingest`` pipeline: registered, runs on the embedded default, versioned outputs."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from kedro.framework.project import configure_project
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DataCatalog, MemoryDataset
from kedro.io.core import DatasetError
from kedro.runner import SequentialRunner

from l3_kedro.datasets import SyntheticCorpusDataset
from l3_kedro.errors import ParameterError
from l3_kedro.layouts.probe import CLIP_TABLE_COLUMNS
from l3_kedro.pipelines.ingest.nodes import prepare_synthetic_corpus
from l3_kedro.pipelines.ingest.pipeline import create_pipeline
from l3_kedro.project.config import configured_names, load_parameters
from tests.conftest import REPO_ROOT


def test_ingest_is_registered():
    configure_project("l3_kedro")
    from l3_kedro.pipeline_registry import register_pipelines

    pipelines = register_pipelines()
    assert "ingest" in pipelines
    outputs = pipelines["ingest"].outputs()
    assert {"us8k.clips", "us8k.ingest_skips", "fsdd.clips", "fsdd.ingest_skips"} <= outputs


def test_configured_names_skip_disabled_entries():
    params = {"ingest": {"datasets": {"a": {}, "b": {"enabled": False}, "c": None}}}
    assert configured_names("ingest.datasets", parameters=params) == ["a", "c"]


def test_ingest_runs_on_the_embedded_default(monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    params = load_parameters(env="base")
    catalog = DataCatalog({"params:ingest": MemoryDataset(params["ingest"])})
    pipeline = create_pipeline()
    downstream = pipeline - pipeline.only_nodes_with_tags("avc_data")  # AVC half: below
    outputs = SequentialRunner().run(downstream, catalog)
    us8k = catalog["us8k.clips"].load() if "us8k.clips" in catalog else outputs["us8k.clips"]
    fsdd = catalog["fsdd.clips"].load() if "fsdd.clips" in catalog else outputs["fsdd.clips"]
    assert list(us8k.columns) == list(CLIP_TABLE_COLUMNS)
    assert us8k["label"].nunique() == 10
    assert fsdd["label"].nunique() == 10
    for clips in (us8k, fsdd):
        assert clips.groupby("fold")["label"].nunique().min() == 10
        assert clips["fold"].nunique() >= 2
        assert (clips["duration_s"] > 0).all()


def test_refold_deals_a_two_fold_subset_into_source_disjoint_folds(monkeypatch):
    from l3_kedro.pipelines.ingest.nodes import build_clip_table

    monkeypatch.chdir(REPO_ROOT)
    source = {"layout": "urbansound8k", "name": "us8k", "root": "data/01_raw/urbansound8k"}
    policy = {"on_error": "error", "probe": "header"}
    official, _ = build_clip_table(source, policy)
    refolded, _ = build_clip_table({**source, "refold": {"n_folds": 6, "seed": 0}}, policy)
    assert sorted(official["fold"].unique()) == [1, 2]
    assert sorted(refolded["fold"].unique()) == [1, 2, 3, 4, 5, 6]
    assert (refolded.groupby("source_id")["fold"].nunique() == 1).all()
    assert refolded.drop(columns="fold").equals(official.drop(columns="fold"))
    with pytest.raises(ParameterError, match=r"ingest\.datasets\.us8k\.refold"):
        build_clip_table({**source, "refold": {"folds": 6}}, policy)


@pytest.fixture
def project_copy(tmp_path, monkeypatch) -> Path:
    """A copy of the project's configuration with the embedded raw data."""
    shutil.copy(REPO_ROOT / "pyproject.toml", tmp_path)
    shutil.copytree(REPO_ROOT / "conf", tmp_path / "conf", ignore=shutil.ignore_patterns("local"))
    (tmp_path / "conf" / "local").mkdir()
    (tmp_path / "src").mkdir()  # the package itself is imported from the install
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "01_raw").symlink_to(REPO_ROOT / "data" / "01_raw")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("KEDRO_DISABLE_TELEMETRY", "true")
    return tmp_path


@pytest.mark.slow
def test_kedro_run_ingest_writes_new_versions_and_keeps_old_ones(project_copy):
    for _ in range(2):
        bootstrap_project(project_copy)
        with KedroSession.create(project_path=project_copy) as session:
            session.run(pipeline_names=["ingest"])
    for name in ("us8k", "fsdd"):
        versions = sorted((project_copy / f"data/03_primary/{name}/clips.parquet").iterdir())
        assert len(versions) == 2
        first, second = (pd.read_parquet(v / "clips.parquet") for v in versions)
        pd.testing.assert_frame_equal(first, second)
        skip_versions = list(
            (project_copy / f"data/08_reporting/{name}/ingest_skips.csv").iterdir()
        )
        assert len(skip_versions) == 2


def test_the_corpus_options_are_checked_before_anything_is_written(tmp_path):
    with pytest.raises(
        ParameterError, match=r"synthetic\.root is no longer read.*avc\.synthetic_corpus"
    ):
        prepare_synthetic_corpus({"root": "data/01_raw/avc_synthetic", "seed": 0})
    with pytest.raises(
        ParameterError, match=r"Unknown key\(s\) \['n_video'\] under ingest\.avc\.synthetic"
    ):
        prepare_synthetic_corpus({"n_video": 3})
    with pytest.raises(ParameterError, match=r"ingest\.avc\.synthetic\.duration_s"):
        prepare_synthetic_corpus({"duration_s": 0.5})
    with pytest.raises(
        DatasetError, match=r"No synthetic AVC corpus in .*kedro run --pipeline ingest"
    ):
        SyntheticCorpusDataset(path=str(tmp_path)).load()


def test_avc_half_generates_lists_and_splits_the_synthetic_corpus(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO_ROOT)
    params = load_parameters(env="base")
    avc = params["ingest"]["avc"]
    synthetic = {**avc["synthetic"], "n_videos_per_subset": 10, "duration_s": 2.0, "image_size": 32}
    ingest = {**params["ingest"], "avc": {**avc, "synthetic": synthetic}}
    corpus = SyntheticCorpusDataset(path=str(tmp_path / "avc_synthetic"))
    catalog = DataCatalog({"params:ingest": MemoryDataset(ingest), "avc.synthetic_corpus": corpus})
    pipeline = create_pipeline().only_nodes_with_tags("avc_data")
    outputs = SequentialRunner().run(pipeline, catalog)
    assert corpus.load()["video_dir"] == str(tmp_path / "avc_synthetic" / "videos")
    manifest = outputs["avc.video_manifest"].load()
    assert outputs["avc.video_skips"].load().empty
    assert manifest["video_path"].str.startswith(str(tmp_path / "avc_synthetic" / "videos")).all()
    assert manifest.groupby("subset").size().to_dict() == {"environmental": 10, "music": 10}
    assert set(manifest["split"]) <= {"train", "validation", "test"}
    assert manifest.groupby("video_id")["split"].nunique().max() == 1
    assert (manifest["duration_s"] >= 1.9).all() and (manifest["sample_rate"] == 48000).all()
