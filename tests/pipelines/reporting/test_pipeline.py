"""``reporting``: tests, figures, tables and a self-contained report from a results table."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from matplotlib.figure import Figure

from l3_kedro.datasets import MlflowVariantRunsDataset
from l3_kedro.errors import ParameterError
from l3_kedro.pipelines.reporting.nodes import ReportingConfig, compare_design_choices_node
from l3_kedro.pipelines.reporting.pipeline import create_pipeline
from l3_kedro.project.config import load_parameters
from tests.conftest import use_private_mlflow_store

FIGURES = ("input_repr_figure", "training_subset_figure", "samples_seen_figure", "embedding_figure")


class KeptDataset(MemoryDataset):
    """A MemoryDataset the runner cannot release, so tests can read intermediate outputs."""

    def _release(self) -> None:
        pass


def _rows(embedding: str, accuracy: float, *, folds: int, **design) -> list[dict]:
    rng = np.random.default_rng(abs(hash(embedding)) % 2**32)
    base = {
        "embedding": embedding,
        "kind": embedding,
        "input_repr": None,
        "subset": None,
        "samples_seen": np.nan,
        "width": np.nan,
        "embedding_size": 512,
        "hop_size": 0.5,
        "seed": 0,
        "n_test_clips": 40,
    }
    return [
        {
            **base,
            **design,
            "dataset": dataset,
            "fold": fold,
            "clip_accuracy": float(np.clip(accuracy + rng.normal(0, 0.02), 0, 1)),
        }
        for dataset in ("us8k", "fsdd")
        for fold in range(1, folds + 1)
    ]


@pytest.fixture
def baselines_only() -> pd.DataFrame:
    """Rows like today's runs: an untrained L3, SoundNet and hand-crafted features, 2 folds."""
    return pd.DataFrame(
        _rows(
            "l3_random_mel256",
            0.45,
            folds=2,
            kind="l3_random",
            input_repr="mel256",
            subset="none",
            samples_seen=0.0,
        )
        + _rows("soundnet", 0.6, folds=2)
        + _rows("handcrafted", 0.5, folds=2)
    )


@pytest.fixture
def with_l3(baselines_only) -> pd.DataFrame:
    """Baselines plus trained L3 variants over two representations and subsets, 10 folds."""
    rows = []
    for repr_, acc in (("mel256", 0.8), ("linear", 0.7)):
        for subset in ("music", "environmental"):
            rows += _rows(
                f"l3_{repr_}_{subset}",
                acc,
                folds=10,
                kind="l3",
                input_repr=repr_,
                subset=subset,
                samples_seen=4.0e7,
            )
    return pd.concat(
        [baselines_only, pd.DataFrame(rows), pd.DataFrame(_rows("soundnet", 0.6, folds=10))],
        ignore_index=True,
    ).drop_duplicates(subset=["embedding", "dataset", "fold"])


def _run(results: pd.DataFrame, tmp_path, avc: pd.DataFrame | None = None) -> DataCatalog:
    params = load_parameters(env="base")["reporting"]
    params["n_resamples"] = 200
    outputs = [
        "design_choice_significance",
        "paper_table1",
        "paper_table2",
        "report_html",
        "report_markdown",
    ]
    catalog = DataCatalog(
        {
            "downstream_results": MemoryDataset(results),
            "avc_test_accuracy@optional": MemoryDataset(
                pd.DataFrame() if avc is None else avc, copy_mode="assign"
            ),
            "params:reporting": MemoryDataset(params),
            "significance_mlflow_runs": MlflowVariantRunsDataset(),
            **{name: KeptDataset(copy_mode="assign") for name in (*FIGURES, *outputs)},
        }
    )
    use_private_mlflow_store(tmp_path, "reporting")
    try:
        with mlflow.start_run():
            SequentialRunner().run(create_pipeline(), catalog)
    finally:
        mlflow.set_tracking_uri(None)
    return catalog


def test_report_with_only_baselines_says_what_is_missing(baselines_only, tmp_path):
    catalog = _run(baselines_only, tmp_path)
    for name in FIGURES:
        assert isinstance(catalog[name].load(), Figure)
    significance = catalog["design_choice_significance"].load()
    assert len(significance) == 2 * 9  # datasets x conf/base comparisons
    assert significance["status"].str.startswith("missing").all()
    table2 = catalog["paper_table2"].load()
    assert set(table2["dataset"]) == {"us8k", "fsdd", "esc50", "dcase2013"}
    l3_us8k = table2[(table2["dataset"] == "us8k") & (table2["kind"] == "l3")].iloc[0]
    assert l3_us8k["status"] == "no results yet" and l3_us8k["paper_accuracy"] == 79.34
    html = catalog["report_html"].load()
    assert html.count("data:image/png;base64,") == 4
    assert "What is missing" in html
    assert "no results for embedding kind &#x27;l3&#x27; yet" in html
    assert "Table 1" in html
    assert "no results for embedding kind 'vggish' yet" in catalog["report_markdown"].load()


