"""Fast mode against exact mode on real UrbanSound8K: speed, agreement, downstream accuracy.

One L3 model (a seeded random mel256 tower by default, or ``--model`` a
trained ``.keras`` file) embeds the UrbanSound8K clips of ``--root`` twice
at ``--hop`` (0.1 s, the paper's), through the ``embed`` pipeline's own node:
``embed.mode: exact`` and ``embed.mode: fast``. Each store then goes through
the downstream protocol of ``conf/base`` (official folds, each in turn the
test fold, validation held out by source recording). Prints, per mode, the
embedding time and windows per second, the validation and test clip
accuracy (mean over folds and per fold), and how closely the two modes'
embeddings agree (cosine similarity per window). ``--runs`` adds the
bfloat16 precision (``exact_bf16``, ``fast_bf16``: ``embed.precision:
bfloat16``), each compared with its float32 run::

    python benchmarks/fast_mode_accuracy.py                 # width 0.25, every clip
    python benchmarks/fast_mode_accuracy.py --runs exact fast fast_bf16
    python benchmarks/fast_mode_accuracy.py --width 1.0 --clips-per-fold 100
    python benchmarks/fast_mode_accuracy.py --model data/06_models/.../best.keras
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from validation_gap import DEFAULT_ROOT, ROOT, embed_clips, protocol_accuracy

RUNS = {
    "exact": {"mode": "exact", "precision": "float32"},
    "fast": {"mode": "fast", "precision": "float32"},
    "exact_bf16": {"mode": "exact", "precision": "bfloat16"},
    "fast_bf16": {"mode": "fast", "precision": "bfloat16"},
}
"""Run name -> the ``embed`` settings it changes."""


def _cosines(exact_path: Path, fast_path: Path) -> np.ndarray:
    """Cosine similarity of each window's embedding in two stores of the same windows."""
    from l3_kedro.datasets.embedding_store import EmbeddingStore

    with EmbeddingStore(exact_path) as exact, EmbeddingStore(fast_path) as fast:
        a = np.asarray(exact.embeddings[:], dtype=np.float64)
        b = np.asarray(fast.embeddings[:], dtype=np.float64)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return np.sum(a * b, axis=1) / np.maximum(norms, 1e-12)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="UrbanSound8K layout")
    parser.add_argument("--model", type=Path, default=None, help="a trained .keras L3 model")
    parser.add_argument("--input-repr", default="mel256", help="of the random tower")
    parser.add_argument("--width", type=float, default=0.25, help="of the random tower")
    parser.add_argument("--hop", type=float, default=0.1, help="seconds between windows")
    parser.add_argument(
        "--clips-per-fold",
        type=int,
        default=None,
        help="about N of each fold, the first of each class",
    )
    parser.add_argument("--runs", nargs="+", default=["exact", "fast"], choices=list(RUNS))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from l3_kedro.evaluation import ProtocolConfig
    from l3_kedro.layouts.probe import IngestPolicy, probe_clips
    from l3_kedro.layouts.urbansound8k import read_urbansound8k
    from l3_kedro.project.config import load_parameters

    os.chdir(ROOT)
    params = load_parameters(env="base")
    settings = {k: v for k, v in params["embed"].items() if k not in ("models", "trained")}
    settings.update(hop_size=args.hop, engine=None)
    config = ProtocolConfig.from_parameters(
        dict(params["downstream_eval"]["protocol"], test_folds=None)
    )
    clips, _ = probe_clips(
        read_urbansound8k(root=args.root), policy=IngestPolicy(on_error="skip", probe="header")
    )
    if args.clips_per_fold:
        per_class = -(-args.clips_per_fold // clips["label"].nunique())
        clips = clips.groupby(["fold", "label"], group_keys=False).head(per_class)
    sources = dict(zip(clips["clip_id"], clips["source_id"], strict=True))
    if args.model:
        spec = {"kind": "l3", "path": str(args.model), "embedding_size": 6144}
        model = str(args.model)
    else:
        spec = {"kind": "l3_random", "input_repr": args.input_repr, "width": args.width, "seed": 0}
        model = f"random {args.input_repr} tower, width {args.width}, seed 0"
    print(
        f"# python benchmarks/fast_mode_accuracy.py {' '.join(sys.argv[1:])}   "
        f"({time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, {os.cpu_count()}-core CPU)\n"
        f"# {model}; 6144 dims; hop {args.hop} s, centred; {len(clips)} real UrbanSound8K clips, "
        f"official folds {sorted(int(f) for f in clips['fold'].unique())}, each in turn the "
        f"test fold; grid {config.grid_points}, epochs {config.epochs}; clip accuracy"
    )
    print(
        f"{'run':10s} {'windows':>8s} {'embed s':>8s} {'windows/s':>10s} "
        f"{'validation':>10s} {'test':>6s}  test per fold"
    )
    stores, tests = {}, {}
    comparisons = [("fast", "exact"), ("exact_bf16", "exact"), ("fast_bf16", "fast")]
    with tempfile.TemporaryDirectory() as tmp:
        for run in args.runs:
            started = time.perf_counter()
            stores[run] = embed_clips(
                clips, "l3", spec, {**settings, **RUNS[run]}, Path(tmp) / f"{run}.h5"
            )
            seconds = time.perf_counter() - started
            from l3_kedro.datasets.embedding_store import EmbeddingStore

            with EmbeddingStore(stores[run]) as store:
                windows = len(store.timestamps)
            validation, test, per_fold = protocol_accuracy(stores[run], sources, config)
            tests[run] = test
            print(
                f"{run:10s} {windows:8d} {seconds:8.1f} {windows / seconds:10.1f} "
                f"{validation:10.3f} {test:6.3f}  {' '.join(f'{a:.3f}' for a in per_fold)}",
                flush=True,
            )
        for run, reference in comparisons:
            if run not in stores or reference not in stores:
                continue
            cosines = _cosines(stores[reference], stores[run])
            print(
                f"{run} - {reference} test clip accuracy: "
                f"{100 * (tests[run] - tests[reference]):+.1f} points (goal: within 1); "
                f"cosine({reference}, {run}) per window: mean {cosines.mean():.3f}, "
                f"5th percentile {np.percentile(cosines, 5):.3f}, min {cosines.min():.3f}"
            )


if __name__ == "__main__":
    main()
