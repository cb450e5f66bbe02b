"""Model selection for one test fold: one MLP per grid point, chosen on validation clips."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np

from l3_kedro.errors import EvaluationError
from l3_kedro.evaluation.aggregate import predict_clips, window_accuracy
from l3_kedro.evaluation.config import ProtocolConfig
from l3_kedro.evaluation.features import WindowSet
from l3_kedro.evaluation.mlp import DownstreamMLP

logger = logging.getLogger(__name__)


def _better(score: tuple[float, ...], best: tuple[float, ...] | None) -> bool:
    return best is None or score > best


def search_grid(
    train: WindowSet,
    validation: WindowSet,
    *,
    mlp: DownstreamMLP,
    config: ProtocolConfig,
    seed: int,
    label: str,
) -> tuple[list[dict[str, Any]], int, list[np.ndarray]]:
    """Train one MLP per grid point and pick the best on the validation clips.

    The criterion is the clip accuracy on the validation clips (windows
    aggregated by summed likelihoods, as at test time); ties go to the higher
    validation window accuracy, then the lower validation cross-entropy, then
    the earlier grid point.

    Parameters
    ----------
    train, validation : WindowSet
    mlp : DownstreamMLP
        Retrained from scratch for every grid point.
    config : ProtocolConfig
    seed : int
        Same for every grid point, so points differ only by hyper-parameters.
    label : str
        Names the fold in log messages.

    Returns
    -------
    rows : list of dict
        Per grid point: learning_rate, weight_decay, val_clip_accuracy,
        val_window_accuracy (NaN if it diverged), val_cross_entropy,
        best_epoch, epochs_run, diverged (NaN outputs: never chosen),
        seconds, chosen.
    best : int
        Index of the chosen grid point.
    weights : list of np.ndarray
        The chosen MLP's weights (``keras.Model.get_weights`` order).

    Raises
    ------
    EvaluationError
        If every grid point diverged.
    """
    rows, best, best_score, best_weights = [], -1, None, []
    points = config.grid_points
    for i, (learning_rate, weight_decay) in enumerate(points):
        started = time.perf_counter()
        run = mlp.train(
            x_train=train.features,
            y_train=train.targets,
            x_val=validation.features,
            y_val=validation.targets,
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            epochs=config.epochs,
            patience=config.patience,
            batch_size=config.batch_size,
            seed=seed,
        )
        likelihoods = mlp.predict(validation.features)
        diverged = not np.isfinite(likelihoods).all()
        predicted = predict_clips(likelihoods, validation.owner, n_clips=validation.n_clips)
        row = {
            "learning_rate": learning_rate,
            "weight_decay": weight_decay,
            "val_clip_accuracy": np.nan
            if diverged
            else float(np.mean(predicted == validation.clip_targets)),
            "val_window_accuracy": np.nan
            if diverged
            else window_accuracy(likelihoods, validation.targets),
            "val_cross_entropy": run.val_cross_entropy,
            "best_epoch": run.best_epoch,
            "epochs_run": run.epochs_run,
            "diverged": diverged,
            "seconds": time.perf_counter() - started,
        }
        rows.append(row)
        score = (row["val_clip_accuracy"], row["val_window_accuracy"], -run.val_cross_entropy)
        if not diverged and _better(score, best_score):
            best, best_score, best_weights = i, score, mlp.get_weights()
        logger.info(
            "%s, grid point %d/%d (lr %g, wd %g): val clip acc %.4f, window acc %.4f, "
            "best epoch %d of %d, %.1f s%s",
            label,
            i + 1,
            len(points),
            learning_rate,
            weight_decay,
            row["val_clip_accuracy"],
            row["val_window_accuracy"],
            run.best_epoch,
            run.epochs_run,
            row["seconds"],
            " (diverged: NaN outputs)" if diverged else "",
        )
    if best < 0:
        raise EvaluationError(
            f"{label}: training diverged (NaN outputs) at every grid point; lower the "
            "learning rates of the grid."
        )
    for i, row in enumerate(rows):
        row["chosen"] = i == best
    return rows, best, best_weights
