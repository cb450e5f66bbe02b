"""The ``avc_training`` pipeline: one namespaced branch per variant in ``avc_training.variants``.

Each variant (input representation x training subset) becomes the namespace
``<variant>`` (a collapsible group in kedro-viz) holding ``train_avc_variant``
(outputs ``<variant>.avc_model``, the best-validation model, one
``<variant>.avc_checkpoint_<samples>`` per checkpoint and ``<variant>.avc_history``)
and ``evaluate_avc_variant`` (its test accuracies and MLflow run). The
variants' test tables end in ``avc_test_accuracy``, Table 1's data.
"""

from __future__ import annotations

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from l3_kedro.catalog_names import checkpoint_samples, trained_variants
from l3_kedro.pipelines.avc_training.nodes import (
    collect_avc_test_accuracy,
    evaluate_avc_variant,
    train_avc_variant,
)
from l3_kedro.project_config import load_parameters


def _variant_branch(name: str, samples: tuple[int, ...]) -> Pipeline:
    train = update_wrapper(partial(train_avc_variant, variant_name=name), train_avc_variant)
    checkpoints = [f"avc_checkpoint_{n}" for n in samples]
    template = Pipeline(
        [
            Node(
                train,
                inputs=["video_manifest", "params:variant", "params:training", "params:work_dir"],
                outputs=["avc_model", *checkpoints, "avc_history"],
                name="train_avc_variant",
            ),
            Node(
                evaluate_avc_variant,
                inputs=["video_manifest", "avc_model", "avc_history", "params:training"],
                outputs=["avc_test_accuracy", "avc_mlflow"],
                name="evaluate_avc_variant",
            ),
        ]
    )
    return Pipeline(
        template,
        namespace=name,
        inputs={"video_manifest": "avc.video_manifest"},
        parameters={
            "params:variant": f"params:avc_training.variants.{name}",
            "params:training": "params:avc_training.training",
            "params:work_dir": "params:avc_training.work_dir",
        },
        tags=["avc_training"],
    )


def create_pipeline(**kwargs) -> Pipeline:
    """Training and evaluation branches for every configured variant, then Table 1's data."""
    parameters = load_parameters()
    variants = trained_variants(parameters)
    if not variants:
        return Pipeline([])
    samples = checkpoint_samples(parameters)
    branches = sum((_variant_branch(v, samples) for v in variants), Pipeline([]))
    collect = Node(
        collect_avc_test_accuracy,
        inputs=[f"{v}.avc_test_accuracy" for v in variants],
        outputs="avc_test_accuracy@file",
        name="collect_avc_test_accuracy",
        tags=["avc_training"],
    )
    return branches + Pipeline([collect])
