"""The ``embed`` pipeline: one store per (embedding model x dataset).

Models come from ``embed.models`` in ``parameters_embed.yml``, datasets from
``ingest.datasets`` (narrowed by ``embed.datasets`` when set). Each model is a
(dataset, model) pair is the namespace ``<dataset>.<model>`` (nested,
collapsible groups in kedro-viz); its store is ``<dataset>.<model>.embeddings``.
"""

from __future__ import annotations

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from l3_kedro.pipelines.embed.nodes import compute_embeddings
from l3_kedro.project_config import configured_names, load_parameters


def embedded_datasets(parameters: dict) -> list[str]:
    """Datasets to embed: ``embed.datasets`` if set, else every ingested dataset."""
    chosen = parameters.get("embed", {}).get("datasets")
    return list(chosen) if chosen else configured_names("ingest.datasets", parameters=parameters)


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


def create_pipeline(**kwargs) -> Pipeline:
    """Embedding branches for every configured model and dataset."""
    parameters = load_parameters()
    datasets = embedded_datasets(parameters)
    models = configured_names("embed.models", parameters=parameters)
    return sum((_branch(d, m) for m in models for d in datasets), Pipeline([]))
