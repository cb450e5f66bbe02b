"""Nodes of the ``reporting`` pipeline: downstream results -> tests, figures, tables, report."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from l3_kedro.errors import ParameterError
from l3_kedro.reporting.comparisons import (
    KIND_REPRESENTATIVES,
    PAIRINGS,
    Comparison,
    check_choice,
    compare_design_choices,
)
from l3_kedro.reporting.figures import plot_accuracy_by_embedding, plot_accuracy_by_factor
from l3_kedro.reporting.report import (
    SIGNIFICANCE_SHOWN,
    missing_results,
    render_html,
    render_markdown,
)
from l3_kedro.reporting.tables import avc_accuracy_table, best_variant_table
from l3_kedro.results import checkpoint_curves, final_models
from l3_kedro.tracking import VariantRun, design_tags

SIGNIFICANCE_METRICS = (
    "p",
    "p_holm",
    "p_normal_approx",
    "effect_size",
    "mean_a",
    "mean_b",
    "mean_diff",
    "ci_low",
    "ci_high",
    "statistic",
    "n_pairs",
    "n_nonzero",
)
"""Columns of the significance table logged as metrics of each test's MLflow run."""

SIGNIFICANCE_PARAMS = (
    "dataset",
    "factor",
    "level_a",
    "level_b",
    "embeddings_a",
    "embeddings_b",
    "pairing",
    "p_method",
)
"""Columns of the significance table logged as parameters of each test's MLflow run."""


@dataclass(frozen=True)
class ReportingConfig:
    """The ``reporting`` parameters (see ``conf/base/parameters_reporting.yml``)."""

    comparisons: tuple[Comparison, ...]
    paper_table2: dict[str, dict[str, float]]
    paper_table1: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    title: str = "L3 downstream results"
    metric: str = "clip_accuracy"
    pairing: str = "fold"
    kind_representative: str = "best"
    alpha: float = 0.05
    seed: int = 0
    n_resamples: int = 10_000
    trained_kinds: tuple[str, ...] = ("l3",)
    paper_kinds: tuple[str, ...] = ("l3", "vggish", "soundnet")

    @classmethod
    def from_parameters(cls, params: dict[str, Any]) -> ReportingConfig:
        """Build from the ``reporting`` section; unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = set(params) - known
        if unknown:
            raise ParameterError(
                f"unknown key(s) {sorted(unknown)} under reporting in parameters_reporting.yml; "
                f"known: {sorted(known)}"
            )
        options = dict(params)
        for key in ("trained_kinds", "paper_kinds"):
            if key in options:
                options[key] = tuple(options[key])
        metric = options.get("metric", cls.metric)
        options["comparisons"] = tuple(
            Comparison.from_mapping(spec, metric=metric) for spec in options.get("comparisons", ())
        )
        check_choice(options.get("pairing", cls.pairing), PAIRINGS, parameter="reporting.pairing")
        check_choice(
            options.get("kind_representative", cls.kind_representative),
            KIND_REPRESENTATIVES,
            parameter="reporting.kind_representative",
        )
        return cls(**options)


def compare_design_choices_node(results: pd.DataFrame, config: ReportingConfig) -> pd.DataFrame:
    """Wilcoxon signed-rank test of every configured comparison on every dataset.

    Returns the table of :func:`l3_kedro.reporting.comparisons.compare_design_choices`,
    computed on the chosen models (:func:`final_models`).
    """
    return compare_design_choices(
        final_models(results),
        comparisons=config.comparisons,
        pairing=config.pairing,
        kind_representative=config.kind_representative,
        trained_kinds=config.trained_kinds,
        alpha=config.alpha,
        seed=config.seed,
        n_resamples=config.n_resamples,
    )


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def significance_runs(significance: pd.DataFrame) -> list[VariantRun]:
    """One MLflow run record per test: ``<dataset> / <factor>: <a> vs <b>``.

    Metrics: the p-values, effect size, means, interval and counts that the
    row has (a test that is not testable has no ``p``); parameters: what was
    compared and how; tags: ``l3_kedro.status`` (``tested``, ``not
    testable`` or ``missing``) and ``l3_kedro.status_reason`` (the whole
    status, which says why a comparison was not tested).
    """
    runs = []
    for row in significance.to_dict("records"):
        metrics = {key: float(row[key]) for key in SIGNIFICANCE_METRICS if _present(row[key])}
        status = str(row["status"])
        runs.append(
            VariantRun(
                name=f"{row['dataset']} / {row['factor']}: {row['level_a']} vs {row['level_b']}",
                params={k: row[k] for k in SIGNIFICANCE_PARAMS if _present(row[k])},
                metrics=metrics,
                tags={
                    "l3_kedro.kind": "significance",
                    "l3_kedro.status": status.split(":", maxsplit=1)[0],
                    "l3_kedro.status_reason": status,
                    "dataset": str(row["dataset"]),
                    "significant_holm": str(bool(row["significant_holm"])).lower(),
                    **design_tags(dataset=row["dataset"], factor=row["factor"]),
                },
            )
        )
    return runs


def plot_input_representation(results: pd.DataFrame, config: ReportingConfig) -> Figure:
    """Fig. 2: accuracy vs input representation of the trained L3 embeddings."""
    return plot_accuracy_by_factor(
        final_models(results),
        factor="input_repr",
        title="Accuracy vs input representation (paper Fig. 2)",
        kinds=config.trained_kinds,
        order=["linear", "mel128", "mel256"],
        metric=config.metric,
    )


def plot_training_subset(results: pd.DataFrame, config: ReportingConfig) -> Figure:
    """Fig. 3: accuracy vs the AVC training subset of the trained L3 embeddings."""
    return plot_accuracy_by_factor(
        final_models(results),
        factor="subset",
        title="Accuracy vs training subset (paper Fig. 3)",
        kinds=config.trained_kinds,
        order=["environmental", "music"],
        metric=config.metric,
    )


def plot_samples_seen(results: pd.DataFrame, config: ReportingConfig) -> Figure:
    """Fig. 4: accuracy vs AVC samples seen, over the checkpoints of the checkpointed variants."""
    curves = checkpoint_curves(results)
    variants = sorted(
        {f"{row.input_repr} {row.subset}" for row in curves.itertuples()} if len(curves) else []
    )
    which = f": L3 {', '.join(variants)}" if variants else ""
    return plot_accuracy_by_factor(
        curves,
        factor="samples_seen",
        title=f"Accuracy vs training samples seen (paper Fig. 4){which}",
        kinds=config.trained_kinds,
        metric=config.metric,
    )


def plot_embedding_comparison(results: pd.DataFrame, config: ReportingConfig) -> Figure:
    """Fig. 5: accuracy of every embedding (L3 variants and baselines)."""
    return plot_accuracy_by_embedding(
        final_models(results),
        title="Accuracy by embedding (paper Fig. 5; dashed: the paper's Table 2)",
        metric=config.metric,
        paper=config.paper_table2,
    )


def paper_tables(results: pd.DataFrame, config: ReportingConfig) -> pd.DataFrame:
    """Table 2: best variant of each kind per dataset, the paper's accuracy alongside (%)."""
    return best_variant_table(
        final_models(results),
        paper=config.paper_table2,
        kinds=config.paper_kinds,
        metric=config.metric,
    )


