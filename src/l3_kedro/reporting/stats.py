"""Paired design-choice comparisons on the downstream results table (paper section 3.3).

"Each design choice is evaluated independently by averaging the results over
all other design variations not relevant to the comparison. We use the
Wilcoxon signed-rank test with p < 0.05." Decisions the paper leaves open, and
how they are settled here:

- **Units.** A unit is one value of ``match_on`` (by default the test fold)
  times every design column that is neither the factor nor averaged over. By
  default everything else is averaged over, so the units are the folds, as in
  the paper. Units present for only one level are dropped and counted.
- **Zero differences** are dropped before ranking (scipy's
  ``zero_method="wilcox"``, Wilcoxon's own rule): a tie carries no evidence
  of a direction, and the exact null distribution stays that of the
  non-zero pairs. ``n_nonzero`` says how many pairs were ranked.
  The p-value is scipy's (``method="auto"``: exact for small n, normal
  approximation for large n), two-sided.
- **Not testable.** With ``n`` non-zero pairs the smallest two-sided exact p
  is ``2 / 2**n``; when it cannot fall below ``alpha`` (n <= 5 at 0.05), or
  every difference is zero, no p is reported (``p = None``).
- **Effect size** is the matched-pairs rank-biserial correlation (Kerby's
  simple difference formula) over the ranked pairs, in [-1, 1], positive
  when level ``a`` scores higher.
- **Interval.** Percentile bootstrap (seeded) of the mean difference
  ``a - b`` over all matched pairs, zeros included.
- **Multiple tests.** Holm-Bonferroni over every tested row of one
  :func:`compare_design_choices` table (all datasets and comparisons).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from l3_kedro.errors import ParameterError, ReportingError
from l3_kedro.results import DESIGN_COLUMNS

ZERO_METHOD = "wilcox"
"""How :func:`scipy.stats.wilcoxon` treats zero differences: they are dropped."""

COMPARISON_KEYS = frozenset({"factor", "levels", "match_on", "average_over", "metric"})
"""Keys allowed in one entry of ``comparisons``."""

TABLE_COLUMNS = (
    "dataset",
    "factor",
    "level_a",
    "level_b",
    "n_pairs",
    "n_nonzero",
    "n_unmatched",
    "mean_a",
    "mean_b",
    "mean_diff",
    "ci_low",
    "ci_high",
    "statistic",
    "p",
    "p_holm",
    "significant",
    "significant_holm",
    "effect_size",
    "status",
)
"""Columns of the table returned by :func:`compare_design_choices`."""


@dataclass(frozen=True)
class WilcoxonComparison:
    """The paired comparison of two levels (differences are ``a - b``).

    ``p`` is None and ``significant`` False unless ``status == "tested"``.
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
    significant: bool
    effect_size: float | None
    status: str

    def as_dict(self) -> dict[str, Any]:
        """Return the fields as a plain dict."""
        return asdict(self)


def _check_levels(levels: Sequence[Any]) -> tuple[Any, Any]:
    if isinstance(levels, str) or len(levels) != 2 or levels[0] == levels[1]:
        raise ParameterError(
            f"levels must be two different values, e.g. ('mel256', 'linear'); got {levels!r}"
        )
    return levels[0], levels[1]


