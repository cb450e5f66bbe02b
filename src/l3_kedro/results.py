"""The schema of the downstream results table shared by ``downstream_eval`` and ``reporting``.

``downstream_eval`` writes one row per embedding x dataset x fold; the
embedding's design attributes below are copied into every row so that
``reporting`` can group and pair results by them.
"""

from __future__ import annotations

import pandas as pd

DESIGN_ATTRIBUTES = (
    "kind",
    "input_repr",
    "subset",
    "samples_seen",
    "selection",
    "width",
    "embedding_size",
    "hop_size",
)
"""Embedding attributes copied into every results row (missing ones are left empty)."""

DESIGN_COLUMNS = ("embedding", *DESIGN_ATTRIBUTES, "seed")
"""Columns of the results table that name a variation (``fold`` is the unit)."""


def best_embedding(rows: pd.DataFrame, metric: str = "clip_accuracy") -> str:
    """The embedding of ``rows`` with the highest mean ``metric`` over its rows (folds).

    The rule of Table 2 and of the kind comparisons: the best variant of a
    kind on one dataset. Ties go to the first name in sorted order.
    """
    means = rows.groupby("embedding")[metric].mean()
    if means.dropna().empty:
        return str(means.index[0])
    return str(means.idxmax())


def final_models(results: pd.DataFrame) -> pd.DataFrame:
    """Rows of chosen models only: intermediate AVC checkpoints left out.

    Checkpoints (``selection == "checkpoint"``) serve the amount-of-data curve
    (Fig. 4); every other comparison uses each variant's best-validation model.
    """
    if "selection" not in results:
        return results
    return results[results["selection"].astype(str) != "checkpoint"]


def checkpoint_curves(results: pd.DataFrame) -> pd.DataFrame:
    """Rows of the L3 variants whose checkpoints were evaluated (checkpoints + best model)."""
    if "selection" not in results or results.empty:
        return results.iloc[0:0]
    keys = ["kind", "input_repr", "subset"]
    checkpointed = results.loc[results["selection"].astype(str) == "checkpoint", keys]
    if checkpointed.empty:
        return results.iloc[0:0]
    return results.merge(checkpointed.drop_duplicates(), on=keys, how="inner")
