"""Figures of the paper's downstream results (Figs. 2-5): accuracy spread over folds.

Every function takes the ``downstream_eval`` results table (one row per
embedding x dataset x fold), draws one panel per dataset and returns a
:class:`matplotlib.figure.Figure`. Levels without results are left out; when
nothing at all can be drawn the figure says so instead of failing.
:func:`plot_confusion_matrix` draws the confusion matrix logged with each
downstream run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from l3_kedro.errors import ReportingError

JITTER = 0.12
"""Half-width of the horizontal jitter of the per-fold points, in box widths."""


MAX_WIDTH_IN = 9.5
"""Widest figure, inches: 1,045 px at the report's 110 dpi, inside its 1,100 px page."""


def no_results_figure(title: str, message: str) -> Figure:
    """A small figure that only says what is missing."""
    fig, ax = plt.subplots(figsize=(6, 2.2))
    ax.axis("off")
    ax.set_title(title, fontsize=11)
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=10, wrap=True)
    return fig


def _format_level(value: Any) -> str:
    if isinstance(value, float | np.floating) and np.isfinite(value) and value >= 1e3:
        for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
            if value >= scale:
                return f"{value / scale:g}{suffix}"
    return str(value)


def _check_columns(results: pd.DataFrame, columns: Sequence[str]) -> None:
    absent = [c for c in columns if c not in results.columns]
    if absent:
        raise ReportingError(
            f"the results table has no column(s) {absent}; expected the downstream_eval results"
        )


def _box_strip(ax: Any, groups: list[np.ndarray], labels: list[str], colours: list[str]) -> None:
    """Box plot of each group with its points (one per fold) jittered on top.

    Every point is drawn once: as a jittered dot, never again as a box-plot flier.
    """
    positions = np.arange(1, len(groups) + 1)
    boxes = ax.boxplot(groups, positions=positions, widths=0.5, patch_artist=True, showfliers=False)
    for patch, colour in zip(boxes["boxes"], colours, strict=True):
        patch.set(facecolor=colour, alpha=0.35)
    rng = np.random.default_rng(0)
    for position, values, colour in zip(positions, groups, colours, strict=True):
        offsets = rng.uniform(-JITTER, JITTER, size=len(values))
        ax.scatter(position + offsets, values, s=18, color=colour, edgecolor="black", zorder=3)
    tilt = len(labels) > 3 or max(map(len, labels), default=0) > 8
    ax.set_xticks(positions, labels, rotation=30 if tilt else 0, ha="right" if tilt else "center")
    ax.grid(axis="y", alpha=0.3)


