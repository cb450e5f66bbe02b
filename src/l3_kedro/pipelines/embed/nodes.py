"""Nodes of the ``embed`` pipeline: clip tables -> embedding stores."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from l3_kedro.cluster import EngineConfig
from l3_kedro.datasets.embedding_store import EmbeddingRun, EmbeddingStore
from l3_kedro.datasets.fingerprint import EmbeddingSources
from l3_kedro.datasets.trained_model import TrainedModel
from l3_kedro.embedding.embedders import build_embedder, resolve_hop_size
from l3_kedro.embedding.fast import embed_mode
from l3_kedro.embedding.shards import ClipShard, shard_clip_table
from l3_kedro.embedding.stream import ClipEmbeddingStream
from l3_kedro.errors import ParameterError

logger = logging.getLogger(__name__)

SETTING_KEYS = ("hop_size", "center", "batch_size", "store_dtype", "on_error")


def compute_embeddings(
    clips: pd.DataFrame, model_spec: dict[str, Any], settings: dict[str, Any], *, model_name: str
) -> EmbeddingRun:
    """Embed every clip of a clip table with one embedding model.

    Parameters
    ----------
    clips : pandas.DataFrame
        A clip table from ``ingest``.
    model_spec : dict
        The model's ``embed.models`` entry; its ``hop_size``, ``center``,
        ``mode``, ``span_s`` and ``precision`` override the shared settings
        (SoundNet uses 1 s non-overlapping frames).
    settings : dict
        Shared ``embed`` settings: ``hop_size`` (s), ``center``, ``batch_size``,
        ``store_dtype`` (float16 or float32), ``on_error``; ``mode``
        (``exact``, default, or ``fast``: :mod:`l3_kedro.embedding.fast`),
        ``span_s`` and ``precision`` (``float32``, default, or ``bfloat16``:
        :mod:`l3_kedro.models.precision`).
    model_name : str
        The model's key in ``embed.models``.

    Returns
    -------
    EmbeddingRun
        A lazy stream of chunks; the embedding store dataset runs it while
        writing, so memory stays bounded by one chunk. With ``embed.reuse``
        (default) it names its sources, and the dataset skips the model when
        the last store was made from the same clips, model files and settings.
    """
    missing = [k for k in SETTING_KEYS if k not in settings]
    if missing:
        raise ParameterError(f"Parameters 'embed.{missing[0]}' (and {missing[1:]}) are missing.")
    model_spec = embed_mode(model_name, model_spec, settings)
    embedder = build_embedder(model_name, model_spec)
    hop_size = resolve_hop_size(
        embedder, requested=model_spec.get("hop_size"), shared=settings["hop_size"]
    )
    center = bool(model_spec.get("center", settings["center"]))
    stream = ClipEmbeddingStream(
        clips=clips.drop(columns=["start", "stop"], errors="ignore"),
        embedder=embedder,
        hop_size=hop_size,
        center=center,
        batch_size=int(settings["batch_size"]),
        on_error=settings["on_error"],
    )
    attributes = {**embedder.attributes, "hop_size": hop_size, "center": center}
    sources = EmbeddingSources(clips, model_spec, settings) if settings.get("reuse", True) else None
    engine = EngineConfig.from_parameters(settings.get("engine"), parameter="embed.engine")
    logger.info("Embedding %d clips with %s (%s)", len(clips), model_name, attributes)
    if engine.distributed:
        shards = _shards(
            stream, model_name=model_name, model_spec=model_spec, attributes=attributes,
            settings=settings, engine=engine,
        )  # fmt: skip
        logger.info("%s: %d shards on the Dask cluster", model_name, len(shards))
        return EmbeddingRun(
            chunks=(), attributes=attributes, dtype=settings["store_dtype"], sources=sources,
            shards=shards, engine=engine,
        )  # fmt: skip
    return EmbeddingRun(
        chunks=stream,
        attributes=attributes,
        skips=stream.skips,
        dtype=settings["store_dtype"],
        sources=sources,
    )


def _shards(
    stream: ClipEmbeddingStream,
    *,
    model_name: str,
    model_spec: dict[str, Any],
    attributes: dict[str, Any],
    settings: dict[str, Any],
    engine: EngineConfig,
) -> list[ClipShard]:
    """The stream's clip table in ``n_workers x shards_per_worker`` shards, each a Dask task."""
    pieces = shard_clip_table(stream.clips, engine.n_workers * engine.shards_per_worker)
    return [
        ClipShard(
            index=i,
            clips=piece,
            model_name=model_name,
            model_spec=dict(model_spec),
            hop_size=stream.hop_size,
            center=stream.center,
            batch_size=stream.batch_size,
            on_error=stream.on_error,
            dtype=settings["store_dtype"],
            attributes=attributes,
        )
        for i, piece in enumerate(pieces)
    ]


