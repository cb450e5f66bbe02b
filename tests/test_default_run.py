"""The whole default run (`kedro run`), at toy scale, in a copy of the project.

Same pipelines, catalog and code as the README's command; only sizes shrink
(conf/local): a tiny synthetic corpus, two variants trained for 2 epochs,
the embedded UrbanSound8K clips only, 1 s hop. Checks that every stage hands its outputs to the next
through the catalog, the MLflow store holds the runs the README lists, and a
second run reuses the trained variants and embeddings.
"""

import json

import mlflow
import pandas as pd
import pytest

from tests.toy_project import kedro_run


def _check_design_choice_means(significance: pd.DataFrame, results: pd.DataFrame) -> None:
    """Every input_repr / subset level mean is that of the trained (kind l3) rows only."""
    final = results[results["selection"].astype(str) != "checkpoint"]
    compared = significance[
        significance["factor"].isin(["input_repr", "subset"])
        & ~significance["status"].str.startswith("missing")
    ]
    assert len(compared) >= 2
    for row in compared.itertuples():
        trained = final[(final["dataset"] == row.dataset) & (final["kind"] == "l3")]
        units = row.pairing.split(" x ")
        means = [
            trained[trained[row.factor] == level].groupby(units)["clip_accuracy"].mean()
            for level in (row.level_a, row.level_b)
        ]
        common = means[0].index.intersection(means[1].index)
        assert row.mean_a == pytest.approx(means[0][common].mean())
        assert row.mean_b == pytest.approx(means[1][common].mean())
        assert row.n_pairs == len(common) == 10


