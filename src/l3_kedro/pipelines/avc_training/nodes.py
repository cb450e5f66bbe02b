"""Nodes of the ``avc_training`` pipeline: video manifest -> trained L3-Net variants."""

from __future__ import annotations

import logging
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd

from l3_kedro.audio.constants import TARGET_SR
from l3_kedro.avc.batches import AvcPairBatches, keras_input
from l3_kedro.avc.config import AvcTrainingConfig
from l3_kedro.avc.distribution import is_chief, precision_policy, strategy_scope
from l3_kedro.avc.training import build_training_model, compile_l3net, train_l3net
from l3_kedro.avc.variants import VariantSpec, fingerprint, shared_video_cache
from l3_kedro.datasets.trained_model import TrainedModel
from l3_kedro.errors import ParameterError
from l3_kedro.models.l3net import load_audio_embedding_model
from l3_kedro.tracking import LiveRun, VariantRun, design_tags, live_run

logger = logging.getLogger(__name__)

TEST_ACCURACY_COLUMNS = (
    "variant",
    "input_repr",
    "train_subset",
    "test_subset",
    "accuracy",
    "loss",
    "n_pairs",
    "samples_seen",
)
"""Columns of the AVC test accuracy table (Table 1's data; accuracy in [0, 1])."""


LIVE_METRICS = ("loss", "accuracy", "val_loss", "val_accuracy")
"""History columns logged to MLflow as each epoch ends (step: samples seen)."""


def _variant_tags(variant_name: str, spec: VariantSpec) -> dict[str, str]:
    return design_tags(
        variant=variant_name, input_repr=spec.input_repr, subset=spec.subset, embedding_kind="l3"
    )


def _subset_manifest(manifest: pd.DataFrame, subset: str, where: str) -> pd.DataFrame:
    subsets = sorted(manifest["subset"].unique())
    if subset not in subsets:
        raise ParameterError(
            f"{where}.subset={subset!r} has no videos in the manifest (subsets: {subsets}); "
            "check ingest.avc or the variant."
        )
    return manifest


