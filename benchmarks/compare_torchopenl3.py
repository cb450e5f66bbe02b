"""Embedding speed against torchopenl3, end to end, same audio, random weights on both sides.

Both sides get the same real UrbanSound8K clips as float arrays and return
one 6144-dim mel256 embedding per 1 s window every 0.1 s (centred), at full
width, batch 32, on the CPU with every core:

- l3_kedro, exact mode: ``l3_kedro.api.get_audio_embedding`` with a random
  tower (``load_audio_embedding_model(input_repr="mel256")``);
- l3_kedro, fast mode: the same call with ``mode="fast"`` (the tower over
  spans of windows, :mod:`l3_kedro.embedding.fast`; the same windows);
- l3_kedro, each mode with ``precision="bfloat16"`` (the tower computes in
  bfloat16, :mod:`l3_kedro.models.precision`; with ``--bfloat16``: it pays
  only on CPUs with AVX512_BF16 or AMX);
- torchopenl3 1.0.1: ``torchopenl3.get_audio_embedding`` with its
  ``PytorchOpenl3`` model, randomly initialised (its weights would be
  downloaded; nothing is).

``--rate 48000`` (default) resamples the clips to 48 kHz first, so neither
side resamples (the network's work alone); ``--rate native`` hands over the
files' own rates and each side resamples as it does by default (soxr here;
resampy's ``kaiser_best`` in torchopenl3). Prints windows per second of each
and the ratios to torchopenl3 (goals: exact >= 2x, fast >= 10x)::

    pip install -e ".[bench]"        # torchopenl3 and its dependencies; a CPU torch first
    python benchmarks/compare_torchopenl3.py --clips 8 --repeats 2 [--bfloat16]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _clips(n: int, rate: str) -> tuple[list[np.ndarray], list[int]]:
    from l3_kedro.audio import load_audio
    from l3_kedro.layouts.urbansound8k import read_urbansound8k

    table = read_urbansound8k(root=ROOT / "data" / "01_raw" / "urbansound8k").head(n)
    audio, rates = [], []
    for path in table["path"]:
        samples, sr = load_audio(path, sr=None if rate == "native" else int(rate))
        audio.append(np.ascontiguousarray(samples, dtype=np.float32))
        rates.append(int(sr))
    return audio, rates


def _time(run, repeats: int) -> tuple[float, int]:
    """Best of ``repeats`` wall times of ``run()`` and the windows it returned."""
    best, windows = float("inf"), 0
    for _ in range(repeats):
        started = time.perf_counter()
        windows = run()
        best = min(best, time.perf_counter() - started)
    return best, windows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--rate", default="48000", help="48000 (default) or native")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--bfloat16", action="store_true", help="also time precision bfloat16")
    args = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    import torch
    import torchopenl3
    from torchopenl3.models import PytorchOpenl3

    from l3_kedro.api import get_audio_embedding, load_audio_embedding_model

    audio, rates = _clips(args.clips, args.rate)
    seconds = sum(len(a) / r for a, r in zip(audio, rates, strict=True))
    print(
        f"{len(audio)} UrbanSound8K clips, {seconds:.1f} s of audio at {args.rate} Hz; mel256, "
        f"6144 dims, width 1.0, hop 0.1 s, centred, batch {args.batch_size}; "
        f"{os.cpu_count()} CPUs, torch {torch.__version__} ({torch.get_num_threads()} threads)"
    )

    ours = load_audio_embedding_model(input_repr="mel256", embedding_size=6144)

    def run_ours(mode: str, precision: str = "float32") -> int:
        embeddings, _ = get_audio_embedding(
            audio, rates, model=ours, hop_size=0.1, batch_size=args.batch_size, mode=mode,
            precision=precision,
        )  # fmt: skip
        return sum(len(e) for e in embeddings)

    theirs = PytorchOpenl3(content_type="music", input_repr="mel256", embedding_size=6144).eval()

    def run_theirs() -> int:
        embeddings, _ = torchopenl3.get_audio_embedding(
            [a.astype(np.float64) for a in audio], rates, model=theirs, hop_size=0.1,
            batch_size=args.batch_size, verbose=False,
        )  # fmt: skip
        return sum(len(e) for e in embeddings)

    runs = {
        "l3_kedro exact": lambda: run_ours("exact"),
        "l3_kedro fast": lambda: run_ours("fast"),
        "torchopenl3": run_theirs,
    }
    if args.bfloat16:
        runs["l3_kedro exact bf16"] = lambda: run_ours("exact", "bfloat16")
        runs["l3_kedro fast bf16"] = lambda: run_ours("fast", "bfloat16")
    for run in runs.values():  # warm-up: graph tracing, first allocations
        run()
    timed = {name: _time(run, args.repeats) for name, run in runs.items()}
    rates_of = {name: windows / seconds for name, (seconds, windows) in timed.items()}
    print(f"{'':20} {'windows':>8} {'best s':>8} {'windows/s':>10}")
    for name, (seconds, windows) in timed.items():
        print(f"{name:20} {windows:8d} {seconds:8.1f} {rates_of[name]:10.1f}")
    for mode, goal in (("exact", 2), ("fast", 10)):
        ratio = rates_of[f"l3_kedro {mode}"] / rates_of["torchopenl3"]
        print(f"ratio ({mode} mode / torchopenl3): {ratio:.2f}x  (goal: >= {goal}x)")
        if args.bfloat16:
            ratio = rates_of[f"l3_kedro {mode} bf16"] / rates_of["torchopenl3"]
            gain = rates_of[f"l3_kedro {mode} bf16"] / rates_of[f"l3_kedro {mode}"]
            print(
                f"ratio ({mode} mode bfloat16 / torchopenl3): {ratio:.2f}x  ({gain:.2f}x float32)"
            )


if __name__ == "__main__":
    main()
