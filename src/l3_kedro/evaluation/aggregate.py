"""From window likelihoods to clip predictions, and the metrics of a fold.

A clip's prediction is the class with the largest *sum* of the class
likelihoods of its windows (paper section 3.2, after Arandjelovic and
Zisserman), not a majority vote of window decisions. Ties go to the lowest
class position (:func:`numpy.argmax`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score


def sum_clip_likelihoods(likelihoods: np.ndarray, owner: np.ndarray, *, n_clips: int) -> np.ndarray:
    """Sum window likelihoods per clip.

    Parameters
    ----------
    likelihoods : np.ndarray [shape=(n_windows, K)]
        Class likelihoods of every window.
    owner : np.ndarray [shape=(n_windows,)], int
        Clip position ``0 .. n_clips-1`` of each window.
    n_clips : int

    Returns
    -------
    np.ndarray [shape=(n_clips, K)], float64
    """
    likelihoods = np.asarray(likelihoods, dtype=np.float64)
    return np.stack(
        [np.bincount(owner, weights=column, minlength=n_clips) for column in likelihoods.T],
        axis=1,
    )


def predict_clips(likelihoods: np.ndarray, owner: np.ndarray, *, n_clips: int) -> np.ndarray:
    """Clip predictions: argmax of the summed window likelihoods.

    Parameters
    ----------
    likelihoods : np.ndarray [shape=(n_windows, K)]
    owner : np.ndarray [shape=(n_windows,)], int
    n_clips : int

    Returns
    -------
    np.ndarray [shape=(n_clips,)], int64
        Class position of each clip.
    """
    return np.argmax(sum_clip_likelihoods(likelihoods, owner, n_clips=n_clips), axis=1)


def window_accuracy(likelihoods: np.ndarray, targets: np.ndarray) -> float:
    """Share of windows whose most likely class is their clip's class.

    Parameters
    ----------
    likelihoods : np.ndarray [shape=(n_windows, K)]
    targets : np.ndarray [shape=(n_windows,)], int

    Returns
    -------
    float
        In [0, 1].
    """
    return float(np.mean(np.argmax(likelihoods, axis=1) == targets))


@dataclass(frozen=True)
class ClipMetrics:
    """Clip-level scores of one fold.

    Attributes
    ----------
    accuracy : float
        Share of clips classified right, in [0, 1] (the paper's number).
    macro_f1 : float
        Unweighted mean of per-class F1 over the classes that occur among
        the true or predicted clips, in [0, 1].
    per_class_accuracy : np.ndarray [shape=(K,)], float64
        Recall of each class; NaN for a class with no clip in the fold.
    confusion : np.ndarray [shape=(K, K)], int64
        Clip counts, rows the true class, columns the predicted class.
    """

    accuracy: float
    macro_f1: float
    per_class_accuracy: np.ndarray
    confusion: np.ndarray


def clip_metrics(targets: np.ndarray, predictions: np.ndarray, *, n_classes: int) -> ClipMetrics:
    """Score clip predictions.

    Parameters
    ----------
    targets, predictions : np.ndarray [shape=(n_clips,)], int
        True and predicted class positions ``0 .. n_classes-1``.
    n_classes : int

    Returns
    -------
    ClipMetrics
    """
    confusion = confusion_matrix(targets, predictions, labels=np.arange(n_classes))
    support = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(support > 0, np.diag(confusion) / support, np.nan)
    return ClipMetrics(
        accuracy=float(np.mean(targets == predictions)),
        macro_f1=float(f1_score(targets, predictions, average="macro", zero_division=0)),
        per_class_accuracy=per_class.astype(np.float64),
        confusion=confusion.astype(np.int64),
    )
