"""The ``avc_training`` pipeline: one namespaced branch per variant in ``avc_training.variants``.

Each variant (input representation x training subset) becomes the namespace
``<variant>`` (a collapsible group in kedro-viz) holding ``train_avc_variant``
(outputs ``<variant>.avc_model``, the best-validation model, one
``<variant>.avc_checkpoint_<samples>`` per checkpoint and ``<variant>.avc_history``)
and ``evaluate_avc_variant`` (its test accuracies and MLflow run). The
variants' test tables end in ``avc_test_accuracy``, Table 1's data, and every
model (best and checkpoints, with its MLflow run) is named in the index
``trained_models``, the one dataset ``embed`` reads. All nodes sit in the
kedro-viz group ``avc_training``.
"""

from __future__ import annotations

from kedro.pipeline import Node, Pipeline

from l3_kedro.pipelines.avc_training.nodes import (
    collect_avc_test_accuracy,
    evaluate_avc_variant,
    index_trained_models,
    train_avc_variant,
)
from l3_kedro.pipelines.branches import AVC_TRAINING, from_section, gather, grouped
from l3_kedro.project.plan import RunPlan, current_plan, model_datasets


def _variant_branch(name: str, samples: tuple[int, ...]) -> Pipeline:
    train = from_section(
        train_avc_variant,
        "avc_training",
        f"variants.{name}",
        "training",
        "work_dir",
        variant_name=name,
    )
    checkpoints = [f"avc_checkpoint_{n}" for n in samples]
    template = Pipeline(
        [
            Node(
                train,
                inputs=["video_manifest", "params:avc_training"],
                outputs=["avc_model", *checkpoints, "avc_history"],
                name="train_avc_variant",
            ),
            Node(
                from_section(evaluate_avc_variant, "avc_training", "training"),
                inputs=["video_manifest", "avc_model", "avc_history", "params:avc_training"],
                outputs=["avc_test_accuracy", "avc_mlflow"],
                name="evaluate_avc_variant",
            ),
        ]
    )
    return Pipeline(
        template,
        namespace=name,
        inputs={"video_manifest": "avc.video_manifest"},
        parameters="params:avc_training",
        tags=["avc_training"],
    )


def create_pipeline(plan: RunPlan | None = None, **kwargs) -> Pipeline:
    """Training and evaluation branches for every configured variant, then Table 1's data."""
    plan = plan or current_plan()
    variants, samples = list(plan.variants), plan.checkpoint_samples
    if not variants:
        return Pipeline([])
    branches = sum((_variant_branch(v, samples) for v in variants), Pipeline([]))
    tests = [f"{v}.avc_test_accuracy" for v in variants]
    collect = gather(
        collect_avc_test_accuracy, tests, "avc_test_accuracy@file", tags=["avc_training"]
    )
    models = {name: entry for v in variants for name, entry in model_datasets(v, samples).items()}
    index = gather(
        index_trained_models,
        [*models.values(), *(f"{v}.avc_mlflow" for v in variants)],
        "trained_models",
        tags=["avc_training", "trained_l3"],
        names=list(models),
        variants=variants,
    )
    return grouped(branches + Pipeline([collect, index]), AVC_TRAINING)