def paired_units(
    results: pd.DataFrame,
    *,
    factor: str,
    levels: Sequence[Any],
    dataset: str,
    metric: str = "clip_accuracy",
    match_on: Sequence[str] = ("fold",),
    average_over: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Pair the results of two levels of a design factor over matched units.

    Parameters
    ----------
    results : pandas.DataFrame
        The ``downstream_eval`` results table, one row per (embedding, design
        attributes, dataset, fold, seed). Not modified.
    factor : str
        The design column compared, e.g. ``"input_repr"``.
    levels : sequence of two values
        The levels ``(a, b)`` compared, e.g. ``("mel256", "linear")``.
    dataset : str
        Only rows of this dataset are used.
    metric : str
        The column compared (a fraction in [0, 1] for accuracies).
    match_on : sequence of str
        Columns that always define a unit (by default the test fold).
    average_over : sequence of str, optional
        Design columns the comparison ignores: the metric is averaged over
        them. None: every design column other than ``factor`` and
        ``match_on``. Design columns in neither ``average_over`` nor
        ``match_on`` also define the units. ``embedding`` is always averaged
        over (it names the variant, so it never matches across levels).

    Returns
    -------
    pandas.DataFrame
        One row per matched unit: the unit key columns, ``value_a``,
        ``value_b`` (the averaged metric of each level) and ``n_rows_a``,
        ``n_rows_b`` (how many result rows each average covers). Rows with a
        missing metric are ignored. ``attrs["n_unmatched"]`` counts the units
        present for only one level, which are dropped.

    Raises
    ------
    ParameterError
        If ``levels`` are not two different values or a column is repeated.
    ReportingError
        If ``results`` lacks ``dataset``, ``factor``, ``metric`` or a
        ``match_on`` column.
    """
    level_a, level_b = _check_levels(levels)
    match_on = list(match_on)
    required = ["dataset", factor, metric, *match_on]
    absent = [c for c in required if c not in results.columns]
    if absent:
        raise ReportingError(
            f"the results table has no column(s) {absent}; expected the downstream_eval results"
        )
    if factor in match_on:
        raise ParameterError(f"factor {factor!r} cannot also be in match_on {match_on}")
    if average_over is None:
        average_over = [c for c in DESIGN_COLUMNS if c != factor and c not in match_on]
    overlap = set(average_over) & ({factor} | set(match_on))
    if overlap:
        raise ParameterError(
            f"average_over {list(average_over)} overlaps factor/match_on: {sorted(overlap)}"
        )
    averaged = {*average_over, "embedding"}
    keys = match_on + [
        c
        for c in DESIGN_COLUMNS
        if c in results.columns and c not in averaged and c != factor and c not in match_on
    ]

    rows = results[(results["dataset"] == dataset) & results[metric].notna()]
    means = {}
    for name, level in (("a", level_a), ("b", level_b)):
        grouped = rows[rows[factor] == level].groupby(keys, dropna=False, sort=True)[metric]
        means[name] = grouped.agg(["mean", "size"]).rename(
            columns={"mean": f"value_{name}", "size": f"n_rows_{name}"}
        )
    joined = means["a"].join(means["b"], how="outer")
    matched = joined["value_a"].notna() & joined["value_b"].notna()
    pairs = joined[matched].reset_index()
    pairs[["n_rows_a", "n_rows_b"]] = pairs[["n_rows_a", "n_rows_b"]].astype(int)
    pairs = pairs[[*keys, "value_a", "value_b", "n_rows_a", "n_rows_b"]]
    pairs.attrs["n_unmatched"] = int((~matched).sum())
    return pairs


def _signed_rank_sums(diffs: np.ndarray) -> tuple[float, float]:
    """Sum of the ranks of ``|d|`` (zeros dropped, ties averaged) by sign of ``d``."""
    nonzero = diffs[diffs != 0]
    ranks = stats.rankdata(np.abs(nonzero))
    return float(ranks[nonzero > 0].sum()), float(ranks[nonzero < 0].sum())


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
        Columns ``value_a`` and ``value_b`` (e.g. from :func:`paired_units`), one row per pair.
    alpha : float
        Significance level, in (0, 1).
    n_resamples : int
        Bootstrap resamples of the mean-difference interval.
    seed : int
        Seed of the bootstrap.

    Returns
    -------
    WilcoxonComparison
        ``statistic`` is scipy's, ``min(R+, R-)``. ``status`` is ``"tested"``
        or ``"not testable: <why>"`` (no pairs, all differences zero, or too
        few non-zero pairs to ever reach ``p < alpha``), in which case ``p``
        is None.
    """
    if not 0 < alpha < 1:
        raise ParameterError(f"alpha must be in (0, 1); got {alpha}")
    if not {"value_a", "value_b"} <= set(pairs.columns):
        raise ReportingError(
            "pairs needs columns value_a and value_b; build them with paired_units"
        )
    a = pairs["value_a"].to_numpy(dtype=float)
    b = pairs["value_b"].to_numpy(dtype=float)
    diffs = a - b
    n, n_nonzero = diffs.size, int(np.count_nonzero(diffs))
    if n == 0:
        nan = float("nan")
        return WilcoxonComparison(
            0, 0, nan, nan, nan, nan, nan, None, None, False, None, "not testable: no matched pairs"
        )
    ci_low, ci_high = bootstrap_mean_ci(diffs, n_resamples=n_resamples, seed=seed)
    positive, negative = _signed_rank_sums(diffs)
    statistic, p = (min(positive, negative) if n_nonzero else None), None
    if n_nonzero == 0:
        status = "not testable: all differences are zero"
    elif min_exact_p(n_nonzero) >= alpha:
        status = f"not testable: {n_nonzero} non-zero pairs, smallest exact p {min_exact_p(n_nonzero):.4g} >= alpha {alpha}"
    else:
        result = stats.wilcoxon(diffs, zero_method=ZERO_METHOD, alternative="two-sided")
        statistic, p, status = float(result.statistic), float(result.pvalue), "tested"
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


def _missing_status(results: pd.DataFrame, factor: str, levels: tuple[Any, Any]) -> str | None:
    present = set(results[factor].dropna()) if factor in results.columns else set()
    missing = [str(level) for level in levels if level not in present]
    if not missing:
        return None
    return f"missing: {' and '.join(missing)} {'has' if len(missing) == 1 else 'have'} no results"


def compare_design_choices(
    results: pd.DataFrame,
    *,
    comparisons: Sequence[Mapping[str, Any]],
    datasets: Sequence[str] | None = None,
    alpha: float = 0.05,
    seed: int = 0,
    n_resamples: int = 10_000,
) -> pd.DataFrame:
    """Test every comparison on every dataset; say what is missing instead of failing.

    Parameters
    ----------
    results : pandas.DataFrame
        The ``downstream_eval`` results table (any subset of it). Not modified.
    comparisons : sequence of mapping
        Each with ``factor`` and ``levels`` (two values) and optionally
        ``match_on``, ``average_over`` and ``metric`` (see :func:`paired_units`).
    datasets : sequence of str, optional
        Datasets to report; None: every dataset in ``results``.
    alpha : float
        Significance level of ``significant`` (raw p) and ``significant_holm``.
    seed : int
        Bootstrap seed, the same for every row (rows do not depend on order).
    n_resamples : int
        Bootstrap resamples per row.

    Returns
    -------
    pandas.DataFrame
        One row per (dataset, comparison), columns :data:`TABLE_COLUMNS`.
        ``status`` is ``"tested"``, ``"not testable: <why>"`` or
        ``"missing: <level> has no results"``; ``p`` and ``p_holm`` are NaN
        unless tested. ``p_holm`` is Holm-corrected over every tested row of
        this table. ``mean_*`` and ``ci_*`` are in the metric's units.

    Raises
    ------
    ParameterError
        If a comparison has unknown keys, lacks factor/levels or alpha is out of (0, 1).
    ReportingError
        If ``results`` lacks a column a comparison needs.
    """
    if not 0 < alpha < 1:
        raise ParameterError(f"alpha must be in (0, 1); got {alpha}")
    for spec in comparisons:
        unknown = set(spec) - COMPARISON_KEYS
        if unknown or not {"factor", "levels"} <= set(spec):
            raise ParameterError(
                f"each comparison needs factor and levels (optional: match_on, average_over, metric); got {dict(spec)}"
            )
        _check_levels(spec["levels"])
    if datasets is None:
        datasets = (
            sorted(results["dataset"].dropna().unique()) if "dataset" in results.columns else []
        )
    rows = []
    for dataset in datasets:
        subset = (
            results[results["dataset"] == dataset]
            if "dataset" in results.columns
            else results.iloc[:0]
        )
        for spec in comparisons:
            factor, levels = spec["factor"], _check_levels(spec["levels"])
            row: dict[str, Any] = {
                "dataset": dataset,
                "factor": factor,
                "level_a": levels[0],
                "level_b": levels[1],
            }
            missing = _missing_status(subset, factor, levels)
            if missing is not None:
                rows.append(
                    {
                        **row,
                        "n_pairs": 0,
                        "n_nonzero": 0,
                        "n_unmatched": 0,
                        "significant": False,
                        "status": missing,
                    }
                )
                continue
            pairs = paired_units(
                subset,
                factor=factor,
                levels=levels,
                dataset=dataset,
                metric=spec.get("metric", "clip_accuracy"),
                match_on=spec.get("match_on", ("fold",)),
                average_over=spec.get("average_over"),
            )
            test = wilcoxon_comparison(
                pairs, alpha=alpha, n_resamples=n_resamples, seed=seed
            ).as_dict()
            test["n_pairs"] = test.pop("n")
            rows.append({**row, **test, "n_unmatched": pairs.attrs["n_unmatched"]})
    table = pd.DataFrame(
        rows, columns=[c for c in TABLE_COLUMNS if c not in ("p_holm", "significant_holm")]
    )
    for column in (
        "p",
        "statistic",
        "effect_size",
        "mean_a",
        "mean_b",
        "mean_diff",
        "ci_low",
        "ci_high",
    ):
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
    table["p_holm"] = [np.nan if p is None else p for p in holm_correction(table["p"].tolist())]
    table["significant"] = table["p"].lt(alpha)
    table["significant_holm"] = table["p_holm"].lt(alpha)
    for column in ("n_pairs", "n_nonzero", "n_unmatched"):
        table[column] = table[column].astype(int)
    return table[list(TABLE_COLUMNS)]