def test_report_with_l3_variants_tests_and_logs_each_comparison(with_l3, tmp_path):
    catalog = _run(with_l3, tmp_path)
    significance = catalog["design_choice_significance"].load()
    mel_vs_linear = significance[
        (significance["dataset"] == "us8k")
        & (significance["level_a"] == "mel256")
        & (significance["level_b"] == "linear")
    ].iloc[0]
    assert mel_vs_linear["status"] == "tested" and mel_vs_linear["mean_diff"] > 0
    table2 = catalog["paper_table2"].load()
    best = table2[(table2["dataset"] == "us8k") & (table2["kind"] == "l3")].iloc[0]
    assert best["embedding"].startswith("l3_mel256") and best["n_folds"] == 10
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    try:
        runs = mlflow.search_runs(
            experiment_names=["reporting"], filter_string="tags.`l3_kedro.kind` = 'significance'"
        )
    finally:
        mlflow.set_tracking_uri(None)
    assert len(runs) == len(significance)
    row = runs[runs["tags.mlflow.runName"] == "us8k / input_repr: mel256 vs linear"].iloc[0]
    assert row["tags.l3_kedro.status"] == "tested" and row["metrics.p"] < 0.05
    assert row["params.p_method"] == "exact" and row["params.pairing"] == "fold"
    for metric in ("p_holm", "p_normal_approx", "effect_size", "ci_low", "ci_high", "mean_diff"):
        assert np.isfinite(row[f"metrics.{metric}"]), metric
    assert row["params.embeddings_a"] == "l3_mel256_environmental+l3_mel256_music"
    untested = runs[runs["tags.l3_kedro.status"] != "tested"]
    assert len(untested) and untested["tags.l3_kedro.status_reason"].str.len().gt(0).all()
    assert untested["metrics.p"].isna().all()


def test_mixed_kinds_never_share_a_design_choice_level(with_l3):
    """The untrained control's input_repr is mel256: it must not enter the mel256 level."""
    params = load_parameters(env="base")["reporting"]
    params["n_resamples"] = 100
    table = compare_design_choices_node(with_l3, ReportingConfig.from_parameters(params))
    for dataset in ("us8k", "fsdd"):
        row = table[
            (table["dataset"] == dataset)
            & (table["factor"] == "input_repr")
            & (table["level_a"] == "mel256")
            & (table["level_b"] == "linear")
        ].iloc[0]
        trained = with_l3[(with_l3["dataset"] == dataset) & (with_l3["kind"] == "l3")]
        trained = trained[
            trained["fold"].isin(trained.loc[trained["input_repr"] == "linear", "fold"])
        ]
        expected = trained.loc[trained["input_repr"] == "mel256", "clip_accuracy"].mean()
        assert row["mean_a"] == pytest.approx(expected)


def test_unknown_reporting_key_names_the_file():
    with pytest.raises(ParameterError, match=r"parameters_reporting\.yml"):
        ReportingConfig.from_parameters({"comparisons": [], "paper_table2": {}, "alhpa": 0.1})


def test_empty_results_table_still_reports(tmp_path):
    columns = [
        "embedding",
        "kind",
        "input_repr",
        "subset",
        "samples_seen",
        "dataset",
        "fold",
        "clip_accuracy",
    ]
    empty = pd.DataFrame(columns=columns)
    config = ReportingConfig.from_parameters(load_parameters(env="base")["reporting"])
    table = compare_design_choices_node(empty, config)
    assert table.empty
    catalog = _run(empty, tmp_path)
    assert "data:image/png;base64," in catalog["report_html"].load()


def _avc_rows() -> pd.DataFrame:
    rows = []
    for repr_ in ("linear", "mel128", "mel256"):
        for train in ("music", "environmental"):
            for test in ("music", "environmental"):
                rows.append(
                    {
                        "variant": f"l3_{repr_}_{train[:3]}",
                        "input_repr": repr_,
                        "train_subset": train,
                        "test_subset": test,
                        "accuracy": 0.9 if train == test else 0.6,
                        "loss": 0.3,
                        "n_pairs": 256,
                        "samples_seen": 3072,
                    }
                )
    return pd.DataFrame(rows)


def test_table1_sits_beside_the_papers_numbers(baselines_only, tmp_path):
    catalog = _run(baselines_only, tmp_path, avc=_avc_rows())
    table1 = catalog["paper_table1"].load()
    assert len(table1) == 12
    assert table1["input_repr"].tolist()[:4] == ["linear"] * 4
    m256 = table1[(table1["input_repr"] == "mel256") & (table1["train_subset"] == "music")]
    music = m256[m256["test_subset"] == "music"].iloc[0]
    assert music["accuracy"] == pytest.approx(90.0) and music["paper_accuracy"] == 77.04
    assert music["difference"] == pytest.approx(90.0 - 77.04)
    assert table1.loc[table1["input_repr"] == "linear", "paper_accuracy"].isna().all()
    html = catalog["report_html"].load()
    assert "Table 1" in html and "77.04" in html
    assert "needs avc_training results" not in html


def test_checkpoints_only_feed_the_amount_of_data_curve(with_l3):
    from l3_kedro.results import checkpoint_curves, final_models

    results = with_l3.assign(selection="best_validation")
    checkpoint = results[results["embedding"] == results["embedding"].iloc[0]].assign(
        embedding="early", selection="checkpoint", samples_seen=1, clip_accuracy=0.1
    )
    both = pd.concat([results, checkpoint], ignore_index=True)
    assert "early" not in set(final_models(both)["embedding"])
    curve = checkpoint_curves(both)
    assert "early" in set(curve["embedding"])
    first = results.iloc[0]
    same_variant = (curve["input_repr"] == first["input_repr"]) & (
        curve["subset"] == first["subset"]
    )
    assert same_variant.all() and curve["samples_seen"].nunique() == 2
    assert checkpoint_curves(results).empty
