"""Nodes of the ``downstream_eval`` pipeline: embedding stores -> results and MLflow runs."""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
import pandas as pd

from l3_kedro.cluster import EngineConfig
from l3_kedro.datasets.embedding_store import EmbeddingStore
from l3_kedro.evaluation import ProtocolConfig, run_protocol
from l3_kedro.reporting.figures import plot_confusion_matrix
from l3_kedro.results import DESIGN_ATTRIBUTES
from l3_kedro.tracking import VariantRun, design_tags

logger = logging.getLogger(__name__)


def _protocol_for(
    protocol: dict[str, Any], test_folds: dict[str, Any], dataset: str
) -> ProtocolConfig:
    options = dict(protocol)
    options["test_folds"] = (test_folds or {}).get(dataset)
    return ProtocolConfig.from_parameters(options)


def evaluate_embeddings(
    store: EmbeddingStore,
    clips: pd.DataFrame,
    protocol: dict[str, Any],
    test_folds: dict[str, Any],
    engine: dict[str, Any] | None = None,
    *,
    dataset: str,
    embedding: str,
) -> tuple[pd.DataFrame, VariantRun]:
    """Run the downstream protocol on one embedding store.

    Parameters
    ----------
    store : EmbeddingStore
        The embeddings of ``dataset`` by ``embedding`` (read lazily).
    clips : pandas.DataFrame
        The dataset's clip table; the store must have been made from it.
    protocol : dict
        ``downstream_eval.protocol``: grid, epochs, patience, batch_size,
        validation_fraction, seed (see :class:`~l3_kedro.evaluation.ProtocolConfig`).
    test_folds : dict
        ``downstream_eval.test_folds``: per dataset, the folds used as test
        folds (e.g. DCASE 2013: ``[2]``); every fold in turn when absent.
    engine : dict or None
        ``downstream_eval.engine``: where the test folds run, here (``kind:
        local``, default) or on a Dask cluster (``kind: dask``; see
        :class:`~l3_kedro.cluster.EngineConfig`). Results are the same.

    Returns
    -------
    results : pandas.DataFrame
        One row per test fold: embedding, its design attributes, dataset,
        fold, seed, chosen hyperparameters and the metrics.
    run : VariantRun
        The MLflow run of this (embedding, dataset) pair.
    """
    config = _protocol_for(protocol, test_folds, dataset)
    where = EngineConfig.from_parameters(engine, parameter="downstream_eval.engine")
    with store:
        attributes = dict(store.attributes)
        result = run_protocol(store, config=config, dataset=dataset, clip_table=clips, engine=where)
    design = {key: attributes.get(key) for key in DESIGN_ATTRIBUTES}
    results = result.folds.assign(embedding=embedding, dataset=dataset, seed=config.seed, **design)
    leading = ["embedding", *DESIGN_ATTRIBUTES, "dataset", "fold", "seed"]
    results = results[leading + [c for c in results.columns if c not in leading]]
    logger.info(
        "%s on %s: clip accuracy %.2f %% (mean over %d folds)",
        embedding,
        dataset,
        100 * result.mean_clip_accuracy,
        len(result.folds),
    )
    run = _variant_run(result, config, embedding=embedding, design=design)
    run.params.update(computation_params(attributes))
    if attributes.get("run_key"):  # lineage: the AVC run (and model version) behind it
        run.tags["l3_kedro.source_run_key"] = str(attributes["run_key"])
    return results, run


def computation_params(attributes: dict[str, Any]) -> dict[str, Any]:
    """MLflow params of how a store was computed, where not the default.

    ``mode`` and ``span_s`` for ``embed.mode: fast``, ``precision`` for
    ``embed.precision: bfloat16``; stores of the exact float32 default do not
    write them, so they give none.
    """
    params = {}
    if attributes.get("mode"):
        params.update(mode=attributes["mode"], span_s=attributes.get("span_s"))
    if attributes.get("precision"):
        params["precision"] = attributes["precision"]
    return params


def _variant_run(
    result: Any, config: ProtocolConfig, *, embedding: str, design: dict[str, Any]
) -> VariantRun:
    confusion = sum(result.confusion.values())
    figure = plot_confusion_matrix(
        confusion,
        result.class_names,
        title=f"{embedding} on {result.dataset}: test clips, all folds",
    )
    params = {
        "embedding": embedding,
        **{k: v for k, v in design.items() if v is not None},
        "dataset": result.dataset,
        "grid": json.dumps(
            {"learning_rate": config.learning_rates, "weight_decay": config.weight_decays}
        ),
        "epochs": config.epochs,
        "patience": config.patience,
        "validation_fraction": config.validation_fraction,
        "seed": config.seed,
        "test_folds": "all" if config.test_folds is None else list(config.test_folds),
    }
    folds = result.folds
    return VariantRun(
        name=f"{result.dataset} / {embedding}",
        params=params,
        metrics=result.metrics(),
        metric_steps={
            "clip_accuracy_by_fold": list(zip(folds["fold"], folds["clip_accuracy"], strict=True))
        },
        tags={
            "l3_kedro.kind": "downstream",
            "l3_kedro.stage": "downstream_eval",
            "dataset": result.dataset,
            "embedding": embedding,
            **design_tags(
                dataset=result.dataset,
                embedding=embedding,
                embedding_kind=design.get("kind"),
                input_repr=design.get("input_repr"),
                subset=design.get("subset"),
                selection=design.get("selection"),
            ),
        },
        figures={"confusion_matrix.png": figure},
        tables={
            "folds.csv": folds,
            "grid.csv": result.grid,
            "per_class_accuracy.csv": result.per_class_accuracy.reset_index(),
        },
    )


def collect_results(*tables: pd.DataFrame) -> pd.DataFrame:
    """Stack the per-store results into the one results table ``reporting`` reads."""
    results = pd.concat(tables, ignore_index=True)
    summary = (
        results.groupby(["dataset", "embedding"])["clip_accuracy"]
        .agg(["mean", "std", "count"])
        .sort_values("mean", ascending=False)
    )
    logger.info("Downstream clip accuracy (mean over folds):\n%s", summary.to_string())
    return results.replace({np.nan: None}) if results.empty else results


def index_downstream_runs(*run_ids: list[str], pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """Where each (dataset, embedding) pair's downstream run is in MLflow.

    Parameters
    ----------
    *run_ids
        Per pair, the run ids its ``<dataset>.<embedding>.downstream_mlflow`` logged.
    pairs : list of (dataset, embedding)
        In the order of ``run_ids``.

    Returns
    -------
    pandas.DataFrame
        Columns ``dataset``, ``embedding``, ``mlflow_run_id``; one row per pair.
    """
    rows = [
        {"dataset": dataset, "embedding": embedding, "mlflow_run_id": ids[0] if ids else None}
        for (dataset, embedding), ids in zip(pairs, run_ids, strict=True)
    ]
    return pd.DataFrame(rows, columns=["dataset", "embedding", "mlflow_run_id"])
