"""The clips an embedding store holds: checked, and coded as class targets.

The protocol works on clip rows of the store's clip table. This module checks
that the table is usable (columns, unique ids, window ranges, one class index
per label) and, when the ingest clip table is given, that the store was made
from it; it then numbers the classes ``0 .. K-1`` in the order of the
dataset's own class ids (``label_index``), or of the sorted labels.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np
import pandas as pd

from l3_kedro.errors import EvaluationError

logger = logging.getLogger(__name__)

STORE_CLIP_COLUMNS = ("clip_id", "label", "fold", "start", "stop")
"""Columns the protocol needs in a store's clip table."""

_SHOWN = 5  # ids quoted in an error message


def _quote(values: Iterable[object]) -> str:
    values = list(values)
    shown = ", ".join(repr(v) for v in values[:_SHOWN])
    return shown + (f", ... ({len(values)} in all)" if len(values) > _SHOWN else "")


def code_classes(clips: pd.DataFrame, *, dataset: str) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Check a store's clip table and number its classes.

    Parameters
    ----------
    clips : pandas.DataFrame
        The store's clip table: at least :data:`STORE_CLIP_COLUMNS`, optionally
        ``label_index`` (the dataset's official class id).
    dataset : str
        Dataset name, for error messages.

    Returns
    -------
    coded : pandas.DataFrame
        A new table, one row per clip in store order, with columns
        ``clip_id``, ``source_id`` (the clip's source recording; the clip id
        itself for stores made before clip tables had sources), ``label``,
        ``fold`` (int), ``start``, ``stop`` (int64, window rows ``[start,
        stop)`` in the store) and ``target`` (int64, the class position
        ``0 .. K-1``).
    class_names : tuple of str
        The K labels, in target order (ascending ``label_index`` if present,
        else sorted labels).

    Raises
    ------
    EvaluationError
        If a column is missing, a clip id repeats, a clip has no windows,
        window ranges overlap or are out of order, a fold is not an integer,
        or a label has several ``label_index`` values.
    """
    missing = [c for c in STORE_CLIP_COLUMNS if c not in clips.columns]
    if missing:
        raise EvaluationError(
            f"The clip table of the '{dataset}' store lacks the column(s) {missing}; "
            "re-embed the dataset from an ingest clip table."
        )
    repeated = clips["clip_id"][clips["clip_id"].duplicated()].unique()
    if len(repeated):
        raise EvaluationError(f"The '{dataset}' store lists clip ids twice: {_quote(repeated)}.")
    empty = clips.loc[clips["stop"] <= clips["start"], "clip_id"]
    if len(empty):
        raise EvaluationError(
            f"Clips of the '{dataset}' store have no embedding window: {_quote(empty)}; "
            "re-embed them or drop them from the clip table."
        )
    starts, stops = clips["start"].to_numpy(), clips["stop"].to_numpy()
    if (starts[1:] < stops[:-1]).any():
        raise EvaluationError(
            f"The window ranges of the '{dataset}' store overlap or are out of clip order; "
            "the store is corrupt: re-embed the dataset."
        )
    try:
        folds = clips["fold"].astype(np.int64)
    except (TypeError, ValueError) as exc:
        raise EvaluationError(
            f"The folds of the '{dataset}' store are not integers: {exc}."
        ) from exc
    labels = clips["label"].astype(str)
    if "label_index" in clips.columns:
        per_label = clips.groupby(labels)["label_index"].nunique()
        per_index = clips.groupby("label_index")["label"].nunique()
        if (per_label > 1).any() or (per_index > 1).any():
            raise EvaluationError(
                f"Labels and label_index of the '{dataset}' store disagree "
                f"(labels {_quote(per_label.index[per_label > 1])} have several class ids, "
                f"class ids {_quote(per_index.index[per_index > 1])} several labels)."
            )
        order = clips.drop_duplicates("label_index").sort_values("label_index")
        class_names = tuple(order["label"].astype(str))
    else:
        class_names = tuple(sorted(labels.unique()))
    target = pd.Series(range(len(class_names)), index=class_names)[labels].to_numpy()
    if "source_id" in clips.columns:
        sources = clips["source_id"].astype(str).to_numpy()
    else:
        logger.warning(
            "The '%s' store has no source_id column (made before clip tables had one): "
            "every clip counts as its own source, so slices of one recording may land on "
            "both sides of the validation split. Re-ingest and re-embed the dataset.",
            dataset,
        )
        sources = clips["clip_id"].astype(str).to_numpy()
    coded = pd.DataFrame(
        {
            "clip_id": clips["clip_id"].to_numpy(),
            "source_id": sources,
            "label": labels.to_numpy(),
            "fold": folds.to_numpy(),
            "start": clips["start"].to_numpy(np.int64),
            "stop": clips["stop"].to_numpy(np.int64),
            "target": target.astype(np.int64),
        }
    )
    return coded, class_names


def check_against_clip_table(
    store_clips: pd.DataFrame,
    clip_table: pd.DataFrame,
    *,
    dataset: str,
    skipped_ids: Iterable[object] = (),
) -> None:
    """Check that a store was embedded from ``clip_table``.

    Every store clip must be in the table with the same label and fold; every
    table clip must be in the store unless the store lists it as skipped (such
    clips are logged, not evaluated).

    Parameters
    ----------
    store_clips : pandas.DataFrame
        The store's clip table (``clip_id``, ``label``, ``fold``).
    clip_table : pandas.DataFrame
        The dataset's clip table from ingest (``clip_id``, ``label``, ``fold``).
    dataset : str
        Dataset name, for error messages.
    skipped_ids : iterable
        Clip ids the embedding step reported as skipped.

    Raises
    ------
    EvaluationError
        On any difference: the store is stale or belongs to another dataset.
    """
    what = (
        f"The '{dataset}' embedding store does not match the '{dataset}' clip table "
        "(re-run the embedding of this dataset): "
    )
    missing = [c for c in ("clip_id", "label", "fold") if c not in clip_table.columns]
    if missing:
        raise EvaluationError(f"The '{dataset}' clip table lacks the column(s) {missing}.")
    table = clip_table.set_index(clip_table["clip_id"].astype(str))
    store = store_clips.set_index(store_clips["clip_id"].astype(str))
    unknown = store.index.difference(table.index)
    if len(unknown):
        raise EvaluationError(what + f"store clips not in the table: {_quote(unknown)}.")
    absent = table.index.difference(store.index)
    skipped = absent.intersection(pd.Index([str(s) for s in skipped_ids]))
    if len(absent) > len(skipped):
        raise EvaluationError(
            what + f"table clips not in the store: {_quote(absent.difference(skipped))}."
        )
    if len(skipped):
        logger.warning(
            "%s: %d clip(s) were skipped at embedding and are not evaluated: %s",
            dataset,
            len(skipped),
            _quote(skipped),
        )
    both = table.loc[store.index]
    for column, kind in (("label", str), ("fold", np.int64)):
        try:
            differs = store.index[
                both[column].astype(kind).to_numpy() != store[column].astype(kind).to_numpy()
            ]
        except (TypeError, ValueError) as exc:
            raise EvaluationError(what + f"its {column}s cannot be compared: {exc}.") from exc
        if len(differs):
            raise EvaluationError(what + f"the {column} differs for clips {_quote(differs)}.")
