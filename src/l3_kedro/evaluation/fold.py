"""One test fold of the protocol: split, scale, search the grid, score the test clips.

The test fold's windows are read only after the grid search, with the scaler
fitted on the training windows, so they can influence neither scaling nor
model selection; the training matrices are released before they are read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from l3_kedro.errors import EvaluationError
from l3_kedro.evaluation.aggregate import (
    ClipMetrics,
    clip_metrics,
    predict_clips,
    window_accuracy,
)
from l3_kedro.evaluation.config import ProtocolConfig
from l3_kedro.evaluation.features import Scaler, fit_scaler, load_windows, window_rows
from l3_kedro.evaluation.grid import search_grid
from l3_kedro.evaluation.mlp import DownstreamMLP
from l3_kedro.evaluation.splits import FoldSplit

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FoldOutcome:
    """Everything one test fold yields.

    Attributes
    ----------
    summary : dict
        The fold's row of :attr:`EvaluationResult.folds`.
    grid : list of dict
        Its rows of :attr:`EvaluationResult.grid`.
    metrics : ClipMetrics
        Clip-level test metrics.
    scaler : Scaler
        Fitted on the training windows.
    """

    summary: dict[str, Any]
    grid: list[dict[str, Any]]
    metrics: ClipMetrics
    scaler: Scaler


def evaluate_fold(
    embeddings: Any,
    clips: pd.DataFrame,
    *,
    split: FoldSplit,
    mlp: DownstreamMLP,
    class_names: tuple[str, ...],
    config: ProtocolConfig,
    dataset: str,
    chunk_rows: int,
) -> FoldOutcome:
    """Run the protocol for one test fold.

    Parameters
    ----------
    embeddings : h5py.Dataset or np.ndarray [shape=(n_windows, D)]
        The store's embeddings, read in chunks.
    clips : pandas.DataFrame
        Coded clip table.
    split : FoldSplit
        From :func:`~l3_kedro.evaluation.splits.split_fold`.
    mlp : DownstreamMLP
        Built for the store's D and K; retrained for every grid point.
    class_names : tuple of str
    config : ProtocolConfig
    dataset : str
    chunk_rows : int
        Store rows read at a time.

    Returns
    -------
    FoldOutcome

    Raises
    ------
    EvaluationError
        If every grid point diverged, or the chosen MLP gives NaN on the test
        windows.
    """
    test_fold = split.test_fold
    label = f"{dataset} test fold {test_fold}"
    fit_rows, _ = window_rows(
        clips["start"].to_numpy()[split.train], clips["stop"].to_numpy()[split.train]
    )
    scaler = fit_scaler(
        embeddings, fit_rows, chunk_rows=chunk_rows, context=f"{label}, training windows"
    )
    load = {"scaler": scaler, "chunk_rows": chunk_rows}
    train = load_windows(embeddings, clips, split.train, context=f"{label}, training", **load)
    validation = load_windows(
        embeddings, clips, split.validation, context=f"{label}, validation", **load
    )
    logger.info(
        "%s: %d training clips (%d windows), %d validation clips (%d windows), %d test clips",
        label,
        train.n_clips,
        train.targets.size,
        validation.n_clips,
        validation.targets.size,
        split.test.size,
    )
    seed = int(np.random.SeedSequence((config.seed, test_fold, 1)).generate_state(1)[0])
    grid, best, weights = search_grid(
        train, validation, mlp=mlp, config=config, seed=seed, label=label
    )
    counts = {
        "n_train_clips": train.n_clips,
        "n_val_clips": validation.n_clips,
        "n_train_windows": int(train.targets.size),
        "n_val_windows": int(validation.targets.size),
    }
    del train, validation  # release the training matrices before reading the test fold
    test = load_windows(embeddings, clips, split.test, context=f"{label}, test", **load)
    mlp.set_weights(weights)
    likelihoods = mlp.predict(test.features)
    if not np.isfinite(likelihoods).all():
        raise EvaluationError(f"{label}: the chosen MLP gives NaN or Inf on the test windows.")
    metrics = clip_metrics(
        test.clip_targets,
        predict_clips(likelihoods, test.owner, n_clips=test.n_clips),
        n_classes=len(class_names),
    )
    chosen = grid[best]
    summary = {
        "fold": test_fold,
        "clip_accuracy": metrics.accuracy,
        "window_accuracy": window_accuracy(likelihoods, test.targets),
        "macro_f1": metrics.macro_f1,
        "learning_rate": chosen["learning_rate"],
        "weight_decay": chosen["weight_decay"],
        "val_clip_accuracy": chosen["val_clip_accuracy"],
        "val_window_accuracy": chosen["val_window_accuracy"],
        "best_epoch": chosen["best_epoch"],
        "epochs_run": chosen["epochs_run"],
        **counts,
        "n_test_clips": test.n_clips,
        "n_test_windows": int(test.targets.size),
    }
    logger.info(
        "%s: clip accuracy %.4f, window accuracy %.4f, macro F1 %.4f (lr %g, wd %g)",
        label,
        summary["clip_accuracy"],
        summary["window_accuracy"],
        summary["macro_f1"],
        summary["learning_rate"],
        summary["weight_decay"],
    )
    return FoldOutcome(
        summary=summary,
        grid=[{"fold": test_fold, **row} for row in grid],
        metrics=metrics,
        scaler=scaler,
    )
