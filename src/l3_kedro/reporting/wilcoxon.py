"""The Wilcoxon signed-rank test of paired differences, and the numbers reported with it.

Decisions the paper leaves open, and how they are settled here:

- **Round-off.** Differences are rounded to :data:`DIFF_DECIMALS` decimals
  before anything else: accuracies are fractions of test clips, and
  ``0.55 - 0.5`` and ``0.45 - 0.5`` must tie in ``|d|`` (in floating point
  they differ in the 17th digit, which would break the tie and change the
  exact p).
- **Zero differences** are dropped before ranking (scipy's
  ``zero_method="wilcox"``, Wilcoxon's own rule): a tie carries no evidence
  of a direction. ``n_nonzero`` says how many pairs were ranked.
- **Exact p.** Two-sided, from the exact null distribution of the sum of the
  positive ranks given the observed ranks: every one of the ``2**n`` sign
  patterns equally likely, tied differences sharing their mean rank. It is
  computed by convolution (no enumeration), so it is exact with ties, for
  any ``n`` up to :data:`EXACT_MAX_PAIRS`; above that, the normal
  approximation is the ``p`` and ``p_method`` says so.
- **Normal approximation.** Always reported beside the exact p as
  ``p_normal_approx``: the tie-corrected normal approximation without
  continuity correction, which is what ``scipy.stats.wilcoxon`` computed
  for every n before scipy 1.7 (2021), so it is what the paper's tests
  were. With five pairs all of one sign it gives p = 0.043 where the exact
  test cannot go below 0.0625.
- **Not testable.** With ``n`` non-zero pairs the smallest two-sided exact p
  is ``2 / 2**n`` (the two patterns of one sign only): when it cannot fall
  below ``alpha`` (n <= 5 at 0.05), or every difference is zero, no ``p`` is
  reported; ``p_normal_approx`` still is, labelled as such.
- **Effect size** is the matched-pairs rank-biserial correlation (Kerby's
  simple difference formula) over the ranked pairs, in [-1, 1], positive
  when level ``a`` scores higher.
- **Interval.** Percentile bootstrap (seeded) of the mean difference
  ``a - b`` over all pairs, zeros included.
- **Multiple tests.** Holm-Bonferroni (:func:`holm_correction`) over a family
  the caller chooses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from l3_kedro.errors import ParameterError, ReportingError

ZERO_METHOD = "wilcox"
"""How zero differences are treated: dropped before ranking."""

DIFF_DECIMALS = 12
"""Paired differences are rounded to this many decimals (removes float round-off)."""

EXACT_MAX_PAIRS = 200
"""Largest number of non-zero pairs whose p is computed exactly."""

P_METHODS = ("exact", "normal approximation")
"""Values of ``p_method``."""


@dataclass(frozen=True)
class WilcoxonComparison:
    """The paired comparison of two levels (differences are ``a - b``).

    ``p`` is None and ``significant`` False unless ``status == "tested"``;
    ``p_normal_approx`` is None only when no difference is non-zero.
    """

    n: int
    n_nonzero: int
    mean_a: float
    mean_b: float
    mean_diff: float
    ci_low: float
    ci_high: float
    statistic: float | None
    p: float | None
    p_method: str | None
    p_normal_approx: float | None
    significant: bool
    effect_size: float | None
    status: str

    def as_dict(self) -> dict[str, Any]:
        """Return the fields as a plain dict."""
        return asdict(self)


def _nonzero_ranks(diffs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ranks of ``|d|`` over the non-zero differences, and their signs."""
    nonzero = diffs[diffs != 0]
    return stats.rankdata(np.abs(nonzero)), np.sign(nonzero)


def _signed_rank_sums(diffs: np.ndarray) -> tuple[float, float]:
    """Sum of the ranks of ``|d|`` (zeros dropped, ties averaged) by sign of ``d``."""
    ranks, signs = _nonzero_ranks(diffs)
    return float(ranks[signs > 0].sum()), float(ranks[signs < 0].sum())


