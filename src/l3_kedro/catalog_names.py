"""Names of the catalog entries that pipelines build from parameters.

Pipelines never import from each other; what several of them must agree on
(which datasets are embedded, which trained L3 models become embedding
stores) is computed here, from the parameters alone.
"""

from __future__ import annotations

from typing import Any

from l3_kedro.errors import ParameterError
from l3_kedro.project_config import configured_names

CHECKPOINT_CHOICES = ("all", "intermediate", "none")
"""``embed.trained.checkpoints``: every checkpoint, all but the last (the
best-validation model stands for the end of training), or none."""


def embedded_datasets(parameters: dict[str, Any]) -> list[str]:
    """Datasets to embed: ``embed.datasets`` if set, else every ingested dataset."""
    chosen = parameters.get("embed", {}).get("datasets")
    return list(chosen) if chosen else configured_names("ingest.datasets", parameters=parameters)


def trained_variants(parameters: dict[str, Any]) -> list[str]:
    """Names of the enabled variants under ``avc_training.variants``."""
    return configured_names("avc_training.variants", parameters=parameters)


def checkpoint_samples(parameters: dict[str, Any]) -> tuple[int, ...]:
    """Samples seen at each AVC checkpoint under ``avc_training.training``."""
    from l3_kedro.avc.config import AvcTrainingConfig

    training = parameters.get("avc_training", {}).get("training", {})
    return AvcTrainingConfig.from_parameters(training).checkpoint_samples


def trained_embeddings(parameters: dict[str, Any]) -> dict[str, str]:
    """Embedding stores made from trained L3 models: ``{embedding name: model dataset}``.

    Every enabled variant gives ``<variant>`` (its best-validation model,
    ``<variant>.avc_model``); the variants in ``embed.trained.checkpoint_variants``
    (None: all) also give, per ``embed.trained.checkpoints``,
    ``<variant>_s<samples>`` (``<variant>.avc_checkpoint_<samples>``). The
    paper evaluated the checkpoints of its best variant only.
    """
    options = parameters.get("embed", {}).get("trained") or {}
    if not options.get("enabled", True):
        return {}
    which = options.get("checkpoints", "intermediate")
    if which not in CHECKPOINT_CHOICES:
        raise ParameterError(
            f"embed.trained.checkpoints={which!r}; use one of {CHECKPOINT_CHOICES}."
        )
    variants = trained_variants(parameters)
    samples = checkpoint_samples(parameters) if variants else ()
    kept = {"all": samples, "intermediate": samples[:-1], "none": ()}[which]
    checkpointed = options.get("checkpoint_variants")
    unknown = sorted(set(checkpointed or ()) - set(variants))
    if unknown:
        raise ParameterError(
            f"embed.trained.checkpoint_variants names {unknown}, which are not enabled "
            f"variants under avc_training.variants ({variants})."
        )
    names: dict[str, str] = {}
    for variant in variants:
        names[variant] = f"{variant}.avc_model"
        if checkpointed is None or variant in checkpointed:
            for n in kept:
                names[f"{variant}_s{n}"] = f"{variant}.avc_checkpoint_{n}"
    return names


def embedding_models(parameters: dict[str, Any]) -> list[str]:
    """Every embedding store name: ``embed.models`` then the trained L3 models."""
    configured = configured_names("embed.models", parameters=parameters)
    trained = [n for n in trained_embeddings(parameters) if n not in configured]
    return configured + trained
