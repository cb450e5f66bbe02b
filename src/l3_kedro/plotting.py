"""Figures shared by pipelines (matplotlib, no display needed)."""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure


def plot_confusion_matrix(
    matrix: np.ndarray, class_names: Sequence[str], *, title: str, normalise: bool = True
) -> Figure:
    """Heat map of a (K, K) confusion matrix, rows true classes, columns predictions.

    With ``normalise`` each row is divided by its total (per-class recall);
    cell labels show the counts.
    """
    counts = np.asarray(matrix, dtype=float)
    totals = counts.sum(axis=1, keepdims=True)
    shown = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
    if not normalise:
        shown = counts
    size = max(4.0, 0.45 * len(class_names) + 2)
    fig, ax = plt.subplots(figsize=(size, size * 0.9))
    image = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalise else None)
    ax.set_xticks(range(len(class_names)), class_names, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(class_names)), class_names, fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    if len(class_names) <= 20:
        for (row, col), value in np.ndenumerate(counts):
            colour = "white" if shown[row, col] > 0.5 else "black"
            ax.text(col, row, f"{value:.0f}", ha="center", va="center", fontsize=7, color=colour)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of true class")
    fig.tight_layout()
    return fig