def signed_rank_exact_p(diffs: Sequence[float]) -> float:
    """Two-sided exact p of the signed-rank test, conditional on the ranks.

    Parameters
    ----------
    diffs : sequence of float, shape (n,)
        Paired differences; zeros are dropped, at least one must remain.

    Returns
    -------
    float
        ``P(|W+ - E W+| >= |w+ - E W+|)`` under the null that every sign
        pattern of the ranked differences is equally likely, where ``W+`` is
        the sum of the positive ranks. Mean ranks of ties are halves, so the
        distribution is built over doubled ranks (integers) by adding one
        rank at a time. Equal to ``scipy.stats.wilcoxon(method="exact")``
        when there are no ties.
    """
    ranks, signs = _nonzero_ranks(np.asarray(diffs, dtype=float))
    if ranks.size == 0:
        raise ParameterError("the exact test needs at least one non-zero difference")
    doubled = np.rint(2 * ranks).astype(np.int64)
    total = int(doubled.sum())
    distribution = np.zeros(total + 1)
    distribution[0] = 1.0
    for rank in doubled:
        shifted = np.zeros_like(distribution)
        shifted[rank:] = distribution[:-rank]
        distribution = 0.5 * (distribution + shifted)
    observed = int(doubled[signs > 0].sum())
    deviation = np.abs(np.arange(total + 1) - total / 2)
    return float(min(1.0, distribution[deviation >= abs(observed - total / 2)].sum()))


def signed_rank_normal_p(diffs: Sequence[float]) -> float:
    """Two-sided p of the tie-corrected normal approximation, no continuity correction.

    What ``scipy.stats.wilcoxon`` returned for any n before scipy 1.7 (zeros
    dropped).
    """
    result = stats.wilcoxon(
        np.asarray(diffs, dtype=float), zero_method=ZERO_METHOD, correction=False, method="approx"
    )
    return float(result.pvalue)


def rank_biserial(diffs: Sequence[float]) -> float | None:
    """Matched-pairs rank-biserial correlation (Kerby's simple difference formula).

    Parameters
    ----------
    diffs : sequence of float, shape (n,)
        Paired differences ``a - b``. Zeros are dropped before ranking.

    Returns
    -------
    float or None
        ``(R+ - R-) / (R+ + R-)`` in [-1, 1]; None when every difference is zero.
    """
    positive, negative = _signed_rank_sums(np.asarray(diffs, dtype=float))
    total = positive + negative
    return None if total == 0 else (positive - negative) / total