def compute_trained_embeddings(
    clips: pd.DataFrame,
    trained_models: dict[str, TrainedModel],
    trained: dict[str, Any] | None,
    settings: dict[str, Any],
    *,
    model_name: str,
) -> EmbeddingRun:
    """Embed every clip with the audio tower of an L3-Net trained by ``avc_training``.

    Parameters
    ----------
    clips : pandas.DataFrame
        A clip table from ``ingest``.
    trained_models : dict
        ``trained_models`` from ``avc_training``: ``{name: TrainedModel}``, a
        best-validation model (``<variant>``) or checkpoint
        (``<variant>_s<samples>``) with its facts (input_repr, subset,
        samples_seen), which become the store's design attributes.
    trained : dict or None
        ``embed.trained``: ``embedding_size`` (512 or 6144 nominal, default 6144).
    settings : dict
        Shared ``embed`` settings (see :func:`compute_embeddings`).
    model_name : str
        The model to embed with, also the store's name.

    Raises
    ------
    ParameterError
        ``model_name`` is not in the index (the variant was not trained by
        the last ``avc_training`` run).
    """
    if model_name not in trained_models:
        raise ParameterError(
            f"The trained-model index has no {model_name!r} (it has {sorted(trained_models)}): "
            "run the `avc_training` pipeline with that variant enabled first."
        )
    model = trained_models[model_name]
    info = model.info
    spec = {
        "kind": "l3",
        "path": str(model.path),
        "subset": info.get("subset", "unknown"),
        "samples_seen": int(info.get("samples_seen", -1)),
        "selection": info.get("selection", "best_validation"),
        "embedding_size": int((trained or {}).get("embedding_size", 6144)),
    }
    if info.get("run_key"):
        spec["run_key"] = info["run_key"]
    return compute_embeddings(clips, spec, settings, model_name=model_name)


STORE_FACT_COLUMNS = (
    "dataset",
    "embedding",
    "kind",
    "n_clips",
    "n_skipped",
    "n_windows",
    "embedding_size",
    "hop_size",
    "dtype",
    "size_mb",
    "store",
)
"""Columns of ``embedding_stores``, one row per store."""


def index_embedding_stores(*stores: EmbeddingStore, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """What each embedding store holds: ``embedding_stores``, logged to the run's MLflow run.

    Parameters
    ----------
    *stores
        Per pair, the store ``<dataset>.<embedding>.embeddings`` (read lazily:
        only its header is opened).
    pairs : list of (dataset, embedding)
        In the order of ``stores``.

    Returns
    -------
    pandas.DataFrame
        :data:`STORE_FACT_COLUMNS`: clips embedded and skipped, windows,
        embedding size, hop (s), stored dtype, file size (MB) and path.
    """
    rows = []
    for (dataset, embedding), store in zip(pairs, stores, strict=True):
        with store:
            rows.append(
                {
                    "dataset": dataset,
                    "embedding": embedding,
                    "kind": store.attributes.get("kind"),
                    "n_clips": len(store.clips),
                    "n_skipped": len(store.skips),
                    "n_windows": store.n_windows,
                    "embedding_size": store.embedding_size,
                    "hop_size": store.attributes.get("hop_size"),
                    "dtype": str(store.embeddings.dtype),
                    "size_mb": round(store.path.stat().st_size / 2**20, 3),
                    "store": str(store.path),
                }
            )
    table = pd.DataFrame(rows, columns=list(STORE_FACT_COLUMNS))
    logger.info("Embedding stores:\n%s", table.drop(columns="store").to_string(index=False))
    return table
