"""Design-choice comparisons on the downstream results table (paper section 3.3).

"Each design choice is evaluated independently by averaging the results over
all other design variations not relevant to the comparison. We use the
Wilcoxon signed-rank test with p < 0.05." How the comparisons are formed:

- **Like with like.** A comparison of a design choice of the trained L3
  (``input_repr``, ``subset``) uses the trained L3 variants only (kinds
  ``trained_kinds``, by default ``l3``): the random-init control and the
  baselines never stand in a level. Kinds are compared only by comparisons
  of the factor ``kind``, where each kind is represented by its best
  embedding on the dataset (highest mean over folds, as Table 2 and the
  paper's Fig. 5: the best L3 variant against each baseline) or, with
  ``kind_representative: mean``, by the mean of all its embeddings.
- **Pairing units** (``pairing``): ``fold`` pairs one value per test fold
  (each level averaged over the other variations, the paper's wording);
  ``fold_x_variation`` pairs one value per test fold and per level of the
  design choices not under test (:data:`VARIATION_COLUMNS`), e.g. the
  training subset when comparing input representations: more pairs, though
  pairs that share a fold are not independent. Kind comparisons always pair
  by fold (a baseline has no training subset). The paper's ESC-50 claims
  (5 folds) are out of reach of the exact test with ``fold`` pairing
  (smallest p 0.0625) and were within reach of the normal approximation
  scipy used in 2018 (p = 0.043 when all five folds agree), which the
  table reports as ``p_normal_approx``; ``fold_x_variation`` gives the
  input-representation comparisons 10 pairs on ESC-50.
- Units present for only one level are dropped and counted
  (``n_unmatched``). The test itself is
  :func:`~l3_kedro.reporting.wilcoxon.wilcoxon_comparison`; Holm-Bonferroni
  runs over every tested row of one table (all datasets and comparisons).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from l3_kedro.errors import ParameterError, ReportingError
from l3_kedro.reporting.wilcoxon import holm_correction, wilcoxon_comparison
from l3_kedro.results import best_embedding

PAIRINGS = ("fold", "fold_x_variation")
"""Values of ``pairing``: the unit of a pair (see the module docstring)."""

KIND_REPRESENTATIVES = ("best", "mean")
"""Values of ``kind_representative``: which embeddings of a kind a kind comparison uses."""

VARIATION_COLUMNS = ("input_repr", "subset")
"""The design choices of a trained L3 variant that ``fold_x_variation`` pairs on."""

COMPARISON_KEYS = frozenset({"factor", "levels", "metric", "pairing"})
"""Keys allowed in one entry of ``comparisons``."""

TABLE_COLUMNS = (
    "dataset",
    "factor",
    "level_a",
    "level_b",
    "embeddings_a",
    "embeddings_b",
    "pairing",
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
    "p_method",
    "p_normal_approx",
    "p_holm",
    "significant",
    "significant_holm",
    "effect_size",
    "status",
)
"""Columns of the table returned by :func:`compare_design_choices`."""

_FLOAT_COLUMNS = (
    "mean_a",
    "mean_b",
    "mean_diff",
    "ci_low",
    "ci_high",
    "statistic",
    "p",
    "p_normal_approx",
    "effect_size",
)


@dataclass(frozen=True)
class Comparison:
    """One configured comparison: ``factor`` at ``levels[0]`` minus ``levels[1]``.

    ``pairing`` None takes the table's default.
    """

    factor: str
    levels: tuple[Any, Any]
    metric: str = "clip_accuracy"
    pairing: str | None = None

    @classmethod
    def from_mapping(cls, spec: Mapping[str, Any], *, metric: str) -> Comparison:
        """Check one entry of ``reporting.comparisons`` and build it."""
        unknown = set(spec) - COMPARISON_KEYS
        if unknown or not {"factor", "levels"} <= set(spec):
            raise ParameterError(
                "each entry of reporting.comparisons needs factor and levels (optional: "
                f"metric, pairing); got {dict(spec)}"
            )
        levels = spec["levels"]
        if isinstance(levels, str) or len(levels) != 2 or levels[0] == levels[1]:
            raise ParameterError(
                f"reporting.comparisons: levels must be two different values, e.g. "
                f"[mel256, linear]; got {levels!r}"
            )
        pairing = spec.get("pairing")
        if pairing is not None:
            check_choice(pairing, PAIRINGS, parameter="reporting.comparisons[].pairing")
        return cls(spec["factor"], (levels[0], levels[1]), spec.get("metric", metric), pairing)


def check_choice(value: Any, choices: Sequence[str], *, parameter: str) -> str:
    """Return ``value`` if it is one of ``choices``; else raise naming ``parameter``."""
    if value not in choices:
        raise ParameterError(f"{parameter} must be one of {list(choices)}; got {value!r}")
    return value


def paired_units(
    rows_a: pd.DataFrame, rows_b: pd.DataFrame, *, units: Sequence[str], metric: str
) -> pd.DataFrame:
    """Average each level's rows per unit and keep the units both levels have.

    Parameters
    ----------
    rows_a, rows_b : pandas.DataFrame
        Result rows of level a and level b (one row per embedding x fold ...).
    units : sequence of str
        Columns whose values make one unit (e.g. ``["fold"]``).
    metric : str
        The column averaged (a fraction in [0, 1] for accuracies); NaN rows are ignored.

    Returns
    -------
    pandas.DataFrame
        One row per matched unit: the unit columns, ``value_a``, ``value_b``
        and ``n_rows_a``, ``n_rows_b`` (rows averaged into each value).
        ``attrs["n_unmatched"]`` counts the units of only one level (dropped).
    """
    units = list(units)
    means = []
    for name, rows in (("a", rows_a), ("b", rows_b)):
        grouped = rows[rows[metric].notna()].groupby(units, dropna=False, sort=True)[metric]
        means.append(
            grouped.agg(["mean", "size"]).rename(
                columns={"mean": f"value_{name}", "size": f"n_rows_{name}"}
            )
        )
    joined = means[0].join(means[1], how="outer")
    matched = joined["value_a"].notna() & joined["value_b"].notna()
    pairs = joined[matched].reset_index()
    pairs[["n_rows_a", "n_rows_b"]] = pairs[["n_rows_a", "n_rows_b"]].astype(int)
    pairs = pairs[[*units, "value_a", "value_b", "n_rows_a", "n_rows_b"]]
    pairs.attrs["n_unmatched"] = int((~matched).sum())
    return pairs


@dataclass(frozen=True)
class _Levels:
    """The rows standing for each level of a comparison, and the unit columns."""

    rows_a: pd.DataFrame
    rows_b: pd.DataFrame
    units: list[str]


def _level_rows(
    rows: pd.DataFrame,
    comparison: Comparison,
    *,
    pairing: str,
    kind_representative: str,
    trained_kinds: Sequence[str],
) -> _Levels:
    """Select the rows of each level (see the module docstring for the rules)."""
    factor, metric = comparison.factor, comparison.metric
    if factor == "kind":
        chosen = []
        for level in comparison.levels:
            level_rows = rows[rows["kind"] == level]
            if kind_representative == "best" and not level_rows.empty:
                level_rows = level_rows[
                    level_rows["embedding"] == best_embedding(level_rows, metric)
                ]
            chosen.append(level_rows)
        return _Levels(chosen[0], chosen[1], ["fold"])
    trained = rows[rows["kind"].isin(list(trained_kinds))]
    units = ["fold"]
    if pairing == "fold_x_variation":
        units += [c for c in VARIATION_COLUMNS if c != factor and c in trained.columns]
    a, b = comparison.levels
    return _Levels(trained[trained[factor] == a], trained[trained[factor] == b], units)


def _describe(rows: pd.DataFrame) -> str:
    return "+".join(sorted(rows["embedding"].astype(str).unique()))


def compare_design_choices(
    results: pd.DataFrame,
    *,
    comparisons: Sequence[Comparison],
    datasets: Sequence[str] | None = None,
    pairing: str = "fold",
    kind_representative: str = "best",
    trained_kinds: Sequence[str] = ("l3",),
    alpha: float = 0.05,
    seed: int = 0,
    n_resamples: int = 10_000,
) -> pd.DataFrame:
    """Test every comparison on every dataset; say what is missing instead of failing.

    Parameters
    ----------
    results : pandas.DataFrame
        The ``downstream_eval`` results of the chosen models (no intermediate
        checkpoints), one row per embedding x dataset x fold. Not modified.
    comparisons : sequence of Comparison
    datasets : sequence of str, optional
        Datasets to report; None: every dataset in ``results``.
    pairing : str
        Default unit of a pair, one of :data:`PAIRINGS`.
    kind_representative : str
        One of :data:`KIND_REPRESENTATIVES`.
    trained_kinds : sequence of str
        Kinds whose rows the non-kind comparisons use.
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
        unless tested. ``embeddings_a`` / ``_b`` name the embeddings averaged
        into each level (joined by ``+``); ``pairing`` names the unit columns.

    Raises
    ------
    ParameterError
        On an unknown pairing or representative, or alpha out of (0, 1).
    ReportingError
        If ``results`` lacks a column a comparison needs.
    """
    if not 0 < alpha < 1:
        raise ParameterError(f"reporting.alpha must be in (0, 1); got {alpha}")
    check_choice(pairing, PAIRINGS, parameter="reporting.pairing")
    check_choice(
        kind_representative, KIND_REPRESENTATIVES, parameter="reporting.kind_representative"
    )
    needed = {"dataset", "embedding", "kind", "fold"}
    needed |= {c.factor for c in comparisons} | {c.metric for c in comparisons}
    absent = sorted(needed - set(results.columns)) if len(comparisons) else []
    if absent and not results.empty:
        raise ReportingError(
            f"the results table has no column(s) {absent}; expected the downstream_eval results"
        )
    if datasets is None:
        datasets = sorted(results["dataset"].dropna().unique()) if not results.empty else []
    rows = []
    for dataset in datasets:
        subset = results[results["dataset"] == dataset] if not results.empty else results
        for comparison in comparisons:
            rows.append(
                _compare_one(
                    subset,
                    comparison,
                    dataset=dataset,
                    pairing=comparison.pairing or pairing,
                    kind_representative=kind_representative,
                    trained_kinds=trained_kinds,
                    test_options={"alpha": alpha, "seed": seed, "n_resamples": n_resamples},
                )
            )
    table = pd.DataFrame(
        rows, columns=[c for c in TABLE_COLUMNS if c not in ("p_holm", "significant_holm")]
    )
    for column in _FLOAT_COLUMNS:
        table[column] = pd.to_numeric(table[column], errors="coerce").astype(float)
    table["p_holm"] = [np.nan if p is None else p for p in holm_correction(table["p"].tolist())]
    table["significant"] = table["p"].lt(alpha)
    table["significant_holm"] = table["p_holm"].lt(alpha)
    for column in ("n_pairs", "n_nonzero", "n_unmatched"):
        table[column] = table[column].astype(int)
    return table[list(TABLE_COLUMNS)]


def _compare_one(
    rows: pd.DataFrame,
    comparison: Comparison,
    *,
    dataset: str,
    pairing: str,
    kind_representative: str,
    trained_kinds: Sequence[str],
    test_options: dict[str, Any],
) -> dict[str, Any]:
    """One row of the comparison table."""
    level_a, level_b = comparison.levels
    row: dict[str, Any] = {
        "dataset": dataset,
        "factor": comparison.factor,
        "level_a": level_a,
        "level_b": level_b,
    }
    empty = {"n_pairs": 0, "n_nonzero": 0, "n_unmatched": 0, "significant": False}
    if rows.empty or comparison.factor not in rows.columns:
        return {**row, **empty, "status": f"missing: {level_a} and {level_b} have no results"}
    levels = _level_rows(
        rows,
        comparison,
        pairing=pairing,
        kind_representative=kind_representative,
        trained_kinds=trained_kinds,
    )
    missing = [
        str(lv)
        for lv, r in zip(comparison.levels, (levels.rows_a, levels.rows_b), strict=True)
        if r.empty
    ]
    row.update(
        embeddings_a=_describe(levels.rows_a),
        embeddings_b=_describe(levels.rows_b),
        pairing=" x ".join(levels.units),
    )
    if missing:
        verb = "has" if len(missing) == 1 else "have"
        return {**row, **empty, "status": f"missing: {' and '.join(missing)} {verb} no results"}
    pairs = paired_units(levels.rows_a, levels.rows_b, units=levels.units, metric=comparison.metric)
    test = wilcoxon_comparison(pairs, **test_options).as_dict()
    test["n_pairs"] = test.pop("n")
    return {**row, **test, "n_unmatched": pairs.attrs["n_unmatched"]}
