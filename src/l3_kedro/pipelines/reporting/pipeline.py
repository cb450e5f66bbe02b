"""The ``reporting`` pipeline: ``downstream_results`` -> tests, figures, tables, report.

Every node reads the results table as it is; figures and tables say what is
missing (e.g. no trained L3 embedding yet) rather than fail.
"""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from l3_kedro.pipelines.branches import REPORTING, grouped, parsed_section
from l3_kedro.pipelines.reporting.nodes import (
    ReportingConfig,
    avc_table,
    build_report,
    compare_design_choices_node,
    latest_report,
    paper_tables,
    plot_embedding_comparison,
    plot_input_representation,
    plot_samples_seen,
    plot_training_subset,
    significance_runs,
)
from l3_kedro.project.plan import RunPlan

FIGURES = {
    "input_repr_figure": plot_input_representation,
    "training_subset_figure": plot_training_subset,
    "samples_seen_figure": plot_samples_seen,
    "embedding_figure": plot_embedding_comparison,
}
"""Output dataset of each figure node."""


def _configured(func):
    """``func`` as a node: its data inputs, then ``params:reporting`` parsed into a :class:`ReportingConfig`."""
    return parsed_section(func, ReportingConfig.from_parameters)


def create_pipeline(plan: RunPlan | None = None, **kwargs) -> Pipeline:
    """Significance table and its MLflow runs, Figs. 2-5, Table 2, HTML and Markdown report."""
    inputs = ["downstream_results", "params:reporting"]
    nodes = [
        Node(
            _configured(compare_design_choices_node),
            inputs=inputs,
            outputs="design_choice_significance",
            name="compare_design_choices",
        ),
        Node(
            significance_runs,
            inputs="design_choice_significance",
            outputs="significance_mlflow_runs",
            name="significance_runs",
        ),
        Node(_configured(paper_tables), inputs=inputs, outputs="paper_table2", name="paper_tables"),
        Node(
            _configured(avc_table),
            inputs=["avc_test_accuracy@optional", "params:reporting"],
            outputs="paper_table1",
            name="avc_table",
        ),
        *(
            Node(_configured(func), inputs=inputs, outputs=out, name=func.__name__)
            for out, func in FIGURES.items()
        ),
        Node(
            _configured(build_report),
            inputs=[
                "downstream_results",
                "design_choice_significance",
                "paper_table2",
                "paper_table1",
                "input_repr_figure",
                "training_subset_figure",
                "samples_seen_figure",
                "embedding_figure",
                "params:reporting",
            ],
            outputs=["report_html", "report_markdown"],
            name="build_report",
        ),
        Node(
            latest_report,
            inputs=["report_html", "report_markdown"],
            outputs=["report_latest_html", "report_latest_markdown"],
            name="publish_latest_report",
        ),
    ]
    return grouped(Pipeline(nodes, tags=["reporting"]), REPORTING)
