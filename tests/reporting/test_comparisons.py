"""Tests of how design-choice comparisons are formed: groups, pairing units, the table."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from l3_kedro.errors import ParameterError, ReportingError
from l3_kedro.reporting import (
    TABLE_COLUMNS,
    Comparison,
    compare_design_choices,
    holm_correction,
    paired_units,
)


def _row(embedding, input_repr, subset, fold, accuracy, *, kind="l3", dataset="us8k"):
    return {
        "embedding": embedding,
        "kind": kind,
        "input_repr": input_repr,
        "subset": subset,
        "samples_seen": 40_000_000 if kind == "l3" else None,
        "width": 1.0,
        "embedding_size": 6144,
        "hop_size": 0.1,
        "dataset": dataset,
        "fold": fold,
        "seed": 0,
        "clip_accuracy": accuracy,
    }


def _spec(factor, a, b, **extra):
    return Comparison.from_mapping(
        {"factor": factor, "levels": [a, b], **extra}, metric="clip_accuracy"
    )


def _design_matrix(n_folds: int, *, rng: np.random.Generator) -> pd.DataFrame:
    """Six trained variants, the random-init control (mel256) and two baselines."""
    base = {"linear": 0.50, "mel128": 0.58, "mel256": 0.62}
    rows = []
    for fold in range(1, n_folds + 1):
        for (repr_, level), subset in itertools.product(base.items(), ("music", "environmental")):
            score = level + (0.02 if subset == "music" else 0.0) + rng.normal(0, 0.01)
            rows.append(_row(f"l3_{repr_}_{subset[:3]}", repr_, subset, fold, score))
        rows.append(_row("l3_random_mel256", "mel256", None, fold, 0.30, kind="l3_random"))
        rows.append(_row("soundnet", None, None, fold, 0.55 + rng.normal(0, 0.01), kind="soundnet"))
        rows.append(_row("handcrafted", None, None, fold, 0.45, kind="handcrafted"))
    return pd.DataFrame(rows)


@pytest.fixture
def matrix(rng) -> pd.DataFrame:
    return _design_matrix(8, rng=rng)


def test_paired_units_averages_each_level_per_unit_and_counts_the_unmatched():
    rows_a = pd.DataFrame({"fold": [1, 1, 2, 3], "acc": [0.7, 0.8, 0.6, 0.5]})
    rows_b = pd.DataFrame({"fold": [1, 2, 4], "acc": [0.5, 0.4, 0.9]})
    before = rows_a.copy()
    pairs = paired_units(rows_a, rows_b, units=["fold"], metric="acc")
    pd.testing.assert_frame_equal(rows_a, before)
    assert pairs["fold"].tolist() == [1, 2]
    assert pairs["value_a"].tolist() == pytest.approx([0.75, 0.6])
    assert pairs["value_b"].tolist() == pytest.approx([0.5, 0.4])
    assert pairs[["n_rows_a", "n_rows_b"]].to_numpy().tolist() == [[2, 1], [1, 1]]
    assert pairs.attrs["n_unmatched"] == 2  # fold 3 (a only), fold 4 (b only)


def test_design_choices_compare_trained_variants_only(matrix):
    """The random-init tower (input_repr mel256) and the baselines never enter a level."""
    table = compare_design_choices(
        matrix,
        comparisons=[
            _spec("input_repr", "mel256", "linear"),
            _spec("subset", "music", "environmental"),
        ],
        n_resamples=200,
    ).set_index("factor")
    trained = matrix[matrix["kind"] == "l3"]
    for factor, (a, b) in (
        ("input_repr", ("mel256", "linear")),
        ("subset", ("music", "environmental")),
    ):
        row = table.loc[factor]
        assert row["mean_a"] == pytest.approx(
            trained.loc[trained[factor] == a, "clip_accuracy"].mean()
        )
        assert row["mean_b"] == pytest.approx(
            trained.loc[trained[factor] == b, "clip_accuracy"].mean()
        )
        assert "l3_random" not in row["embeddings_a"] + row["embeddings_b"]
    assert table.loc["input_repr", "embeddings_a"] == "l3_mel256_env+l3_mel256_mus"


def test_trained_kinds_are_configurable(matrix):
    with_control = compare_design_choices(
        matrix,
        comparisons=[_spec("input_repr", "mel256", "linear")],
        trained_kinds=("l3", "l3_random"),
        n_resamples=100,
    )
    assert "l3_random_mel256" in with_control.loc[0, "embeddings_a"]


def test_kind_comparisons_use_the_best_variant_or_the_mean(matrix):
    spec = [_spec("kind", "l3", "soundnet"), _spec("kind", "l3", "l3_random")]
    best = compare_design_choices(matrix, comparisons=spec, n_resamples=100)
    l3 = matrix[matrix["kind"] == "l3"]
    winner = l3.groupby("embedding")["clip_accuracy"].mean().idxmax()
    assert winner.startswith("l3_mel256_mus")
    assert (best["embeddings_a"] == winner).all()
    assert best.loc[0, "embeddings_b"] == "soundnet"
    assert best.loc[0, "mean_a"] == pytest.approx(
        l3.loc[l3["embedding"] == winner, "clip_accuracy"].mean()
    )
    assert (best["pairing"] == "fold").all()
    assert (best["n_pairs"] == 8).all()
    mean = compare_design_choices(
        matrix, comparisons=spec, kind_representative="mean", n_resamples=100
    )
    assert mean.loc[0, "mean_a"] == pytest.approx(l3["clip_accuracy"].mean())
    assert mean.loc[0, "embeddings_a"].count("+") == 5  # all six variants


def test_fold_pairing_averages_the_other_variations(matrix):
    table = compare_design_choices(
        matrix, comparisons=[_spec("input_repr", "mel256", "linear")], n_resamples=100
    )
    assert table.loc[0, "pairing"] == "fold"
    assert table.loc[0, "n_pairs"] == 8
    assert table.loc[0, "status"] == "tested"
    assert table.loc[0, "p"] == pytest.approx(2 / 2**8)  # every fold favours mel256


def test_fold_x_variation_pairs_each_level_of_the_choices_not_under_test(matrix):
    spec = [
        _spec("input_repr", "mel256", "linear"),
        _spec("subset", "music", "environmental"),
        _spec("kind", "l3", "soundnet"),
    ]
    table = compare_design_choices(
        matrix, comparisons=spec, pairing="fold_x_variation", n_resamples=100
    )
    by = table.set_index("factor")
    assert by.loc["input_repr", "pairing"] == "fold x subset"
    assert by.loc["input_repr", "n_pairs"] == 16
    assert by.loc["subset", "pairing"] == "fold x input_repr"
    assert by.loc["subset", "n_pairs"] == 24
    assert by.loc["kind", "pairing"] == "fold"  # a baseline has no training subset
    assert by.loc["kind", "n_pairs"] == 8
    # a comparison can choose its own pairing
    own = compare_design_choices(
        matrix,
        comparisons=[_spec("input_repr", "mel256", "linear", pairing="fold_x_variation")],
        n_resamples=100,
    )
    assert own.loc[0, "n_pairs"] == 16


def test_five_folds_are_not_testable_with_fold_pairing_but_are_with_fold_x_variation(rng):
    esc50 = _design_matrix(5, rng=rng)
    spec = [_spec("input_repr", "mel256", "linear")]
    by_fold = compare_design_choices(esc50, comparisons=spec, n_resamples=100)
    assert by_fold.loc[0, "status"].startswith("not testable: 5 non-zero pairs")
    assert np.isnan(by_fold.loc[0, "p"])
    assert by_fold.loc[0, "p_normal_approx"] < 0.05  # what scipy gave the paper
    by_variation = compare_design_choices(
        esc50, comparisons=spec, pairing="fold_x_variation", n_resamples=100
    )
    assert by_variation.loc[0, "status"] == "tested"
    assert by_variation.loc[0, "p"] < 0.05


def test_missing_levels_and_datasets_are_reported_not_raised(matrix):
    spec = [_spec("input_repr", "mel256", "linear"), _spec("kind", "l3", "vggish")]
    table = compare_design_choices(
        matrix, comparisons=spec, datasets=["us8k", "esc50"], n_resamples=100
    )
    by = table.set_index(["dataset", "level_b"])
    assert by.loc[("us8k", "vggish"), "status"] == "missing: vggish has no results"
    assert by.loc[("esc50", "linear"), "status"] == "missing: mel256 and linear have no results"
    assert (table.loc[table["status"].str.startswith("missing"), "n_pairs"] == 0).all()


def test_holm_family_spans_the_whole_table(rng):
    rows = []
    for dataset, shift in (("us8k", 0.05), ("esc50", -0.002)):
        for fold in range(1, 9):
            rows.append(
                _row(
                    "m", "mel256", "music", fold, 0.7 + shift + rng.normal(0, 0.01), dataset=dataset
                )
            )
            rows.append(_row("l", "linear", "music", fold, 0.7, dataset=dataset))
    table = compare_design_choices(
        pd.DataFrame(rows), comparisons=[_spec("input_repr", "mel256", "linear")], n_resamples=100
    )
    assert list(table.columns) == list(TABLE_COLUMNS)
    assert table["p_holm"].tolist() == pytest.approx(holm_correction(table["p"].tolist()))
    assert (table["p_holm"] >= table["p"]).all()


def test_bad_specifications_name_the_parameter(matrix):
    with pytest.raises(ParameterError, match="factor and levels"):
        Comparison.from_mapping({"factor": "input_repr"}, metric="clip_accuracy")
    with pytest.raises(ParameterError, match="typo"):
        Comparison.from_mapping({"factor": "kind", "levels": ["a", "b"], "typo": 1}, metric="m")
    with pytest.raises(ParameterError, match="two different values"):
        Comparison.from_mapping({"factor": "kind", "levels": ["a", "a"]}, metric="m")
    with pytest.raises(ParameterError, match="pairing"):
        Comparison.from_mapping(
            {"factor": "kind", "levels": ["a", "b"], "pairing": "clip"}, metric="m"
        )
    with pytest.raises(ParameterError, match=r"reporting\.pairing"):
        compare_design_choices(matrix, comparisons=[], pairing="clip")
    with pytest.raises(ParameterError, match="kind_representative"):
        compare_design_choices(matrix, comparisons=[], kind_representative="median")
    with pytest.raises(ParameterError, match="alpha"):
        compare_design_choices(matrix, comparisons=[], alpha=1.5)
    with pytest.raises(ReportingError, match="input_rep"):
        compare_design_choices(matrix, comparisons=[_spec("input_rep", "a", "b")])
    empty = compare_design_choices(matrix, comparisons=[])
    assert empty.empty
    assert list(empty.columns) == list(TABLE_COLUMNS)
