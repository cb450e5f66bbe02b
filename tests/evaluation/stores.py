"""Tiny embedding stores for the evaluation tests, written with ``write_store``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from l3_kedro.audio import load_audio
from l3_kedro.datasets import EmbeddingChunk, EmbeddingRun, write_store
from l3_kedro.models.handcrafted import HandcraftedEmbedder


def toy_clips(
    *,
    n_classes: int = 3,
    folds: Sequence[int] = (1, 2),
    clips_per_class: int = 6,
    windows: tuple[int, int] = (3, 7),
    rng: np.random.Generator,
) -> pd.DataFrame:
    """A clip table: ``clips_per_class`` clips of every class in every fold.

    Columns clip_id, label, label_index, fold, n_windows (not a store column:
    how many windows to embed for the clip).
    """
    rows = [
        {"clip_id": f"f{fold}-c{k}-{j}", "label": f"class{k}", "label_index": k, "fold": fold}
        for fold in folds
        for k in range(n_classes)
        for j in range(clips_per_class)
    ]
    table = pd.DataFrame(rows)
    table["n_windows"] = rng.integers(windows[0], windows[1] + 1, size=len(table))
    return table


def gaussian_embeddings(
    clips: pd.DataFrame, *, dim: int = 8, separation: float = 3.0, rng: np.random.Generator
) -> list[np.ndarray]:
    """Class-separable Gaussian windows: one (n_windows, dim) array per clip."""
    centres = separation * rng.standard_normal((clips["label_index"].max() + 1, dim))
    return [
        (centres[k] + rng.standard_normal((n, dim))).astype(np.float32)
        for k, n in zip(clips["label_index"], clips["n_windows"], strict=True)
    ]


def write_clips_store(
    path: Path,
    clips: pd.DataFrame,
    embeddings: Sequence[np.ndarray],
    *,
    dtype: str = "float32",
    clips_per_chunk: int = 5,
    skips: Sequence[dict] = (),
) -> Path:
    """Write ``embeddings[i]`` as the windows of ``clips.iloc[i]`` to a store at ``path``."""
    table = clips.drop(columns=["n_windows"], errors="ignore").reset_index(drop=True)
    chunks = []
    for begin in range(0, len(table), clips_per_chunk):
        part = list(embeddings[begin : begin + clips_per_chunk])
        counts = np.array([len(e) for e in part])
        chunks.append(
            EmbeddingChunk(
                clips=table.iloc[begin : begin + clips_per_chunk].reset_index(drop=True),
                embeddings=np.concatenate(part),
                timestamps=np.concatenate([0.1 * np.arange(n) for n in counts]),
                windows_per_clip=counts,
            )
        )
    run = EmbeddingRun(chunks=chunks, attributes={"name": "test"}, skips=list(skips), dtype=dtype)
    return write_store(path, run)


US8K_CLASSES = ("air_conditioner", "dog_bark", "jackhammer", "siren")


def us8k_handcrafted(root: Path) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """Real embeddings: log-mel/MFCC statistics of UrbanSound8K clips of four classes.

    All clips of :data:`US8K_CLASSES` in the repository's embedded subset
    (8 per class in each of folds 1 and 2), 1 s windows with a 0.5 s hop at
    22,050 Hz; D = 2 * 32 + 4 * 8 = 96.
    """
    us8k = root / "urbansound8k"
    meta = pd.read_csv(us8k / "metadata" / "UrbanSound8K.csv")
    meta = meta[meta["class"].isin(US8K_CLASSES)].reset_index(drop=True)
    embedder = HandcraftedEmbedder(n_mels=32, n_mfcc=8)
    embeddings = []
    for name, fold in zip(meta["slice_file_name"], meta["fold"], strict=True):
        audio, sr = load_audio(us8k / "audio" / f"fold{fold}" / Path(name).with_suffix(".flac"))
        embeddings.append(embedder.embed(audio, sr, hop_size=0.5)[0])
    clips = pd.DataFrame(
        {
            "clip_id": meta["slice_file_name"].str.removesuffix(".wav"),
            "label": meta["class"],
            "label_index": meta["classID"],
            "fold": meta["fold"],
        }
    )
    return clips, embeddings
