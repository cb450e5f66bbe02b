"""Tests of the Wilcoxon signed-rank test, its exact p with ties, and Holm."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from l3_kedro.errors import ParameterError, ReportingError
from l3_kedro.reporting import (
    EXACT_MAX_PAIRS,
    bootstrap_mean_ci,
    holm_correction,
    min_exact_p,
    rank_biserial,
    signed_rank_exact_p,
    signed_rank_normal_p,
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


def test_hand_wilcoxon_matches_scipy():
    test = wilcoxon_comparison(_pairs(HAND_DIFFS))
    assert test.status == "tested"
    assert test.n == test.n_nonzero == 6
    assert test.statistic == 3.0
    assert test.p == pytest.approx(10 / 64)
    assert test.p_method == "exact"
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


def _brute_force_p(diffs) -> float:
    """Two-sided p by enumerating all 2**n sign patterns of the mean ranks."""
    nonzero = np.asarray([d for d in diffs if d != 0], dtype=float)
    ranks = stats.rankdata(np.abs(nonzero))
    observed = ranks[nonzero > 0].sum()
    centre = ranks.sum() / 2
    sums = np.array(
        [
            ranks[np.array(signs, dtype=bool)].sum()
            for signs in itertools.product((0, 1), repeat=ranks.size)
        ]
    )
    return float(np.mean(np.abs(sums - centre) >= abs(observed - centre) - 1e-12))


@pytest.mark.parametrize(
    "diffs",
    [
        HAND_DIFFS,
        [0.05, 0.05, 0.1, -0.05, 0.2, 0.1, 0.15, -0.1],  # ties of |d| across signs
        [0.02, 0.02, 0.02, 0.02, 0.02, 0.02],  # all tied
        [0.0, 0.03, -0.01, 0.03, 0.04, 0.01, 0.05, -0.03, 0.06],  # a zero and ties
    ],
)
def test_exact_p_is_the_sign_flip_distribution_of_the_mean_ranks(diffs):
    assert signed_rank_exact_p(diffs) == pytest.approx(_brute_force_p(diffs))


def test_exact_p_equals_scipy_exact_without_ties(rng):
    diffs = rng.normal(0.01, 0.02, size=15)
    assert signed_rank_exact_p(diffs) == pytest.approx(stats.wilcoxon(diffs, method="exact").pvalue)


def test_ties_keep_the_exact_p_and_report_the_normal_approximation_beside_it():
    # Fold accuracies of small test folds tie often: the exact test must still apply.
    test = wilcoxon_comparison(_pairs([0.05, 0.05, 0.1, 0.1, 0.05, 0.1, -0.05]))
    assert test.status == "tested"
    assert test.p_method == "exact"
    assert test.p == pytest.approx(_brute_force_p([0.05, 0.05, 0.1, 0.1, 0.05, 0.1, -0.05]))
    assert test.p_normal_approx == pytest.approx(
        stats.wilcoxon(
            [0.05, 0.05, 0.1, 0.1, 0.05, 0.1, -0.05], correction=False, method="approx"
        ).pvalue
    )


def test_five_folds_the_papers_esc50_case():
    # Five folds all in favour of a: the exact test cannot go below 0.0625, the
    # normal approximation scipy used before 1.7 (the paper's era) gives 0.043.
    five = wilcoxon_comparison(_pairs([0.01, 0.02, 0.03, 0.04, 0.05]))
    assert five.p is None
    assert five.status.startswith("not testable")
    assert five.p_normal_approx == pytest.approx(0.0431, abs=5e-5)
    assert signed_rank_normal_p([0.01, 0.02, 0.03, 0.04, 0.05]) < 0.05


def test_many_pairs_fall_back_to_the_normal_approximation(rng):
    diffs = rng.normal(0.01, 0.05, size=EXACT_MAX_PAIRS + 1)
    test = wilcoxon_comparison(_pairs(diffs), n_resamples=100)
    assert test.p_method == "normal approximation"
    assert test.p == test.p_normal_approx
    exact = wilcoxon_comparison(_pairs(diffs[:EXACT_MAX_PAIRS]), n_resamples=100)
    assert exact.p_method == "exact"
    assert exact.p == pytest.approx(exact.p_normal_approx, abs=0.01)  # they agree at large n


def test_exact_p_needs_a_non_zero_difference():
    with pytest.raises(ParameterError):
        signed_rank_exact_p([0.0, 0.0])


def test_pairs_need_their_columns():
    with pytest.raises(ReportingError):
        wilcoxon_comparison(pd.DataFrame({"a": [1.0]}))
