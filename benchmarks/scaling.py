"""Embedding throughput and peak memory: one process vs a Dask LocalCluster, by clip count.

Embeds the first N embedded UrbanSound8K clips with an L3 tower through the
``embed`` node and the store dataset (the pipeline's own path), once with
``embed.engine.kind: local`` and once per Dask worker count, each setting in
a fresh process; the Dask cluster is started (and each worker's TensorFlow
warmed up) before the clock starts. Prints windows per second, the peak
resident memory of the main process and of each worker, and the store size:

    python benchmarks/scaling.py --clips 32 128 --workers 1 2

Memory that stays flat as the clip count grows is the goal; so is 2 workers
on 2 cores being no slower than one process.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent(
    """
    import json, os, resource, sys, tempfile, time
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from kedro.io.core import Version
    from l3_kedro.cluster import EngineConfig, close_clusters, dask_client
    from l3_kedro.datasets import EmbeddingStoreDataset
    from l3_kedro.layouts.urbansound8k import read_urbansound8k
    from l3_kedro.pipelines.embed.nodes import compute_embeddings

    n_clips, workers, width, hop, root = (
        int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
    )
    clips = read_urbansound8k(root=root).head(n_clips)
    spec = {"kind": "l3_random", "input_repr": "mel256", "width": width}
    engine = {"kind": "dask", "n_workers": workers} if workers else None
    settings = {"hop_size": hop, "center": True, "batch_size": 32, "store_dtype": "float16",
                "on_error": "skip", "reuse": False, "engine": engine}

    def peak_mb():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def warm():  # TensorFlow imported and a tower built once in the worker
        from l3_kedro.embedding.embedders import build_embedder
        build_embedder("warm", {"kind": "l3_random", "input_repr": "mel256", "width": 0.125})
        return peak_mb()

    if workers:
        client = dask_client(EngineConfig.from_parameters(engine, parameter="engine"))
        client.wait_for_workers(workers)
        client.run(warm)
    with tempfile.TemporaryDirectory() as tmp:
        dataset = EmbeddingStoreDataset(filepath=f"{tmp}/s.h5", version=Version(None, None))
        started = time.perf_counter()
        dataset.save(compute_embeddings(clips, spec, settings, model_name="l3"))
        seconds = time.perf_counter() - started
        with dataset.load() as store:
            windows = store.n_windows
        size = sum(p.stat().st_size for p in __import__("pathlib").Path(tmp).rglob("*.h5"))
    worker_peaks = sorted(client.run(peak_mb).values()) if workers else []
    close_clusters()
    print(json.dumps({"seconds": seconds, "windows": windows, "main_peak_mb": peak_mb(),
                      "worker_peak_mb": worker_peaks, "store_mb": size / 2**20}))
    """
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, nargs="+", default=[32, 128])
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[0, 1, 2], help="0: one process, no Dask"
    )
    parser.add_argument("--width", type=float, default=0.25)
    parser.add_argument("--hop-size", type=float, default=0.1)
    args = parser.parse_args()
    root = ROOT / "data" / "01_raw" / "urbansound8k"
    print(
        f"L3 mel256 width {args.width}, hop {args.hop_size} s, batch 32, store float16; "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"{'clips':>6} {'engine':>10} {'windows':>8} {'s':>7} {'windows/s':>10} "
        f"{'main MB':>8} {'worker peak MB':>16} {'store MB':>9}"
    )
    for n_clips in args.clips:
        for workers in args.workers:
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(n_clips), str(workers), str(args.width),
                 str(args.hop_size), str(root)],
                check=True, capture_output=True, text=True, cwd=ROOT,
            ).stdout  # fmt: skip
            row = json.loads(out.strip().splitlines()[-1])
            engine = f"dask x{workers}" if workers else "local"
            peaks = "/".join(f"{p:.0f}" for p in row["worker_peak_mb"]) or "-"
            print(
                f"{n_clips:6d} {engine:>10} {row['windows']:8d} {row['seconds']:7.1f} "
                f"{row['windows'] / row['seconds']:10.1f} {row['main_peak_mb']:8.0f} "
                f"{peaks:>16} {row['store_mb']:9.1f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