def bootstrap_mean_ci(
    diffs: Sequence[float], *, confidence: float = 0.95, n_resamples: int = 10_000, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap interval of the mean of ``diffs``.

    Parameters
    ----------
    diffs : sequence of float, shape (n,)
        Paired differences; n >= 1.
    confidence : float
        Coverage of the interval, in (0, 1).
    n_resamples : int
        Number of bootstrap resamples (with replacement, size n).
    seed : int
        Seed of :func:`numpy.random.default_rng`; same seed, same interval.

    Returns
    -------
    (low, high) : tuple of float
    """
    diffs = np.asarray(diffs, dtype=float)
    if diffs.size == 0 or not 0 < confidence < 1 or n_resamples < 1:
        raise ParameterError(
            f"bootstrap needs n >= 1 differences, 0 < confidence < 1 and n_resamples >= 1; got n={diffs.size}, confidence={confidence}, n_resamples={n_resamples}"
        )
    rng = np.random.default_rng(seed)
    means = diffs[rng.integers(0, diffs.size, size=(n_resamples, diffs.size))].mean(axis=1)
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(means, [tail, 100 - tail])
    return float(low), float(high)


def min_exact_p(n: int) -> float:
    """Smallest two-sided exact p of the signed-rank test with ``n`` non-zero pairs: ``2 / 2**n``."""
    return min(1.0, 2.0 / 2.0**n)


def wilcoxon_comparison(
    pairs: pd.DataFrame, *, alpha: float = 0.05, n_resamples: int = 10_000, seed: int = 0
) -> WilcoxonComparison:
    """Two-sided Wilcoxon signed-rank test of ``value_a - value_b`` over matched pairs.

    Parameters
    ----------
    pairs : pandas.DataFrame
        Columns ``value_a`` and ``value_b``, one row per pair.
    alpha : float
        Significance level, in (0, 1).
    n_resamples : int
        Bootstrap resamples of the mean-difference interval.
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    WilcoxonComparison
        ``statistic`` is ``min(R+, R-)``. ``status`` is ``"tested"`` or
        ``"not testable: <why>"`` (no pairs, all differences zero, or too
        few non-zero pairs to ever reach ``p < alpha``), in which case ``p``
        is None. ``p_method`` is ``"exact"`` up to :data:`EXACT_MAX_PAIRS`
        non-zero pairs, else ``"normal approximation"``.
    """
    if not 0 < alpha < 1:
        raise ParameterError(f"alpha must be in (0, 1); got {alpha}")
    if not {"value_a", "value_b"} <= set(pairs.columns):
        raise ReportingError("pairs needs columns value_a and value_b, one row per pair")
    a = pairs["value_a"].to_numpy(dtype=float)
    b = pairs["value_b"].to_numpy(dtype=float)
    diffs = np.round(a - b, DIFF_DECIMALS)
    n, n_nonzero = diffs.size, int(np.count_nonzero(diffs))
    if n == 0:
        nan = float("nan")
        return WilcoxonComparison(
            0, 0, nan, nan, nan, nan, nan, None, None, None, None, False, None,
            "not testable: no matched pairs",
        )  # fmt: skip
    ci_low, ci_high = bootstrap_mean_ci(diffs, n_resamples=n_resamples, seed=seed)
    positive, negative = _signed_rank_sums(diffs)
    statistic = min(positive, negative) if n_nonzero else None
    p, p_method = None, None
    p_normal = signed_rank_normal_p(diffs) if n_nonzero else None
    if n_nonzero == 0:
        status = "not testable: all differences are zero"
    elif min_exact_p(n_nonzero) >= alpha:
        status = (
            f"not testable: {n_nonzero} non-zero pairs, smallest exact p "
            f"{min_exact_p(n_nonzero):.4g} >= alpha {alpha}"
        )
    elif n_nonzero <= EXACT_MAX_PAIRS:
        p, p_method, status = signed_rank_exact_p(diffs), "exact", "tested"
    else:
        p, p_method, status = p_normal, "normal approximation", "tested"
    return WilcoxonComparison(
        n=n,
        n_nonzero=n_nonzero,
        mean_a=float(a.mean()),
        mean_b=float(b.mean()),
        mean_diff=float(diffs.mean()),
        ci_low=ci_low,
        ci_high=ci_high,
        statistic=statistic,
        p=p,
        p_method=p_method,
        p_normal_approx=p_normal,
        significant=p is not None and p < alpha,
        effect_size=rank_biserial(diffs),
        status=status,
    )


def holm_correction(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm-Bonferroni step-down adjusted p-values.

    Parameters
    ----------
    p_values : sequence of float or None, shape (m,)
        Raw p-values in [0, 1]. None or NaN entries are not tests: they stay
        None and do not count in the family.

    Returns
    -------
    list of float or None, shape (m,)
        In input order; ``p_(i)`` sorted ascending becomes
        ``max_{j<=i} min(1, (k - j + 1) p_(j))`` over the ``k`` real tests,
        so the adjusted values keep the order of the raw ones.
    """
    valid = [(i, float(p)) for i, p in enumerate(p_values) if p is not None and not np.isnan(p)]
    if any(not 0 <= p <= 1 for _, p in valid):
        raise ParameterError(f"p-values must lie in [0, 1]; got {list(p_values)}")
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (i, p) in enumerate(sorted(valid, key=lambda item: item[1])):
        running = max(running, min(1.0, (len(valid) - rank) * p))
        adjusted[i] = running
    return adjusted
