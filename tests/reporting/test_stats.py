"""Tests of the design-choice statistics (paired units, Wilcoxon, Holm)."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from l3_kedro.errors import ParameterError, ReportingError
from l3_kedro.reporting import (
    TABLE_COLUMNS,
    bootstrap_mean_ci,
    compare_design_choices,
    holm_correction,
    min_exact_p,
    paired_units,
    rank_biserial,
    wilcoxon_comparison,
)

# Differences a - b of n = 6 pairs. |d| ranks by hand: 1, 2, 3, 4, 5, 6;
# R+ = 1 + 2 + 4 + 5 + 6 = 18, R- = 3, T = min = 3. Exact null: the subsets of
# {1..6} with rank sum <= 3 are {}, {1}, {2}, {3}, {1, 2}: 5 of 64, so the
# two-sided p = 2 * 5 / 64 = 0.15625. Rank-biserial = (18 - 3) / 21 = 5 / 7.
HAND_DIFFS = [0.01, 0.02, -0.03, 0.04, 0.05, 0.06]


def _pairs(diffs, base=0.5):
    diffs = np.asarray(diffs, dtype=float)
    return pd.DataFrame({"value_a": base + diffs, "value_b": np.full(diffs.size, base)})


def _row(embedding, input_repr, subset, fold, accuracy, *, dataset="us8k"):
    return {
        "embedding": embedding,
        "kind": "l3",
        "input_repr": input_repr,
        "subset": subset,
        "samples_seen": 40_000_000,
        "width": 1.0,
        "embedding_size": 6144,
        "hop_size": 0.1,
        "dataset": dataset,
        "fold": fold,
        "seed": 0,
        "clip_accuracy": accuracy,
    }


@pytest.fixture
def results() -> pd.DataFrame:
    """mel256 on folds 1-3 for both subsets; linear on folds 1-2 (both) and 4 (music)."""
    rows = [
        _row(f"l3_mel256_{s}", "mel256", s, f, 0.70 + 0.01 * f + (0.02 if s == "env" else 0.0))
        for f, s in itertools.product((1, 2, 3), ("music", "env"))
    ]
    rows += [
        _row(f"l3_linear_{s}", "linear", s, f, 0.60 + 0.01 * f + (0.04 if s == "env" else 0.0))
        for f, s in itertools.product((1, 2), ("music", "env"))
    ]
    rows.append(_row("l3_linear_music", "linear", "music", 4, 0.5))
    rows.append(_row("l3_linear_music", "linear", "music", 1, 0.9, dataset="esc50"))
    return pd.DataFrame(rows)


def test_hand_wilcoxon_matches_scipy():
    test = wilcoxon_comparison(_pairs(HAND_DIFFS))
    assert test.status == "tested"
    assert test.n == test.n_nonzero == 6
    assert test.statistic == 3.0
    assert test.p == pytest.approx(10 / 64)
    reference = stats.wilcoxon(np.asarray(HAND_DIFFS), method="exact")
    assert test.statistic == reference.statistic
    assert test.p == pytest.approx(reference.pvalue)
    assert test.significant is False
    assert test.effect_size == pytest.approx(5 / 7)
    assert test.mean_diff == pytest.approx(np.mean(HAND_DIFFS))


def test_rank_biserial_hand_example_with_ties_and_zero():
    # zero dropped; |d| = 1, 2, 2, 3 -> ranks 1, 2.5, 2.5, 4; R+ = 1 + 2.5 + 4 = 7.5, R- = 2.5.
    assert rank_biserial([1, -2, 2, 0, 3]) == pytest.approx((7.5 - 2.5) / 10)
    assert rank_biserial([1, 2, 3]) == 1.0
    assert rank_biserial([-1, -2]) == -1.0
    assert rank_biserial([0, 0]) is None


def test_not_testable_at_n5_testable_at_n6():
    assert min_exact_p(5) == 0.0625
    assert min_exact_p(6) == 0.03125
    five = wilcoxon_comparison(_pairs([0.01, 0.02, 0.03, 0.04, 0.05]))
    assert five.p is None
    assert five.significant is False
    assert five.status.startswith("not testable: 5 non-zero pairs")
    six = wilcoxon_comparison(_pairs([0.01, 0.02, 0.03, 0.04, 0.05, 0.06]))
    assert six.status == "tested"
    assert six.p == pytest.approx(2 / 64)
    assert six.significant is True
    assert six.effect_size == 1.0


def test_zero_differences_are_dropped_before_the_n_rule():
    test = wilcoxon_comparison(_pairs([0.0, 0.01, 0.02, 0.03, 0.04, 0.05]))
    assert (test.n, test.n_nonzero) == (6, 5)
    assert test.p is None
    assert test.status.startswith("not testable")


def test_all_zero_differences():
    test = wilcoxon_comparison(_pairs([0.0] * 8))
    assert test.status == "not testable: all differences are zero"
    assert test.p is None
    assert test.statistic is None
    assert test.effect_size is None
    assert test.mean_diff == 0.0
    assert test.ci_low == test.ci_high == 0.0


def test_no_pairs():
    test = wilcoxon_comparison(_pairs([]))
    assert test.status == "not testable: no matched pairs"
    assert test.p is None


def test_bootstrap_ci_is_seeded_and_contains_the_mean(rng):
    diffs = rng.normal(0.02, 0.01, size=10)
    first = bootstrap_mean_ci(diffs, seed=3)
    assert first == bootstrap_mean_ci(diffs, seed=3)
    assert first != bootstrap_mean_ci(diffs, seed=4)
    assert first[0] <= diffs.mean() <= first[1]
    test = wilcoxon_comparison(_pairs(diffs), seed=3)
    assert (test.ci_low, test.ci_high) == pytest.approx(first)  # a - b rounds in the last bit
    with pytest.raises(ParameterError):
        bootstrap_mean_ci([], seed=0)


def test_holm_hand_example():
    # valid m = 4; sorted 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 -> max(0.06, 0.04).
    adjusted = holm_correction([0.01, 0.04, 0.03, None, 0.005])
    assert adjusted[3] is None
    assert adjusted[:3] + adjusted[4:] == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm_correction([0.5, 0.6]) == [1.0, 1.0]
    assert holm_correction([float("nan"), 0.2]) == [None, 0.2]
    assert holm_correction([]) == []
    with pytest.raises(ParameterError):
        holm_correction([1.5])


def test_paired_units_averages_over_other_variations(results):
    before = results.copy()
    pairs = paired_units(results, factor="input_repr", levels=("mel256", "linear"), dataset="us8k")
    pd.testing.assert_frame_equal(results, before)
    assert pairs["fold"].tolist() == [1, 2]
    # mel256 fold 1: mean(0.71, 0.73) = 0.72; linear fold 1: mean(0.61, 0.65) = 0.63.
    assert pairs["value_a"].tolist() == pytest.approx([0.72, 0.73])
    assert pairs["value_b"].tolist() == pytest.approx([0.63, 0.64])
    assert pairs[["n_rows_a", "n_rows_b"]].to_numpy().tolist() == [[2, 2], [2, 2]]
    assert pairs[["value_a", "value_b"]].notna().all().all()
    assert pairs.attrs["n_unmatched"] == 2  # fold 3 (mel256 only), fold 4 (linear only)


def test_paired_units_keeps_variations_not_averaged_as_units(results):
    pairs = paired_units(
        results, factor="input_repr", levels=("mel256", "linear"), dataset="us8k", average_over=()
    )
    assert sorted(zip(pairs["fold"], pairs["subset"], strict=True)) == [
        (1, "env"),
        (1, "music"),
        (2, "env"),
        (2, "music"),
    ]
    assert (pairs[["n_rows_a", "n_rows_b"]] == 1).all().all()
    # fold 3 music/env (mel256 only) and fold 4 music (linear only)
    assert pairs.attrs["n_unmatched"] == 3


def test_paired_units_errors(results):
    with pytest.raises(ParameterError):
        paired_units(results, factor="input_repr", levels=("mel256",), dataset="us8k")
    with pytest.raises(ParameterError):
        paired_units(results, factor="input_repr", levels=("a", "a"), dataset="us8k")
    with pytest.raises(ReportingError, match="input_rep"):
        paired_units(results, factor="input_rep", levels=("a", "b"), dataset="us8k")


def test_compare_design_choices_reports_tested_untestable_and_missing():
    rows = [_row("m", "mel256", "music", f, 0.7 + 0.01 * f) for f in range(1, 7)]
    rows += [_row("l", "linear", "music", f, 0.6) for f in range(1, 7)]
    rows += [_row("m", "mel256", "music", f, 0.7, dataset="esc50") for f in range(1, 6)]
    rows += [_row("l", "linear", "music", f, 0.6, dataset="esc50") for f in range(1, 6)]
    comparisons = [
        {"factor": "input_repr", "levels": ["mel256", "linear"]},
        {"factor": "input_repr", "levels": ["mel128", "linear"]},
    ]
    table = compare_design_choices(pd.DataFrame(rows), comparisons=comparisons, n_resamples=500)
    assert list(table.columns) == list(TABLE_COLUMNS)
    by = table.set_index(["dataset", "level_a"])
    tested = by.loc[("us8k", "mel256")]
    assert tested["status"] == "tested"
    assert tested["n_pairs"] == 6
    assert tested["p"] == pytest.approx(2 / 64)
    assert tested["p_holm"] == pytest.approx(2 / 64)  # the only test of the family
    assert bool(tested["significant"]) and bool(tested["significant_holm"])
    assert tested["mean_diff"] == pytest.approx(0.135)
    assert tested["ci_low"] <= tested["mean_diff"] <= tested["ci_high"]
    assert by.loc[("esc50", "mel256"), "status"].startswith("not testable: 5 non-zero pairs")
    assert np.isnan(by.loc[("esc50", "mel256"), "p"])
    for dataset in ("us8k", "esc50"):
        assert by.loc[(dataset, "mel128"), "status"] == "missing: mel128 has no results"
        assert by.loc[(dataset, "mel128"), "n_pairs"] == 0
    only = compare_design_choices(
        pd.DataFrame(rows), comparisons=comparisons[:1], datasets=["dcase"]
    )
    assert only.loc[0, "status"] == "missing: mel256 and linear have no results"


def test_compare_design_choices_holm_family_spans_the_table(rng):
    rows = []
    for dataset, shift in (("us8k", 0.05), ("esc50", -0.002)):
        for fold in range(1, 9):
            noise = rng.normal(0, 0.01)
            rows.append(_row("m", "mel256", "music", fold, 0.7 + shift + noise, dataset=dataset))
            rows.append(_row("l", "linear", "music", fold, 0.7, dataset=dataset))
    spec = [{"factor": "input_repr", "levels": ("mel256", "linear")}]
    table = compare_design_choices(pd.DataFrame(rows), comparisons=spec, n_resamples=200)
    expected = holm_correction(table["p"].tolist())
    assert table["p_holm"].tolist() == pytest.approx(expected)
    assert (table["p_holm"] >= table["p"]).all()


def test_compare_design_choices_rejects_bad_specs(results):
    with pytest.raises(ParameterError):
        compare_design_choices(results, comparisons=[{"factor": "input_repr"}])
    with pytest.raises(ParameterError):
        compare_design_choices(
            results, comparisons=[{"factor": "input_repr", "levels": ("a", "b"), "typo": 1}]
        )
    with pytest.raises(ParameterError):
        compare_design_choices(results, comparisons=[], alpha=1.5)
    empty = compare_design_choices(results, comparisons=[])
    assert empty.empty
    assert list(empty.columns) == list(TABLE_COLUMNS)
