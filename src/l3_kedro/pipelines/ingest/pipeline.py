"""The ``ingest`` pipeline: clip tables for downstream datasets, the AVC video manifest.

The datasets come from ``ingest.datasets`` in ``parameters_ingest.yml``; each
becomes the namespace of its outputs, e.g. ``us8k.clips`` and
``us8k.ingest_skips`` (catalog factories in ``catalog.yml``). The AVC
half (``ingest.avc``) writes ``avc.video_manifest`` and ``avc.video_skips``;
in the embedded default it first generates the synthetic corpus, the raw
dataset ``avc.synthetic_corpus`` (``ingest.avc.synthetic`` gives its options,
the catalog its folder).
"""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from l3_kedro.pipelines.branches import INGEST, from_section, grouped
from l3_kedro.pipelines.ingest.nodes import (
    build_clip_table,
    build_synthetic_video_table,
    build_video_table,
    prepare_synthetic_corpus,
)
from l3_kedro.project.plan import RunPlan, current_plan


def _dataset_branch(name: str) -> Pipeline:
    template = Pipeline(
        [
            Node(
                from_section(
                    build_clip_table, "ingest", f"datasets.{name}", "policy", dataset=name
                ),
                inputs="params:ingest",
                outputs=["clips", "ingest_skips"],
                name="build_clip_table",
            )
        ]
    )
    return Pipeline(
        template, namespace=name, parameters="params:ingest", tags=["ingest", "downstream_data"]
    )


def _video_branch(synthetic: bool) -> Pipeline:
    """The AVC half: (the synthetic corpus ->) ``avc.video_manifest``."""
    table = from_section(build_video_table, "ingest", "avc.source", "policy")
    inputs = ["params:ingest"]
    nodes = []
    if synthetic:
        nodes.append(
            Node(
                from_section(prepare_synthetic_corpus, "ingest", "avc.synthetic"),
                inputs="params:ingest",
                outputs="synthetic_corpus",
                name="prepare_synthetic_corpus",
            )
        )
        table = from_section(build_synthetic_video_table, "ingest", "avc.source", "policy")
        inputs = ["synthetic_corpus", "params:ingest"]
    nodes.append(
        Node(
            table,
            inputs=inputs,
            outputs=["video_manifest", "video_skips"],
            name="build_video_table",
        )
    )
    return Pipeline(nodes, namespace="avc", parameters="params:ingest", tags=["ingest", "avc_data"])


def create_pipeline(plan: RunPlan | None = None, **kwargs) -> Pipeline:
    """One clip-table branch per ``ingest.datasets`` entry, plus the AVC corpus if configured."""
    plan = plan or current_plan()
    pipeline = sum((_dataset_branch(n) for n in plan.datasets), Pipeline([]))
    if plan.avc_corpus:
        pipeline += _video_branch(plan.synthetic_corpus)
    return grouped(pipeline, INGEST)
