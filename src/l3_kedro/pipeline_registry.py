"""Project pipelines, built from one run plan."""

from __future__ import annotations

from kedro.pipeline import Pipeline

from l3_kedro.pipelines import avc_training, downstream_eval, embed, ingest, reporting
from l3_kedro.project.plan import current_plan

PIPELINES = {
    "ingest": ingest,
    "avc_training": avc_training,
    "embed": embed,
    "downstream_eval": downstream_eval,
    "reporting": reporting,
}
"""The five pipelines, in run order."""


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines; ``__default__`` runs them all in order.

    The parameters are read once into a :class:`~l3_kedro.project.plan.RunPlan`,
    which every pipeline builds its branches from.
    """
    plan = current_plan()
    pipelines = {name: module.create_pipeline(plan) for name, module in PIPELINES.items()}
    pipelines["__default__"] = sum(pipelines.values(), Pipeline([]))
    return pipelines
