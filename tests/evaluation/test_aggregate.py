"""Tests for l3_kedro.evaluation.aggregate (clip predictions and metrics)."""

from __future__ import annotations

import numpy as np

from l3_kedro.evaluation import (
    clip_metrics,
    predict_clips,
    sum_clip_likelihoods,
    window_accuracy,
)

# Clip 0 has three windows: two lean to class 1 (0.6), one is sure of class 0.
# Majority vote says class 1; the summed likelihoods (1.8 vs 1.2) say class 0.
# Clip 1 (windows interleaved with clip 0's) agrees either way: class 2.
LIKELIHOODS = np.array(
    [
        [0.4, 0.6, 0.0],
        [0.1, 0.1, 0.8],
        [0.4, 0.6, 0.0],
        [1.0, 0.0, 0.0],
        [0.0, 0.3, 0.7],
    ]
)
OWNER = np.array([0, 1, 0, 0, 1])


def test_clip_prediction_sums_likelihoods_instead_of_voting():
    sums = sum_clip_likelihoods(LIKELIHOODS, OWNER, n_clips=2)
    np.testing.assert_allclose(sums, [[1.8, 1.2, 0.0], [0.1, 0.4, 1.5]])
    decisions = np.argmax(LIKELIHOODS, axis=1)
    votes = [np.bincount(decisions[np.equal(OWNER, c)]).argmax() for c in (0, 1)]
    assert votes == [1, 2]
    assert predict_clips(LIKELIHOODS, OWNER, n_clips=2).tolist() == [0, 2]


def test_ties_go_to_the_lowest_class():
    assert predict_clips(np.array([[0.5, 0.5]]), np.array([0]), n_clips=1).tolist() == [0]


def test_window_accuracy_counts_windows():
    assert window_accuracy(LIKELIHOODS, np.array([0, 2, 0, 0, 2])) == 0.6


def test_clip_metrics_by_hand():
    targets = np.array([0, 0, 1, 1, 1, 2])
    predicted = np.array([0, 1, 1, 1, 0, 1])
    metrics = clip_metrics(targets, predicted, n_classes=4)
    assert metrics.accuracy == 3 / 6
    np.testing.assert_array_equal(
        metrics.confusion, [[1, 1, 0, 0], [1, 2, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]]
    )
    np.testing.assert_allclose(metrics.per_class_accuracy[:3], [1 / 2, 2 / 3, 0])
    assert np.isnan(metrics.per_class_accuracy[3])  # no clip of class 3
    # F1: class 0: p 1/2, r 1/2 -> 1/2; class 1: p 2/4, r 2/3 -> 4/7; class 2: 0
    assert np.isclose(metrics.macro_f1, (1 / 2 + 4 / 7 + 0) / 3)
