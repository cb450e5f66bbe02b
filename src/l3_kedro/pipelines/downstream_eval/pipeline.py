"""The ``downstream_eval`` pipeline: the paper's classifier protocol on every store.

For every embedding model (``embed.models`` and the trained L3 models) and dataset, narrowed at run
time by ``downstream_eval.embeddings`` and ``downstream_eval.datasets``
(``kedro run --pipeline downstream_eval --params
"downstream_eval.embeddings=soundnet+handcrafted"``), one node evaluates the
store ``<dataset>.<model>.embeddings`` already in the catalog; a last node
stacks every results table into ``downstream_results`` and lists the MLflow
run of each pair in ``downstream_runs``. The nodes sit in the kedro-viz group
``downstream``, each in the ``<dataset>.<model>`` branch that made its store.
"""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from l3_kedro.pipelines.branches import DOWNSTREAM, from_section, gather, grouped
from l3_kedro.pipelines.downstream_eval.nodes import (
    collect_results,
    evaluate_embeddings,
    index_downstream_runs,
)
from l3_kedro.project.plan import RunPlan, current_plan


def _branch(dataset: str, model: str) -> Pipeline:
    func = from_section(
        evaluate_embeddings,
        "downstream_eval",
        "protocol",
        "test_folds",
        "engine",
        dataset=dataset,
        embedding=model,
    )
    template = Pipeline(
        [
            Node(
                func,
                inputs=["embeddings", "clips", "params:downstream_eval"],
                outputs=["downstream_folds", "downstream_mlflow"],
                name="evaluate_embeddings",
            )
        ]
    )
    return Pipeline(
        template,
        namespace=f"{dataset}.{model}",
        inputs={"clips": f"{dataset}.clips"},
        parameters="params:downstream_eval",
        tags=["downstream_eval"],
    )


def create_pipeline(plan: RunPlan | None = None, **kwargs) -> Pipeline:
    """Evaluation branches for the selected embeddings x datasets, then the results table."""
    plan = plan or current_plan()
    pairs = list(plan.evaluated)
    branches = sum((_branch(d, m) for d, m in pairs), Pipeline([]))
    folds = [f"{d}.{m}.downstream_folds" for d, m in pairs]
    collect = gather(collect_results, folds, "downstream_results", tags=["downstream_eval"])
    runs = gather(
        index_downstream_runs,
        [f"{d}.{m}.downstream_mlflow" for d, m in pairs],
        "downstream_runs",
        tags=["downstream_eval"],
        pairs=pairs,
    )
    return grouped(branches + Pipeline([collect, runs]), DOWNSTREAM)
