"""The ``ingest`` pipeline: one namespaced clip-table branch per configured dataset.

The datasets come from ``ingest.datasets`` in ``parameters_ingest.yml``; each
becomes the namespace of its outputs, e.g. ``us8k.clips`` and
``us8k.ingest_skips`` (catalog factories in ``catalog.yml``).
"""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from l3_kedro.pipelines.ingest.nodes import build_clip_table
from l3_kedro.project_config import configured_names


def _dataset_branch(name: str) -> Pipeline:
    template = Pipeline(
        [
            Node(
                build_clip_table,
                inputs=["params:source", "params:policy"],
                outputs=["clips", "ingest_skips"],
                name="build_clip_table",
            )
        ]
    )
    return Pipeline(
        template,
        namespace=name,
        parameters={
            "params:source": f"params:ingest.datasets.{name}",
            "params:policy": "params:ingest.policy",
        },
        tags=["ingest", "downstream_data"],
    )


def create_pipeline(**kwargs) -> Pipeline:
    """One clip-table branch per dataset named under ``ingest.datasets``."""
    return sum((_dataset_branch(n) for n in configured_names("ingest.datasets")), Pipeline([]))
