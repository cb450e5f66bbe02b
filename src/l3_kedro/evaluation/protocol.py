"""The downstream classification protocol of the paper over an embedding store.

For each test fold (every predefined fold in turn, or those in
``test_folds``): hold out 10 % of the other folds' clips for validation
(stratified, by clip), standardise with statistics of the remaining training
windows, train the MLP for every (learning rate, weight decay) grid point with
early stopping, keep the grid point with the best validation clip accuracy,
and score the test clips by summed window likelihoods. See
:mod:`l3_kedro.evaluation` for the decisions this implies.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from l3_kedro.cluster import EngineConfig, map_tasks
from l3_kedro.datasets.embedding_store import EmbeddingStore
from l3_kedro.errors import EvaluationError, ParameterError
from l3_kedro.evaluation.clips import check_against_clip_table, code_classes
from l3_kedro.evaluation.config import ProtocolConfig
from l3_kedro.evaluation.features import (
    DEFAULT_CHUNK_BYTES,
    first_nonfinite_row,
    rows_per_chunk,
    window_rows,
)
from l3_kedro.evaluation.fold import FoldOutcome, evaluate_fold
from l3_kedro.evaluation.mlp import DownstreamMLP
from l3_kedro.evaluation.splits import FoldSplit, plan_test_folds, split_fold

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvaluationResult:
    """What the protocol reports for one store.

    Attributes
    ----------
    dataset : str
    class_names : tuple of str
        The K classes, in the order of confusion-matrix rows and columns.
    folds : pandas.DataFrame
        One row per test fold: fold, clip_accuracy (the paper's number),
        window_accuracy, macro_f1 (clip level), the chosen learning_rate and
        weight_decay, their val_clip_accuracy and val_window_accuracy,
        best_epoch, epochs_run, and n_{train,val,test}_{clips,windows}.
        Accuracies are fractions in [0, 1].
    grid : pandas.DataFrame
        One row per test fold and grid point: fold, learning_rate,
        weight_decay, val_clip_accuracy, val_window_accuracy,
        val_cross_entropy, best_epoch, epochs_run, seconds, chosen.
    per_class_accuracy : pandas.DataFrame
        Test clip recall per class (columns, ``class_names``) and fold (index).
    confusion : dict of int to np.ndarray [shape=(K, K)]
        Test clip confusion matrix per fold (rows true, columns predicted).
    config : ProtocolConfig
    store_attributes : dict
        The store's description of its embedding model.
    """

    dataset: str
    class_names: tuple[str, ...]
    folds: pd.DataFrame
    grid: pd.DataFrame
    per_class_accuracy: pd.DataFrame
    confusion: dict[int, np.ndarray]
    config: ProtocolConfig
    store_attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def mean_clip_accuracy(self) -> float:
        """Clip accuracy averaged over the test folds (the paper's figure)."""
        return float(self.folds["clip_accuracy"].mean())

    def metrics(self) -> dict[str, float]:
        """Flat scalar metrics (e.g. for MLflow): fold means and per-fold clip accuracy.

        ``clip_accuracy_std`` is the sample standard deviation over folds
        (ddof=1, as in the report's tables), absent with a single test fold.
        """
        out = {
            f"{name}_mean": float(self.folds[name].mean())
            for name in ("clip_accuracy", "window_accuracy", "macro_f1")
        }
        if len(self.folds) > 1:
            out["clip_accuracy_std"] = float(self.folds["clip_accuracy"].std(ddof=1))
        for fold, accuracy in zip(self.folds["fold"], self.folds["clip_accuracy"], strict=True):
            out[f"clip_accuracy_fold{fold}"] = float(accuracy)
        return out


def _require_finite(
    store: EmbeddingStore, clips: pd.DataFrame, *, dataset: str, chunk_rows: int
) -> None:
    """Raise on the first NaN or Inf in the windows of the clips, naming clip and fold."""
    rows, _ = window_rows(clips["start"].to_numpy(), clips["stop"].to_numpy())
    bad = first_nonfinite_row(store.embeddings, rows, chunk_rows=chunk_rows)
    if bad is None:
        return
    clip = clips.iloc[int(np.searchsorted(clips["stop"].to_numpy(), bad, side="right"))]
    raise EvaluationError(
        f"The '{dataset}' embeddings contain NaN or Inf in clip '{clip['clip_id']}' "
        f"(fold {clip['fold']}, store row {bad}, store '{store.path}'); re-embed that clip "
        "or drop it from the clip table."
    )


def evaluate_fold_of_store(split: FoldSplit, *, store_path: str, **options: Any) -> FoldOutcome:
    """:func:`evaluate_fold` of the store at ``store_path`` with a fresh MLP (a Dask task)."""
    with EmbeddingStore(store_path) as store:
        mlp = DownstreamMLP(input_dim=store.embedding_size, n_classes=len(options["class_names"]))
        return evaluate_fold(store.embeddings, split=split, mlp=mlp, **options)


def run_protocol(
    store: EmbeddingStore | str | Path,
    *,
    config: ProtocolConfig,
    dataset: str,
    clip_table: pd.DataFrame | None = None,
    chunk_bytes: int = DEFAULT_CHUNK_BYTES,
    engine: EngineConfig | None = None,
) -> EvaluationResult:
    """Evaluate a store with the downstream protocol.

    Parameters
    ----------
    store : EmbeddingStore or path
        The embeddings of one dataset; a path is opened and closed here.
    config : ProtocolConfig
    dataset : str
        Dataset name, for messages and the result.
    clip_table : pandas.DataFrame, optional
        The dataset's clip table from ingest; if given, the store must have
        been embedded from it (see
        :func:`~l3_kedro.evaluation.clips.check_against_clip_table`).
    chunk_bytes : int
        Bytes of float32 values read from the store at a time.
    engine : EngineConfig, optional
        Where the test folds run: here, one after the other (default), or
        mapped over a Dask cluster (each worker reads the store from its
        path). Both run :func:`evaluate_fold` with the same seeds.

    Returns
    -------
    EvaluationResult

    Raises
    ------
    EvaluationError
        On stores or clip tables the protocol cannot use (see the checks in
        :mod:`l3_kedro.evaluation.clips` and :mod:`l3_kedro.evaluation.splits`,
        and NaN or Inf embeddings).
    ParameterError
        On a ``test_folds`` naming a fold the dataset lacks.
    """
    if not isinstance(dataset, str) or not dataset:
        raise ParameterError(f"dataset={dataset!r}; expected the dataset's name.")
    if not isinstance(store, EmbeddingStore):
        with EmbeddingStore(store) as opened:
            return run_protocol(
                opened, config=config, dataset=dataset, clip_table=clip_table,
                chunk_bytes=chunk_bytes, engine=engine,
            )  # fmt: skip
    clips, class_names = code_classes(store.clips, dataset=dataset)
    if clip_table is not None:
        skipped = store.skips["clip_id"] if "clip_id" in store.skips.columns else ()
        check_against_clip_table(store.clips, clip_table, dataset=dataset, skipped_ids=skipped)
    test_folds = plan_test_folds(
        clips["fold"].to_numpy(), test_folds=config.test_folds, dataset=dataset
    )
    split_options = {
        "validation_fraction": config.validation_fraction,
        "seed": config.seed,
        "class_names": class_names,
        "dataset": dataset,
    }
    # every fold's splits are checked before any training starts
    splits = [split_fold(clips, test_fold=f, **split_options) for f in test_folds]
    chunk_rows = rows_per_chunk(store.embedding_size, chunk_bytes=chunk_bytes)
    _require_finite(store, clips, dataset=dataset, chunk_rows=chunk_rows)
    logger.info(
        "%s: %d clips, %d windows x %d, %d classes; test folds %s; grid of %d points",
        dataset,
        len(clips),
        store.n_windows,
        store.embedding_size,
        len(class_names),
        list(test_folds),
        len(config.grid_points),
    )
    fold_options = {
        "clips": clips, "class_names": class_names, "config": config, "dataset": dataset,
        "chunk_rows": chunk_rows,
    }  # fmt: skip
    started = time.perf_counter()
    if engine is not None and engine.distributed:
        outcomes = map_tasks(
            evaluate_fold_of_store, splits, engine=engine, store_path=str(store.path),
            **fold_options,
        )  # fmt: skip
        logger.info(
            "%s: %d folds done on the Dask cluster (%.0f s)",
            dataset,
            len(outcomes),
            time.perf_counter() - started,
        )
    else:
        # one compiled MLP for every fold and grid point (see l3_kedro.evaluation.mlp)
        mlp = DownstreamMLP(input_dim=store.embedding_size, n_classes=len(class_names))
        outcomes = []
        for i, split in enumerate(splits, start=1):
            outcomes.append(evaluate_fold(store.embeddings, split=split, mlp=mlp, **fold_options))
            logger.info(
                "%s: fold %d of %d done (%.0f s so far)",
                dataset,
                i,
                len(test_folds),
                time.perf_counter() - started,
            )
    return EvaluationResult(
        dataset=dataset,
        class_names=class_names,
        folds=pd.DataFrame([o.summary for o in outcomes]),
        grid=pd.DataFrame([row for o in outcomes for row in o.grid]),
        per_class_accuracy=pd.DataFrame(
            np.stack([o.metrics.per_class_accuracy for o in outcomes]),
            index=pd.Index(test_folds, name="fold"),
            columns=list(class_names),
        ),
        confusion={f: o.metrics.confusion for f, o in zip(test_folds, outcomes, strict=True)},
        config=config,
        store_attributes=dict(store.attributes),
    )


def evaluate_store(
    store: EmbeddingStore | str | Path,
    *,
    dataset: str,
    grid: Mapping[str, Sequence[float]],
    epochs: int = 50,
    patience: int = 20,
    batch_size: int = 64,
    validation_fraction: float = 0.1,
    test_folds: Sequence[int] | None = None,
    seed: int = 0,
    clip_table: pd.DataFrame | None = None,
) -> EvaluationResult:
    """Evaluate an embedding store with the paper's downstream protocol.

    Parameters
    ----------
    store : EmbeddingStore or path
    dataset : str
        Dataset name (messages, result).
    grid : mapping
        ``{"learning_rate": [...], "weight_decay": [...]}``; every pair is
        tried (paper: both ``[1e-5, 1e-4, 1e-3]``).
    epochs, patience, batch_size, validation_fraction, test_folds, seed
        See :class:`~l3_kedro.evaluation.config.ProtocolConfig`.
    clip_table : pandas.DataFrame, optional
        The ingest clip table the store must match.

    Returns
    -------
    EvaluationResult

    Raises
    ------
    ParameterError
        Naming the parameter out of its domain.
    EvaluationError
        See :func:`run_protocol`.
    """
    config = ProtocolConfig.from_parameters(
        {
            "grid": grid,
            "epochs": epochs,
            "patience": patience,
            "batch_size": batch_size,
            "validation_fraction": validation_fraction,
            "test_folds": test_folds,
            "seed": seed,
        }
    )
    return run_protocol(store, config=config, dataset=dataset, clip_table=clip_table)
