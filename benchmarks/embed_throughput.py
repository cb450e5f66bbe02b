"""End-to-end embedding throughput vs the tower's own forward pass.

Prints windows per second for

1. **forward**: the L3 audio model alone on in-memory windows of the batch size;
2. **end to end**: audio files on disk -> decode, resample, frame, batch ->
   model -> an HDF5 embedding store written through the catalog dataset,

and their ratio. Goal (issue 3): end to end at least 85 % of forward.

    python benchmarks/embed_throughput.py --clips 16 --width 1.0 --input-repr mel256

Runs on the embedded UrbanSound8K clips (4 s, 22,050 Hz FLAC), so decoding and
resampling to 48 kHz are real work.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from kedro.io.core import Version

from l3_kedro.datasets import EmbeddingRun, EmbeddingStoreDataset
from l3_kedro.inference import ClipEmbeddingStream
from l3_kedro.models.embedders import build_embedder
from l3_kedro.sources.urbansound8k import read_urbansound8k

ROOT = Path(__file__).resolve().parents[1]


def forward_rate(embedder, *, batch_size: int, n_batches: int, rng) -> float:
    """Windows per second of the model alone, on random in-memory windows."""
    windows = rng.uniform(-0.5, 0.5, (batch_size, embedder.sample_rate)).astype(np.float32)
    embedder.embed_windows(windows)  # warm-up: graph tracing
    start = time.perf_counter()
    for _ in range(n_batches):
        embedder.embed_windows(windows)
    return batch_size * n_batches / (time.perf_counter() - start)


def end_to_end_rate(embedder, clips, *, hop_size: float, batch_size: int) -> tuple[float, int]:
    """Windows per second from files on disk to a written embedding store."""
    with tempfile.TemporaryDirectory() as tmp:
        dataset = EmbeddingStoreDataset(filepath=f"{tmp}/s.h5", version=Version(None, None))
        stream = ClipEmbeddingStream(
            clips, embedder, hop_size=hop_size, batch_size=batch_size, progress=False
        )
        start = time.perf_counter()
        dataset.save(EmbeddingRun(stream, embedder.attributes, dtype="float16"))
        elapsed = time.perf_counter() - start
        with dataset.load() as store:
            n_windows = store.n_windows
    return n_windows / elapsed, n_windows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-repr", default="mel256", choices=["linear", "mel128", "mel256"])
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--clips", type=int, default=16)
    parser.add_argument("--hop-size", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()

    embedder = build_embedder(
        "bench", {"kind": "l3_random", "input_repr": args.input_repr, "width": args.width}
    )
    clips = read_urbansound8k(root=ROOT / "data" / "01_raw" / "urbansound8k").head(args.clips)
    # Warm the end-to-end path (tracing, thread pool) on two clips first.
    end_to_end_rate(embedder, clips.head(2), hop_size=args.hop_size, batch_size=args.batch_size)
    e2e, n_windows = end_to_end_rate(
        embedder, clips, hop_size=args.hop_size, batch_size=args.batch_size
    )
    n_batches = max(3, n_windows // args.batch_size)
    fwd = forward_rate(
        embedder, batch_size=args.batch_size, n_batches=n_batches, rng=np.random.default_rng(0)
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"L3 {args.input_repr} width {args.width}, batch {args.batch_size}, "
        f"{len(clips)} clips -> {n_windows} windows (hop {args.hop_size} s)"
    )
    print(f"forward pass : {fwd:8.1f} windows/s")
    print(f"end to end   : {e2e:8.1f} windows/s")
    print(f"ratio        : {e2e / fwd:8.1%}  (goal >= 85 %)")
    print(f"peak RSS     : {peak_mb:8.0f} MB")


if __name__ == "__main__":
    main()