def avc_table(avc_test_accuracy: pd.DataFrame, config: ReportingConfig) -> pd.DataFrame:
    """Table 1: AVC test accuracy of every variant on every subset, the paper's alongside (%)."""
    return avc_accuracy_table(avc_test_accuracy, paper=config.paper_table1)


def _scale(results: pd.DataFrame) -> dict[str, str]:
    folds = results.groupby("dataset")["fold"].nunique() if len(results) else pd.Series()
    seen = sorted(results["samples_seen"].dropna().unique()) if "samples_seen" in results else []
    return {
        "datasets": ", ".join(f"{d} ({n} folds)" for d, n in folds.items()) or "none",
        "embeddings": ", ".join(sorted(results["embedding"].unique())) or "none",
        "result rows": str(len(results)),
        "samples seen (L3 training)": ", ".join(f"{v:g}" for v in seen) or "not recorded",
    }


def build_report(  # noqa: PLR0917 - a node: one positional argument per input dataset
    results: pd.DataFrame,
    significance: pd.DataFrame,
    table2: pd.DataFrame,
    table1: pd.DataFrame,
    input_repr_figure: Figure,
    subset_figure: Figure,
    samples_seen_figure: Figure,
    embedding_figure: Figure,
    config: ReportingConfig,
) -> tuple[str, str]:
    """The report: one self-contained HTML page and a Markdown summary.

    Returns
    -------
    html : str
        Figures as base64 PNG, tables as HTML, a 'what is missing' section.
    markdown : str
        Scale, what is missing and the tables.
    """
    missing = missing_results(
        results,
        significance,
        table2,
        paper_kinds=config.paper_kinds,
        avc_available=not table1.empty,
    )
    scale = _scale(results)
    tables = {
        "AVC test accuracy, training subset x test subset (Table 1, %)": table1,
        "Best variant per dataset vs the paper (Table 2, accuracy %)": table2,
        "Design-choice comparisons (Wilcoxon signed-rank, Holm-corrected)": significance[
            list(SIGNIFICANCE_SHOWN)
        ],
    }
    figures = {
        "Fig. 2: input representation": input_repr_figure,
        "Fig. 3: training subset": subset_figure,
        "Fig. 4: samples seen": samples_seen_figure,
        "Fig. 5: embeddings": embedding_figure,
    }
    common = {"title": config.title, "scale": scale, "tables": tables, "missing": missing}
    return render_html(figures=figures, **common), render_markdown(**common)


def latest_report(html: str, markdown: str) -> tuple[str, str]:
    """The report again, for ``data/08_reporting/latest/`` (a path that does not change)."""
    return html, markdown
