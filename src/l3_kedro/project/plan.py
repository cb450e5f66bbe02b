"""The run plan: which branches each pipeline builds, read once from the parameters.

Pipelines never import from each other; what several of them must agree on
(which datasets are embedded, which trained L3 models become embedding
stores, which stores are evaluated) is computed here, from the parameters
alone, into one frozen :class:`RunPlan` that ``register_pipelines`` hands to
every ``create_pipeline``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from l3_kedro.errors import ParameterError
from l3_kedro.project.config import configured_names, load_parameters, selection

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


def model_datasets(variant: str, samples: tuple[int, ...]) -> dict[str, str]:
    """``{name: catalog entry}`` of a variant's models: ``<variant>`` is its best model
    (``<variant>.avc_model``), ``<variant>_s<n>`` its checkpoint after ``n`` samples
    (``<variant>.avc_checkpoint_<n>``), for each ``n`` in ``samples``."""
    names = {variant: f"{variant}.avc_model"}
    names.update({f"{variant}_s{n}": f"{variant}.avc_checkpoint_{n}" for n in samples})
    return names


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
        chosen = checkpointed is None or variant in checkpointed
        names.update(model_datasets(variant, kept if chosen else ()))
    return names


def embedding_models(parameters: dict[str, Any]) -> list[str]:
    """Every embedding store name: ``embed.models`` then the trained L3 models."""
    configured = configured_names("embed.models", parameters=parameters)
    trained = [n for n in trained_embeddings(parameters) if n not in configured]
    return configured + trained


@dataclass(frozen=True)
class RunPlan:
    """What the five pipelines build for one set of parameters.

    Attributes
    ----------
    datasets : tuple of str
        ``ingest.datasets`` entries (enabled): one clip table each.
    avc_corpus : bool
        Whether ``ingest`` lists the AVC videos (``ingest.avc``, enabled).
    synthetic_corpus : bool
        Whether it generates them first (``ingest.avc.synthetic`` set).
    variants : tuple of str
        Enabled ``avc_training.variants``.
    checkpoint_samples : tuple of int
        Samples seen at each AVC checkpoint (empty without variants).
    embedded_datasets : tuple of str
        Datasets ``embed`` stores (``embed.datasets`` or every dataset).
    models : tuple of str
        Enabled ``embed.models``.
    trained : tuple of str
        Stores of trained L3 models (:func:`trained_embeddings`) not in ``models``.
    evaluated : tuple of (dataset, embedding)
        Pairs ``downstream_eval`` evaluates (``downstream_eval.embeddings`` x
        ``downstream_eval.datasets``), embedding-major.
    """

    datasets: tuple[str, ...]
    avc_corpus: bool
    synthetic_corpus: bool
    variants: tuple[str, ...]
    checkpoint_samples: tuple[int, ...]
    embedded_datasets: tuple[str, ...]
    models: tuple[str, ...]
    trained: tuple[str, ...]
    evaluated: tuple[tuple[str, str], ...]

    @classmethod
    def from_parameters(cls, parameters: dict[str, Any]) -> RunPlan:
        """Read every section once; raise :class:`ParameterError` naming a bad key."""
        variants = trained_variants(parameters)
        models = configured_names("embed.models", parameters=parameters)
        stored = embedding_models(parameters)  # ``models`` first, then the trained ones
        embedded = embedded_datasets(parameters)
        evaluation = parameters.get("downstream_eval") or {}
        chosen_models = selection(
            evaluation.get("embeddings"), available=stored, parameter="downstream_eval.embeddings"
        )
        chosen_datasets = selection(
            evaluation.get("datasets"), available=embedded, parameter="downstream_eval.datasets"
        )
        avc = (parameters.get("ingest") or {}).get("avc")
        avc_corpus = bool(avc) and avc.get("enabled", True)
        return cls(
            datasets=tuple(configured_names("ingest.datasets", parameters=parameters)),
            avc_corpus=avc_corpus,
            synthetic_corpus=avc_corpus and bool(avc.get("synthetic")),
            variants=tuple(variants),
            checkpoint_samples=checkpoint_samples(parameters) if variants else (),
            embedded_datasets=tuple(embedded),
            models=tuple(models),
            trained=tuple(stored[len(models) :]),
            evaluated=tuple((d, m) for m in chosen_models for d in chosen_datasets),
        )

    @property
    def stores(self) -> tuple[tuple[str, str], ...]:
        """Every (dataset, embedding) pair ``embed`` writes, embedding-major."""
        return tuple((d, m) for m in (*self.models, *self.trained) for d in self.embedded_datasets)


def current_plan() -> RunPlan:
    """The plan of the running session's parameters (runtime ``--params`` included)."""
    return RunPlan.from_parameters(load_parameters())
