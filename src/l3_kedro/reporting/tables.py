"""Paper-style tables from the downstream results (Table 2 of the paper)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from l3_kedro.errors import ReportingError
from l3_kedro.results import best_embedding

TABLE2_COLUMNS = (
    "dataset",
    "kind",
    "embedding",
    "accuracy",
    "accuracy_std",
    "paper_accuracy",
    "difference",
    "n_folds",
    "n_test_clips",
    "samples_seen",
    "status",
)
"""Columns of :func:`best_variant_table`; accuracies in percent."""


def best_variant_table(
    results: pd.DataFrame,
    *,
    paper: Mapping[str, Mapping[str, float]],
    kinds: Sequence[str],
    metric: str = "clip_accuracy",
) -> pd.DataFrame:
    """Best variant of each embedding kind per dataset next to the paper's number.

    Parameters
    ----------
    results : pandas.DataFrame
        The ``downstream_eval`` results (``metric`` a fraction in [0, 1]). Not modified.
    paper : mapping
        ``{kind: {dataset: accuracy in %}}``, the paper's Table 2.
    kinds : sequence of str
        Kinds always listed (a row says ``no results yet`` when absent); kinds
        present in ``results`` but not listed follow them.
    metric : str
        The column averaged over folds.

    Returns
    -------
    pandas.DataFrame
        One row per (dataset, kind), columns :data:`TABLE2_COLUMNS`. Datasets
        are those of ``results`` then those only the paper has. ``embedding``
        is the variant with the highest mean over folds; ``accuracy`` and
        ``accuracy_std`` are its mean and standard deviation over folds (%),
        ``difference`` is ``accuracy - paper_accuracy`` (points).
    """
    absent = [c for c in ("dataset", "kind", "embedding", "fold", metric) if c not in results]
    if absent:
        raise ReportingError(
            f"the results table has no column(s) {absent}; expected the downstream_eval results"
        )
    rows = results[results[metric].notna()]
    paper_datasets = sorted({d for numbers in paper.values() for d in numbers})
    datasets = sorted(rows["dataset"].unique())
    datasets += [d for d in paper_datasets if d not in datasets]
    all_kinds = list(kinds) + sorted(set(rows["kind"].dropna()) - set(kinds))
    table = []
    for dataset in datasets:
        for kind in all_kinds:
            paper_value = paper.get(kind, {}).get(dataset)
            record: dict[str, Any] = {
                "dataset": dataset,
                "kind": kind,
                "paper_accuracy": np.nan if paper_value is None else float(paper_value),
                "status": "no results yet",
            }
            subset = rows[(rows["dataset"] == dataset) & (rows["kind"] == kind)]
            if not subset.empty:
                name = best_embedding(subset, metric)
                best = subset[subset["embedding"] == name]
                accuracy = 100 * float(best[metric].mean())
                record.update(
                    embedding=name,
                    accuracy=accuracy,
                    accuracy_std=100 * float(best[metric].std(ddof=1)) if len(best) > 1 else np.nan,
                    difference=accuracy - record["paper_accuracy"],
                    n_folds=int(best["fold"].nunique()),
                    n_test_clips=int(best["n_test_clips"].sum()) if "n_test_clips" in best else 0,
                    samples_seen=best["samples_seen"].iloc[0] if "samples_seen" in best else np.nan,
                    status="ok",
                )
            table.append(record)
    frame = pd.DataFrame(table, columns=list(TABLE2_COLUMNS))
    for column in ("n_folds", "n_test_clips"):
        frame[column] = frame[column].astype("Int64")
    return frame


TABLE1_COLUMNS = (
    "input_repr",
    "train_subset",
    "test_subset",
    "variant",
    "accuracy",
    "paper_accuracy",
    "difference",
    "n_pairs",
    "samples_seen",
)
"""Columns of :func:`avc_accuracy_table` (accuracies in %, difference in points)."""


def avc_accuracy_table(
    avc: pd.DataFrame, *, paper: Mapping[str, Mapping[str, Mapping[str, float]]]
) -> pd.DataFrame:
    """Table 1: AVC test accuracy, training subset x test subset, the paper's beside it.

    Parameters
    ----------
    avc : pandas.DataFrame
        ``avc_test_accuracy`` from ``avc_training`` (accuracy a fraction); may be
        empty (no AVC training yet).
    paper : mapping
        ``{input_repr: {train subset: {test subset: accuracy in %}}}``.

    Returns
    -------
    pandas.DataFrame
        One row per variant x test subset, :data:`TABLE1_COLUMNS`; empty when
        ``avc`` is.
    """
    if avc.empty:
        return pd.DataFrame(columns=list(TABLE1_COLUMNS))
    needed = {"variant", "input_repr", "train_subset", "test_subset", "accuracy"}
    absent = sorted(needed - set(avc.columns))
    if absent:
        raise ReportingError(
            f"the AVC test table has no column(s) {absent}; expected avc_training's output"
        )
    table = avc.copy()
    table["accuracy"] = 100.0 * table["accuracy"].astype(float)
    table["paper_accuracy"] = [
        paper.get(r, {}).get(a, {}).get(b, np.nan)
        for r, a, b in zip(
            table["input_repr"], table["train_subset"], table["test_subset"], strict=True
        )
    ]
    table["difference"] = table["accuracy"] - table["paper_accuracy"]
    for column in TABLE1_COLUMNS:
        if column not in table:
            table[column] = np.nan
    order = {"linear": 0, "mel128": 1, "mel256": 2}
    table = table.sort_values(
        ["input_repr", "train_subset", "test_subset"],
        key=lambda c: c.map(order) if c.name == "input_repr" else c,
    )
    return table[list(TABLE1_COLUMNS)].reset_index(drop=True)
