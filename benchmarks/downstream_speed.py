"""Wall time and peak memory of the downstream protocol on synthetic stores of growing size.

For each store size, a synthetic float16 store of class-separable Gaussian
windows (``--windows-per-clip`` windows per clip, clips spread evenly over
classes and folds) is written with ``write_store``, then the protocol runs in
a fresh process, which reports

- wall time of ``evaluate_store`` and the seconds per training epoch;
- peak RSS of that process (``resource.getrusage``), and its RSS before
  evaluating (TensorFlow and the imports), so the growth with size shows;
- optionally the peak of Python-tracked allocations (``--tracemalloc``,
  numpy arrays included; slows the run down);
- the fold's float16 training + validation matrices, ``2 * D * n`` bytes,
  the part of memory that grows with the store.

Goal: the full grid (3 x 3) on ~100k windows x 6144 within 4 GB RAM.

    python benchmarks/downstream_speed.py --windows 2000 10000 --epochs 2 --test-folds 1

Use ``--epochs``, ``--learning-rates``/``--weight-decays`` and ``--test-folds``
to bound the run time: memory does not depend on them, time grows linearly.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pandas as pd

MEMORY_GOAL_MB = 4096
GOAL_WINDOWS = 100_000


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=int, nargs="+", default=[2_000, 10_000, 50_000])
    parser.add_argument("--dims", type=int, default=6144)
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--windows-per-clip", type=int, default=40)
    parser.add_argument("--learning-rates", type=float, nargs="+", default=[1e-5, 1e-4, 1e-3])
    parser.add_argument("--weight-decays", type=float, nargs="+", default=[1e-5, 1e-4, 1e-3])
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--patience", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--test-folds", type=int, nargs="+", default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tracemalloc", action="store_true")
    parser.add_argument("--workdir", type=Path, default=None, help="where stores are written")
    return parser.parse_args(argv)


def build_store(
    path: Path,
    *,
    n_windows: int,
    dims: int,
    classes: int,
    folds: int,
    windows_per_clip: int,
    seed: int,
) -> Path:
    """Write a synthetic float16 store, one chunk of at most 64 clips at a time.

    It holds about ``n_windows`` windows (whole clips, at least one clip per
    class and fold).
    """
    from l3_kedro.datasets import EmbeddingChunk, EmbeddingRun, write_store

    rng = np.random.default_rng(seed)
    n_clips = max(classes * folds, round(n_windows / windows_per_clip))
    centres = rng.standard_normal((classes, dims)).astype(np.float32)

    def chunks():
        for begin in range(0, n_clips, 64):
            ids = np.arange(begin, min(begin + 64, n_clips))
            labels = ids % classes
            table = pd.DataFrame(
                {
                    "clip_id": [f"clip{i}" for i in ids],
                    "label": [f"class{k}" for k in labels],
                    "label_index": labels,
                    "fold": 1 + (ids // classes) % folds,
                }
            )
            counts = np.full(ids.size, windows_per_clip)
            noise = rng.standard_normal((counts.sum(), dims), dtype=np.float32)
            yield EmbeddingChunk(
                clips=table,
                embeddings=np.repeat(centres[labels], counts, axis=0) + 3 * noise,
                timestamps=np.tile(0.1 * np.arange(windows_per_clip), ids.size),
                windows_per_clip=counts,
            )

    return write_store(path, EmbeddingRun(chunks(), {"name": "synthetic"}, dtype="float16"))


def _measure(store: Path, options: dict, use_tracemalloc: bool, queue) -> None:
    """Child process: run the protocol once and report time and memory."""
    import tracemalloc

    from l3_kedro.evaluation import evaluate_store

    baseline_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if use_tracemalloc:
        tracemalloc.start()
    started = time.perf_counter()
    result = evaluate_store(store, dataset="synthetic", **options)
    wall = time.perf_counter() - started
    traced_mb = tracemalloc.get_traced_memory()[1] / 2**20 if use_tracemalloc else float("nan")
    grid = result.grid
    queue.put(
        {
            "wall_s": wall,
            "s_per_epoch": float((grid["seconds"] / grid["epochs_run"]).mean()),
            "epochs_run": int(grid["epochs_run"].sum()),
            "baseline_rss_mb": baseline_mb,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "traced_peak_mb": traced_mb,
            "clip_accuracy": result.mean_clip_accuracy,
            "store_windows": int(
                (result.folds["n_train_windows"] + result.folds["n_val_windows"])
                .add(result.folds["n_test_windows"])
                .max()
            ),
            "train_val_windows": int(
                (result.folds["n_train_windows"] + result.folds["n_val_windows"]).max()
            ),
        }
    )


def measure(store: Path, options: dict, *, use_tracemalloc: bool) -> dict:
    """Run :func:`_measure` in a fresh (spawned) process, so peaks do not carry over."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_measure, args=(store, options, use_tracemalloc, queue))
    child.start()
    report = queue.get()
    child.join()
    return report


def run(args: argparse.Namespace) -> list[dict]:
    """Build each store, measure the protocol on it, and return one row per size."""
    options = {
        "grid": {"learning_rate": args.learning_rates, "weight_decay": args.weight_decays},
        "epochs": args.epochs,
        "patience": args.patience,
        "batch_size": args.batch_size,
        "test_folds": args.test_folds,
        "seed": args.seed,
    }
    rows = []
    with tempfile.TemporaryDirectory(dir=args.workdir) as tmp:
        for n_windows in args.windows:
            path = Path(tmp, f"synthetic_{n_windows}.h5")
            build_store(
                path, n_windows=n_windows, dims=args.dims, classes=args.classes,
                folds=args.folds, windows_per_clip=args.windows_per_clip, seed=args.seed,
            )  # fmt: skip
            report = measure(path, options, use_tracemalloc=args.tracemalloc)
            matrices_mb = 2 * args.dims * report["train_val_windows"] / 2**20
            rows.append({"windows": n_windows, "float16_train_val_mb": matrices_mb, **report})
            print_row(rows[-1])
            path.unlink()
    return rows


def print_row(row: dict) -> None:
    print(
        f"{row['store_windows']:>9,d} windows | wall {row['wall_s']:8.1f} s | "
        f"{row['s_per_epoch']:6.2f} s/epoch ({row['epochs_run']} epochs) | "
        f"RSS before {row['baseline_rss_mb']:6.0f} MB, peak {row['peak_rss_mb']:6.0f} MB | "
        f"traced peak {row['traced_peak_mb']:6.0f} MB | "
        f"float16 train+val {row['float16_train_val_mb']:6.0f} MB | "
        f"clip acc {row['clip_accuracy']:.3f}",
        flush=True,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    n_points = len(args.learning_rates) * len(args.weight_decays)
    folds = args.test_folds or list(range(1, args.folds + 1))
    print(
        f"downstream protocol: D={args.dims}, {args.classes} classes, {args.folds} folds "
        f"(testing {folds}), grid {n_points} points, up to {args.epochs} epochs, "
        f"batch {args.batch_size}"
    )
    rows = run(args)
    goal = [r for r in rows if r["windows"] >= GOAL_WINDOWS]
    for row in goal:
        verdict = "meets" if row["peak_rss_mb"] <= MEMORY_GOAL_MB else "MISSES"
        print(
            f"{row['windows']:,d} windows: peak RSS {row['peak_rss_mb']:.0f} MB {verdict} the "
            f"{MEMORY_GOAL_MB} MB goal"
        )
    if not goal:
        print(
            f"(no size >= {GOAL_WINDOWS:,d} windows: add one to check the {MEMORY_GOAL_MB} MB goal)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
