"""The ``embed`` pipeline: one store per (embedding model x dataset).

Models come from ``embed.models`` in ``parameters_embed.yml`` and from every
model ``avc_training`` trains (its best model and, per
``embed.trained.checkpoints``, its checkpoints); datasets from
``ingest.datasets`` (narrowed by ``embed.datasets`` when set). Each
(dataset, model) pair is the namespace ``<dataset>.<model>`` (nested,
collapsible groups in kedro-viz); its store is ``<dataset>.<model>.embeddings``.
Trained models come from ``trained_models``, the index ``avc_training``
writes. The branches sit in the kedro-viz group ``downstream`` beside the
``downstream_eval`` nodes that read their stores. A last node lists what
every store holds in ``embedding_stores`` (logged to the run in MLflow).
"""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from l3_kedro.pipelines.branches import DOWNSTREAM, from_section, gather, grouped
from l3_kedro.pipelines.embed.nodes import (
    compute_embeddings,
    compute_trained_embeddings,
    index_embedding_stores,
)
from l3_kedro.project.plan import RunPlan, current_plan


def _branch(dataset: str, model: str) -> Pipeline:
    """Embed one dataset with one model; namespace ``<dataset>.<model>``."""
    func = from_section(compute_embeddings, "embed", f"models.{model}", "", model_name=model)
    template = Pipeline(
        [
            Node(
                func,
                inputs=["clips", "params:embed"],
                outputs="embeddings",
                name="compute_embeddings",
            )
        ]
    )
    return Pipeline(
        template,
        namespace=f"{dataset}.{model}",
        inputs={"clips": f"{dataset}.clips"},
        parameters="params:embed",
        tags=["embed"],
    )


def _trained_branch(dataset: str, model: str) -> Pipeline:
    """Embed one dataset with the trained L3 model ``model`` of ``trained_models``."""
    func = from_section(compute_trained_embeddings, "embed", "trained", "", model_name=model)
    template = Pipeline(
        [
            Node(
                func,
                inputs=["clips", "trained_models", "params:embed"],
                outputs="embeddings",
                name="compute_embeddings",
            )
        ]
    )
    return Pipeline(
        template,
        namespace=f"{dataset}.{model}",
        inputs={"clips": f"{dataset}.clips", "trained_models": "trained_models"},
        parameters="params:embed",
        tags=["embed", "trained_l3"],
    )


def create_pipeline(plan: RunPlan | None = None, **kwargs) -> Pipeline:
    """Embedding branches for every configured model and trained L3 model x dataset."""
    plan = plan or current_plan()
    datasets = plan.embedded_datasets
    pipeline = sum((_branch(d, m) for m in plan.models for d in datasets), Pipeline([]))
    pipeline += sum((_trained_branch(d, n) for n in plan.trained for d in datasets), Pipeline([]))
    pairs = list(plan.stores)
    if pairs:
        stores = [f"{d}.{m}.embeddings" for d, m in pairs]
        facts = gather(
            index_embedding_stores, stores, "embedding_stores", tags=["embed"], pairs=pairs
        )
        pipeline += Pipeline([facts])
    return grouped(pipeline, DOWNSTREAM)
