"""The ``embed`` pipeline: one store per (embedding model x dataset).

Models come from ``embed.models`` in ``parameters_embed.yml`` and from every
model ``avc_training`` trains (its best model and, per
``embed.trained.checkpoints``, its checkpoints); datasets from
``ingest.datasets`` (narrowed by ``embed.datasets`` when set). Each model is a
(dataset, model) pair is the namespace ``<dataset>.<model>`` (nested,
collapsible groups in kedro-viz); its store is ``<dataset>.<model>.embeddings``.
"""

from __future__ import annotations

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from l3_kedro.catalog_names import embedded_datasets, trained_embeddings
from l3_kedro.pipelines.embed.nodes import compute_embeddings, compute_trained_embeddings
from l3_kedro.project_config import configured_names, load_parameters


def _branch(dataset: str, model: str) -> Pipeline:
    """Embed one dataset with one model; namespace ``<dataset>.<model>``."""
    func = update_wrapper(partial(compute_embeddings, model_name=model), compute_embeddings)
    template = Pipeline(
        [
            Node(
                func,
                inputs=["clips", "params:model", "params:settings"],
                outputs="embeddings",
                name="compute_embeddings",
            )
        ]
    )
    return Pipeline(
        template,
        namespace=f"{dataset}.{model}",
        inputs={"clips": f"{dataset}.clips"},
        parameters={
            "params:model": f"params:embed.models.{model}",
            "params:settings": "params:embed",
        },
        tags=["embed"],
    )


def _trained_branch(dataset: str, model: str, trained_model: str) -> Pipeline:
    """Embed one dataset with a trained L3 model from ``avc_training``."""
    func = update_wrapper(
        partial(compute_trained_embeddings, model_name=model), compute_trained_embeddings
    )
    template = Pipeline(
        [
            Node(
                func,
                inputs=["clips", "trained_model", "params:trained", "params:settings"],
                outputs="embeddings",
                name="compute_embeddings",
            )
        ]
    )
    return Pipeline(
        template,
        namespace=f"{dataset}.{model}",
        inputs={"clips": f"{dataset}.clips", "trained_model": trained_model},
        parameters={"params:trained": "params:embed.trained", "params:settings": "params:embed"},
        tags=["embed", "trained_l3"],
    )


def create_pipeline(**kwargs) -> Pipeline:
    """Embedding branches for every configured model and trained L3 model x dataset."""
    parameters = load_parameters()
    datasets = embedded_datasets(parameters)
    models = configured_names("embed.models", parameters=parameters)
    pipeline = sum((_branch(d, m) for m in models for d in datasets), Pipeline([]))
    trained = {n: t for n, t in trained_embeddings(parameters).items() if n not in models}
    return pipeline + sum(
        (_trained_branch(d, n, t) for n, t in trained.items() for d in datasets), Pipeline([])
    )