def train_avc_variant(
    video_manifest: pd.DataFrame,
    variant: dict[str, Any],
    training: dict[str, Any],
    work_dir: str,
    *,
    variant_name: str,
) -> tuple:
    """Train one variant on its subset's training videos (resuming or reusing past work).

    Returns
    -------
    tuple
        ``(best model, checkpoint models ..., history)``: :class:`TrainedModel`
        records (best validation accuracy first, then one per checkpoint in
        order of samples seen) and the per-epoch history table.
    """
    spec = VariantSpec.from_parameters(variant_name, variant)
    config = AvcTrainingConfig.from_parameters(training)
    _subset_manifest(video_manifest, spec.subset, f"avc_training.variants.{variant_name}")
    cache = shared_video_cache(video_manifest, config)
    train = AvcPairBatches.from_config(
        cache,
        cache.indices(subset=spec.subset, split="train"),
        config,
        stream=f"train/{spec.subset}",
        n_batches=config.batches_per_epoch,
        train=True,
    )
    validation = AvcPairBatches.from_config(
        cache,
        cache.indices(subset=spec.subset, split="validation"),
        config,
        stream=f"validation/{spec.subset}",
        n_batches=config.validation_batches,
        train=False,
    )

    def build_model() -> keras.Model:
        return build_training_model(spec.input_repr, config, name=variant_name)

    digest = fingerprint(config, spec, video_manifest)
    run_key = f"avc_training/{variant_name}/{digest}"
    tags = {"l3_kedro.kind": "avc_training", **_variant_tags(variant_name, spec)}
    scope = strategy_scope(config.distribution)  # multi_worker: before TensorFlow runs
    chief = is_chief(config.distribution)
    tracked = live_run(f"avc / {variant_name}", key=run_key, tags=tags) if chief else nullcontext()
    with tracked as live:
        with precision_policy(config):
            outcome = train_l3net(
                build_model=build_model,
                train=train,
                validation=validation,
                config=config,
                work_dir=Path(work_dir) / variant_name,
                fingerprint=digest,
                label=variant_name,
                scope=scope,
                on_epoch_end=(
                    (lambda row: _log_epoch(live, row, config, Path(work_dir) / variant_name))
                    if chief
                    else None
                ),
                chief=chief,
            )
        if chief:
            live.register_keras_model(  # raw audio (batch, 48000) -> (batch, 6144)
                lambda: load_audio_embedding_model(outcome.best_model_path, name=variant_name),
                name=variant_name,
                example=np.zeros((2, TARGET_SR), np.float32),
            )
    history = outcome.history
    base = {
        "run_key": run_key,
        "variant": variant_name,
        "kind": "l3",
        "input_repr": spec.input_repr,
        "subset": spec.subset,
        "width": config.width,
        "image_size": config.image_size,
    }

    def record(path: Path, epoch: int, selection: str) -> TrainedModel:
        row = history.loc[history["epoch"] == epoch].iloc[0]
        facts = {
            "epoch": int(epoch),
            "samples_seen": int(row["samples_seen"]),
            "val_accuracy": float(row["val_accuracy"]),
            "selection": selection,
        }
        return TrainedModel(path=path, info={**base, **facts})

    best = record(outcome.best_model_path, outcome.best_epoch, "best_validation")
    checkpoints = [
        record(path, samples // config.samples_per_epoch, "checkpoint")
        for samples, path in sorted(outcome.checkpoint_paths.items())
    ]
    return (best, *checkpoints, history)


def _log_epoch(live: LiveRun, row: dict[str, Any], config: AvcTrainingConfig, work: Path) -> None:
    """Log an epoch's metrics (step: samples seen) and the checkpoint it wrote, if any."""
    samples = int(row["samples_seen"])
    live.log({key: row[key] for key in LIVE_METRICS}, step=samples)
    checkpoint = work / "checkpoints" / f"samples_{samples}.keras"
    if samples in config.checkpoint_samples and checkpoint.is_file():
        live.log_file(checkpoint, "checkpoints")


def evaluate_avc_variant(
    video_manifest: pd.DataFrame,
    avc_model: TrainedModel,
    avc_history: pd.DataFrame,
    training: dict[str, Any],
) -> tuple[pd.DataFrame, VariantRun]:
    """AVC accuracy of a variant's chosen model on the test split of every subset.

    Returns
    -------
    test_accuracy : pandas.DataFrame
        One row per test subset, :data:`TEST_ACCURACY_COLUMNS`. Every variant is
        tested on the same pairs of a subset (same seed and stream).
    mlflow_run : VariantRun
        The variant's MLflow run: settings, per-epoch histories, test
        accuracies and the chosen model.
    """
    config = AvcTrainingConfig.from_parameters(training)
    cache = shared_video_cache(video_manifest, config)
    info = avc_model.info
    model = avc_model.load(compile=False)
    compile_l3net(model, config)
    rows = []
    for subset in sorted(video_manifest["subset"].unique()):
        test = AvcPairBatches.from_config(
            cache,
            cache.indices(subset=subset, split="test"),
            config,
            stream=f"test/{subset}",
            n_batches=config.test_batches,
            train=False,
        )
        scores = model.evaluate(keras_input(test), verbose=0, return_dict=True)
        rows.append(
            {
                "variant": info["variant"],
                "input_repr": info["input_repr"],
                "train_subset": info["subset"],
                "test_subset": subset,
                "accuracy": float(scores["accuracy"]),
                "loss": float(scores["loss"]),
                "n_pairs": config.test_batches * config.batch_size,
                "samples_seen": int(info["samples_seen"]),
            }
        )
        logger.info(
            "%s on %s test pairs: AVC accuracy %.3f", info["variant"], subset, rows[-1]["accuracy"]
        )
    table = pd.DataFrame(rows, columns=list(TEST_ACCURACY_COLUMNS))
    steps = {  # step: samples seen, as logged live
        key: list(
            zip(
                avc_history["samples_seen"].astype(int),
                avc_history[key].astype(float),
                strict=True,
            )
        )
        for key in LIVE_METRICS
    }
    run = VariantRun(
        name=f"avc / {info['variant']}",
        params={**config.to_dict(), **{k: info[k] for k in ("input_repr", "subset", "variant")}},
        metrics={
            "best_val_accuracy": info["val_accuracy"],
            "best_epoch": info["epoch"],
            "samples_seen": info["samples_seen"],
            **{f"test_accuracy_{r['test_subset']}": r["accuracy"] for r in rows},
        },
        metric_steps=steps,
        tags={
            "l3_kedro.kind": "avc_training",
            **design_tags(
                variant=info["variant"],
                input_repr=info["input_repr"],
                subset=info["subset"],
                embedding_kind="l3",
            ),
        },
        tables={"history.csv": avc_history, "test_accuracy.csv": table},
        files={"model": avc_model.path},
        key=info.get("run_key"),
    )
    return table, run


def collect_avc_test_accuracy(*tables: pd.DataFrame) -> pd.DataFrame:
    """Stack the variants' test tables into the AVC test accuracy table (Table 1's data)."""
    if not tables:
        return pd.DataFrame(columns=list(TEST_ACCURACY_COLUMNS))
    return pd.concat(tables, ignore_index=True).sort_values(["variant", "test_subset"])


def index_trained_models(
    *models_then_runs: TrainedModel | list[str], names: list[str], variants: list[str]
) -> dict[str, TrainedModel]:
    """Name every trained model (best models and checkpoints) for ``embed``.

    Parameters
    ----------
    *models_then_runs
        One :class:`TrainedModel` per entry of ``names``, then, per entry of
        ``variants``, the MLflow run ids its ``evaluate_avc_variant`` logged.
    names : list of str
        ``<variant>`` for a best model, ``<variant>_s<samples>`` for a checkpoint.
    variants : list of str
        The trained variants, in the order of their run ids.

    Returns
    -------
    dict
        ``{name: TrainedModel}``; each model's facts gain ``mlflow_run_id``,
        the variant's AVC run in MLflow.
    """
    models, runs = models_then_runs[: len(names)], models_then_runs[len(names) :]
    run_ids = {variant: ids[0] for variant, ids in zip(variants, runs, strict=True) if ids}
    index = {}
    for name, model in zip(names, models, strict=True):
        run_id = run_ids.get(model.info.get("variant"))
        info = {**model.info, **({"mlflow_run_id": run_id} if run_id else {})}
        index[name] = TrainedModel(path=model.path, info=info)
    logger.info("Indexed %d trained models: %s", len(index), ", ".join(index))
    return index