def plot_accuracy_by_factor(
    results: pd.DataFrame,
    *,
    factor: str,
    title: str,
    kinds: Sequence[str] | None = None,
    order: Sequence[Any] | None = None,
    metric: str = "clip_accuracy",
) -> Figure:
    """Accuracy (%) per level of one design factor, one panel per dataset.

    Parameters
    ----------
    results : pandas.DataFrame
        The ``downstream_eval`` results; ``metric`` is a fraction in [0, 1]. Not modified.
    factor : str
        The design column on the x axis, e.g. ``"input_repr"``.
    title : str
        Figure title; also names what is missing in the empty figure.
    kinds : sequence of str, optional
        Keep only rows of these embedding kinds (e.g. ``["l3"]``); None keeps all.
    order : sequence, optional
        Levels in this order first, others after them (sorted); None sorts all.
    metric : str
        The column plotted.

    Returns
    -------
    matplotlib.figure.Figure
        Box and per-fold points per level present; a 'no results' figure when
        no row has both a level and a metric value.
    """
    _check_columns(results, ["dataset", factor, metric])
    rows = results[results[factor].notna() & results[metric].notna()]
    if kinds is not None and "kind" in rows.columns:
        rows = rows[rows["kind"].isin(list(kinds))]
    if rows.empty:
        which = f" (embedding kinds: {', '.join(kinds)})" if kinds else ""
        return no_results_figure(title, f"no results for {factor}{which} yet")
    datasets = sorted(rows["dataset"].unique())
    present = sorted(rows[factor].unique(), key=lambda v: (isinstance(v, str), v))
    levels = [v for v in (order or []) if v in present] + [
        v for v in present if v not in (order or [])
    ]
    colours = {lvl: plt.cm.tab10(i % 10) for i, lvl in enumerate(levels)}
    fig, axes = plt.subplots(
        1,
        len(datasets),
        figsize=(min(1.2 + 0.9 * len(levels) * len(datasets) + 1.5, MAX_WIDTH_IN), 3.6),
        squeeze=False,
    )
    for ax, dataset in zip(axes[0], datasets, strict=True):
        subset = rows[rows["dataset"] == dataset]
        shown = [lvl for lvl in levels if (subset[factor] == lvl).any()]
        groups = [100 * subset.loc[subset[factor] == lvl, metric].to_numpy(float) for lvl in shown]
        _box_strip(ax, groups, [_format_level(lvl) for lvl in shown], [colours[v] for v in shown])
        n_folds = subset["fold"].nunique() if "fold" in subset.columns else len(subset)
        ax.set_title(f"{dataset} ({n_folds} folds)", fontsize=10)
        ax.set_xlabel(factor)
    axes[0][0].set_ylabel(f"{metric.replace('_', ' ')} (%)")
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig


def plot_accuracy_by_embedding(
    results: pd.DataFrame,
    *,
    title: str,
    metric: str = "clip_accuracy",
    paper: Mapping[str, Mapping[str, float]] | None = None,
) -> Figure:
    """Accuracy (%) of every embedding, one panel per dataset (stacked), best first (Fig. 5).

    Boxes are coloured by embedding ``kind``; points are folds. ``paper``
    (``{kind: {dataset: accuracy in %}}``, the paper's Table 2) draws the
    published accuracy of each kind as a dashed line in its colour.
    """
    _check_columns(results, ["dataset", "embedding", metric])
    rows = results[results[metric].notna()]
    if rows.empty:
        return no_results_figure(title, "no results for any embedding yet")
    kinds = rows["kind"].fillna("?") if "kind" in rows.columns else rows["embedding"]
    palette = {k: plt.cm.tab10(i % 10) for i, k in enumerate(sorted(kinds.unique()))}
    kind_of = dict(zip(rows["embedding"], kinds, strict=True))
    datasets = sorted(rows["dataset"].unique())
    n_max = max(rows.loc[rows["dataset"] == d, "embedding"].nunique() for d in datasets)
    fig, axes = plt.subplots(
        len(datasets),
        1,
        figsize=(min(3.0 + 0.65 * n_max, MAX_WIDTH_IN), 3.6 * len(datasets)),
        squeeze=False,
    )
    for ax, dataset in zip(axes[:, 0], datasets, strict=True):
        subset = rows[rows["dataset"] == dataset]
        means = subset.groupby("embedding")[metric].mean().sort_values(ascending=False)
        groups = [
            100 * subset.loc[subset["embedding"] == e, metric].to_numpy(float) for e in means.index
        ]
        _box_strip(ax, groups, list(means.index), [palette[kind_of[e]] for e in means.index])
        for kind, numbers in (paper or {}).items():
            if dataset in numbers and kind in palette:
                ax.axhline(numbers[dataset], color=palette[kind], ls="--", lw=1, alpha=0.8)
        ax.set_title(dataset, fontsize=10)
        ax.set_ylabel(f"{metric.replace('_', ' ')} (%)")
    handles = [plt.Line2D([], [], marker="s", ls="", color=c, label=k) for k, c in palette.items()]
    if paper:
        handles.append(plt.Line2D([], [], ls="--", color="grey", label="paper (Table 2)"))
    fig.legend(handles=handles, title="kind", loc="center right", fontsize=8)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout(rect=(0, 0, 0.85, 1))
    return fig


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