@pytest.mark.slow
def test_kedro_run_goes_end_to_end_and_a_second_run_reuses(toy_run):
    project = toy_run  # after its first `kedro run`, with a HEAR module among the embeddings
    times = pd.read_csv(project / "node_times.csv")  # the timing hook of the benchmark
    assert {"prepare_synthetic_corpus", "build_report"} <= {n.split(".")[-1] for n in times["node"]}
    assert (times["seconds"] >= 0).all() and times["node"].is_unique
    data = project / "data"
    table1 = pd.read_csv(next((data / "08_reporting/paper_table1.csv").glob("*/*.csv")))
    assert set(table1["variant"]) == {"l3_mel128_music", "l3_mel256_env"}
    assert set(table1["test_subset"]) == {"music", "environmental"}
    results = pd.read_parquet(
        next((data / "07_model_output/downstream_results.parquet").glob("*/*.parquet"))
    )
    assert {
        "l3_mel128_music",
        "l3_mel256_env",
        "l3_mel128_music_s16",
        "handcrafted",
        "hear_logmel",
    } == set(results["embedding"])
    assert set(results.loc[results["embedding"] == "hear_logmel", "kind"]) == {"hear"}
    checkpoint = results[results["embedding"] == "l3_mel128_music_s16"].iloc[0]
    assert checkpoint["selection"] == "checkpoint" and checkpoint["samples_seen"] == 16
    report = next((data / "08_reporting/report.html").glob("*/report.html")).read_text()
    assert (data / "08_reporting/latest/report.html").read_text() == report
    assert "Table 1" in report and "needs avc_training results" not in report
    clips = pd.read_parquet(next((data / "03_primary/us8k/clips.parquet").glob("*/*.parquet")))
    assert sorted(clips["fold"].unique()) == list(range(1, 11))  # refold of the 2-fold subset
    assert (clips.groupby("source_id")["fold"].nunique() == 1).all()
    significance = pd.read_csv(
        next((data / "08_reporting/design_choice_significance.csv").glob("*/*.csv"))
    )
    _check_design_choice_means(significance, results)
    hear_test = significance[
        (significance["factor"] == "kind") & (significance["level_b"] == "hear")
    ]
    assert hear_test["status"].tolist() == ["tested"] and hear_test["p"].notna().all()
    assert "hear" in report

    mlflow.set_tracking_uri(f"sqlite:///{project / 'mlflow.db'}")
    try:
        runs = mlflow.search_runs(experiment_names=["l3_kedro"], max_results=1000)
        experiment = mlflow.get_experiment_by_name("l3_kedro")
        avc_runs = runs[runs["tags.l3_kedro.kind"] == "avc_training"]
        client = mlflow.MlflowClient()
        curve = client.get_metric_history(avc_runs["run_id"].iloc[0], "val_accuracy")
        registered = client.search_model_versions()
        checkpoints = [
            a.path for a in client.list_artifacts(avc_runs["run_id"].iloc[0], "checkpoints")
        ]
        parent_id = runs.loc[runs["tags.mlflow.parentRunId"].isna(), "run_id"].iloc[0]
        embed_artifacts = [a.path for a in client.list_artifacts(parent_id, "embed")]
    finally:
        mlflow.set_tracking_uri(None)
    # logged live, once per epoch, against samples seen (2 epochs x 2 batches of 8 pairs)
    assert sorted(m.step for m in curve) == [16, 32]
    # each checkpoint as it is written (every 16 samples)
    assert checkpoints == ["checkpoints/samples_16.keras", "checkpoints/samples_32.keras"]
    # the embed stage's store facts, in the Kedro run's MLflow run and in the catalog
    assert embed_artifacts == ["embed/embedding_stores.csv"]
    stores = pd.read_csv(next((data / "08_reporting/embedding_stores.csv").glob("*/*.csv")))
    assert set(stores["embedding"]) == set(results["embedding"])
    assert (stores["n_clips"] == len(clips)).all() and (stores["n_skipped"] == 0).all()
    # avc_training hands embed one index of every model, best and checkpoints
    index = json.loads(next((data / "06_models/avc/trained_models.json").glob("*/*")).read_text())
    assert set(index) == {
        f"{v}{s}" for v in ("l3_mel128_music", "l3_mel256_env") for s in ("", "_s16", "_s32")
    }
    assert set(avc_runs["run_id"]) == {e["info"]["mlflow_run_id"] for e in index.values()}
    assert (avc_runs["tags.l3_kedro.awaiting_summary"] == "false").all()
    assert avc_runs["tags.l3_kedro.run_key"].str.startswith("avc_training/").all()
    # the best model of each variant, as an MLflow model, registered under the variant's name
    assert sorted(v.name for v in registered) == ["l3_mel128_music", "l3_mel256_env"]
    assert {v.run_id for v in registered} == set(avc_runs["run_id"])
    trained = runs[runs["tags.l3_kedro.embedding"].isin(["l3_mel128_music", "l3_mel256_env"])]
    assert set(trained["tags.l3_kedro.source_model"]) == {"l3_mel128_music/1", "l3_mel256_env/1"}
    assert set(trained["tags.l3_kedro.source_run_id"]) == set(avc_runs["run_id"])
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    parent = runs[runs["tags.mlflow.parentRunId"].isna()].iloc[0]
    assert parent["tags.mlflow.runName"].startswith("all pipelines · local · ")
    assert parent["tags.runner"] == "SequentialRunner"
    assert parent["tags.l3_kedro.env"] == "local"
    assert len(parent["tags.l3_kedro.params_digest"]) == 12
    kinds = runs["tags.l3_kedro.kind"].value_counts().to_dict()
    # one tag vocabulary across run kinds: the mel128 music variant's AVC and downstream runs
    mel128_music = runs[
        (runs["tags.l3_kedro.input_repr"] == "mel128") & (runs["tags.l3_kedro.subset"] == "music")
    ]
    assert {"avc_training", "downstream"} <= set(mel128_music["tags.l3_kedro.kind"])
    downstream = runs[runs["tags.l3_kedro.kind"] == "downstream"]
    listed = pd.read_csv(next((data / "08_reporting/downstream_runs.csv").glob("*/*.csv")))
    assert set(listed["mlflow_run_id"]) == set(downstream["run_id"])
    assert downstream["tags.l3_kedro.embedding_kind"].notna().all()
    assert set(downstream["tags.l3_kedro.dataset"]) == {"us8k"}
    assert kinds["avc_training"] == 2
    assert kinds["downstream"] == 5
    assert kinds["significance"] >= 1
    tests = runs[runs["tags.l3_kedro.kind"] == "significance"]
    tested = significance["status"] == "tested"
    assert (tests["tags.l3_kedro.status"] == "tested").sum() == tested.sum()
    assert tests["metrics.p"].notna().sum() == significance["p"].notna().sum()

    state = data / "06_models/avc_training/l3_mel128_music/state.json"
    trained_at = state.stat().st_mtime_ns
    first_store = next((data / "04_feature/us8k/l3_mel128_music.h5").glob("*/*.h5"))
    kedro_run(project)
    assert state.stat().st_mtime_ns == trained_at  # training reused, not redone
    stores = sorted((data / "04_feature/us8k/l3_mel128_music.h5").glob("*/*.h5"))
    assert len(stores) == 2  # a new version ...
    assert stores[1].stat().st_ino == first_store.stat().st_ino  # ... linked to the first
    versions = list((data / "06_models/avc/l3_mel128_music/best.keras").iterdir())
    assert len(versions) == 2
