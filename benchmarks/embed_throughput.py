"""End-to-end embedding throughput vs the tower's own forward pass.

Prints windows per second for

1. **forward**: the L3 audio model alone on in-memory windows of the batch size;
2. **end to end**: audio files on disk -> decode, resample, frame, batch ->
   model -> an HDF5 embedding store written through the catalog dataset,

and their ratio. Goal (issue 3): end to end at least 85 % of forward. Also
printed: the same pipeline with a null model (decode, resample, frame, batch,
store, no model), the ceiling the host side puts on end to end, and the first
end-to-end pass (tracing / XLA compilation included).

    python benchmarks/embed_throughput.py --clips 16 --width 1.0 --input-repr mel256
    KERAS_BACKEND=jax python benchmarks/embed_throughput.py --backend jax \\
        --input-repr mel256 linear --batch-size 64 256 --fft-dtype float64

Runs on the embedded UrbanSound8K clips (4 s, 22,050 Hz FLAC), so decoding and
resampling to 48 kHz are real work. ``--repeat-clips N`` embeds the clip table
N times over (each copy with its own clip ids, ``<clip_id>~<k>``), so that a
pass lasts long enough to amortise its fixed costs (pipeline fill and drain,
the store's last chunk, file creation) as a real dataset would (UrbanSound8K
is 8,732 clips); the first (compilation) pass then runs over one copy only.

With the JAX backend, ``--fft-dtype float64`` (the front-end's default) turns
on ``jax_enable_x64`` (as ``build_embedder`` does), without which JAX computes
the front-end in float32. Embedding needs neither kedro nor PyAV (FLAC is
decoded by soundfile); where kedro is not installed, e.g. a bare GPU machine,
the store is written with :func:`l3_kedro.datasets.embedding_store.write_store`
into a ``.partial`` file renamed into place, which is what
``EmbeddingStoreDataset.save`` does.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("tensorflow", "jax", "torch")


def _import_store_writer():
    """Return ``save(path, run) -> n_windows`` and a description of the route."""
    from l3_kedro.datasets.embedding_store import EmbeddingStore, write_store

    try:
        from kedro.io.core import Version

        from l3_kedro.datasets import EmbeddingStoreDataset
    except ImportError as exc:  # no kedro / kedro_datasets here

        def save(path: str, run) -> int:
            partial = Path(path + ".partial")
            try:
                write_store(partial, run)
                os.replace(partial, path)
            finally:
                partial.unlink(missing_ok=True)
            with EmbeddingStore(path) as store:
                return store.n_windows

        return save, f"write_store + rename (kedro not importable: {exc})"

    def save(path: str, run) -> int:
        dataset = EmbeddingStoreDataset(filepath=path, version=Version(None, None))
        dataset.save(run)
        with dataset.load() as store:
            return store.n_windows

    return save, "EmbeddingStoreDataset (kedro catalog dataset)"


def _backend_report(backend: str) -> list[str]:
    import keras

    lines = [f"keras {keras.__version__}, backend {keras.backend.backend()}"]
    if backend == "jax":
        import jax
        import jaxlib

        devices = jax.devices()
        lines.append(
            f"jax {jax.__version__} (jaxlib {jaxlib.__version__}), "
            f"x64 {jax.config.jax_enable_x64}, devices: "
            + ", ".join(f"{d.platform}:{d.device_kind}" for d in devices)
        )
    elif backend == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        lines.append(
            f"tensorflow {tf.__version__}, GPUs: {[g.name for g in gpus] or 'none'}, "
            f"intra-op threads {tf.config.threading.get_intra_op_parallelism_threads()} "
            "(0 = all cores)"
        )
    elif backend == "torch":
        import torch

        lines.append(
            f"torch {torch.__version__}, cuda {torch.cuda.is_available()}"
            + (f" ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "")
        )
    return lines


class NullEmbedder:
    """Same contract as the L3 embedder, no model: isolates the host pipeline."""

    def __init__(self, embedder) -> None:
        self.name = f"{embedder.name}_null"
        self.sample_rate = embedder.sample_rate
        self.embedding_size = embedder.embedding_size
        self.attributes = dict(embedder.attributes, name=self.name)

    def embed_windows(self, windows: np.ndarray) -> np.ndarray:
        return np.zeros((len(windows), self.embedding_size), dtype=np.float32)


def forward_rate(embedder, *, batch_size: int, n_batches: int, rng) -> float:
    """Windows per second of the model alone, on random in-memory windows."""
    windows = rng.uniform(-0.5, 0.5, (batch_size, embedder.sample_rate)).astype(np.float32)
    embedder.embed_windows(windows)  # warm-up: graph tracing
    start = time.perf_counter()
    for _ in range(n_batches):
        embedder.embed_windows(windows)
    return batch_size * n_batches / (time.perf_counter() - start)


def repeat_clips(clips, n: int):
    """The clip table ``n`` times over, copy ``k`` with clip ids ``<clip_id>~<k>``."""
    import pandas as pd

    if n <= 1:
        return clips
    copies = [clips.assign(clip_id=clips["clip_id"].astype(str) + f"~{k}") for k in range(n)]
    repeated = pd.concat(copies, ignore_index=True)
    assert repeated["clip_id"].is_unique
    return repeated


def end_to_end_rate(
    save, stream_cls, embedder, clips, *, hop_size: float, batch_size: int
) -> tuple[float, int]:
    """Windows per second from files on disk to a written embedding store."""
    with tempfile.TemporaryDirectory() as tmp:
        stream = stream_cls(
            clips, embedder, hop_size=hop_size, batch_size=batch_size, progress=False
        )
        from l3_kedro.datasets.embedding_store import EmbeddingRun

        run = EmbeddingRun(stream, embedder.attributes, dtype="float16")
        start = time.perf_counter()
        n_windows = save(f"{tmp}/s.h5", run)
        elapsed = time.perf_counter() - start
    return n_windows / elapsed, n_windows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--input-repr", nargs="+", default=["mel256"], choices=["linear", "mel128", "mel256"]
    )
    parser.add_argument("--width", type=float, default=1.0)
    parser.add_argument("--clips", type=int, default=16)
    parser.add_argument(
        "--repeat-clips",
        type=int,
        default=1,
        metavar="N",
        help="embed the clip table N times (distinct clip ids) so a pass lasts longer",
    )
    parser.add_argument("--hop-size", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, nargs="+", default=[32])
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default=os.environ.get("KERAS_BACKEND", "tensorflow"),
        help="Keras backend (default: $KERAS_BACKEND, else tensorflow)",
    )
    parser.add_argument(
        "--fft-dtype",
        choices=["float64", "float32"],
        default="float64",
        help="precision of the in-graph front-end (float64 on JAX enables jax_enable_x64)",
    )
    parser.add_argument(
        "--repeats", type=int, default=1, help="timed end-to-end passes (the best is used)"
    )
    args = parser.parse_args()

    os.environ["KERAS_BACKEND"] = args.backend
    save, store_route = _import_store_writer()
    from l3_kedro.embedding.embedders import build_embedder
    from l3_kedro.embedding.stream import ClipEmbeddingStream
    from l3_kedro.layouts.urbansound8k import read_urbansound8k
    from l3_kedro.models.frontends import enable_fft_dtype

    enable_fft_dtype(args.fft_dtype)  # before the report: jax_enable_x64 for float64
    av_route = "PyAV " + ("installed" if importlib.util.find_spec("av") else "not installed")

    print(
        f"host: {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
        f"python {platform.python_version()}"
    )
    for line in _backend_report(args.backend):
        print(line)
    print(f"store: {store_route}; audio: {av_route} (not needed for FLAC)")
    print(f"front-end fft_dtype {args.fft_dtype}")
    base = read_urbansound8k(root=ROOT / "data" / "01_raw" / "urbansound8k").head(args.clips)
    clips = repeat_clips(base, args.repeat_clips)
    clips_note = (
        f"{len(base)} clips x {args.repeat_clips} = {len(clips)} clips"
        if args.repeat_clips > 1
        else f"{len(clips)} clips"
    )

    for input_repr in args.input_repr:
        embedder = build_embedder(
            "bench",
            {"kind": "l3_random", "input_repr": input_repr, "width": args.width,
             "embedding_size": 6144, "fft_dtype": args.fft_dtype, "seed": 0},
        )  # fmt: skip
        null = NullEmbedder(embedder)
        for batch_size in args.batch_size:
            kwargs = {"hop_size": args.hop_size, "batch_size": batch_size}
            # First pass, over one copy of the clips: tracing / compilation (one
            # batch shape: the last batch is padded), thread pools, page cache.
            t0 = time.perf_counter()
            cold, n_cold = end_to_end_rate(save, ClipEmbeddingStream, embedder, base, **kwargs)
            cold_s = time.perf_counter() - t0
            e2e_runs = [
                end_to_end_rate(save, ClipEmbeddingStream, embedder, clips, **kwargs)
                for _ in range(max(1, args.repeats))
            ]
            e2e = max(rate for rate, _ in e2e_runs)
            n_windows = e2e_runs[0][1]
            host = max(
                end_to_end_rate(save, ClipEmbeddingStream, null, clips, **kwargs)[0]
                for _ in range(max(1, args.repeats))
            )
            n_batches = max(3, n_windows // batch_size)
            fwd = forward_rate(
                embedder, batch_size=batch_size, n_batches=n_batches,
                rng=np.random.default_rng(0),
            )  # fmt: skip
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print()
            print(
                f"L3 {input_repr} width {args.width}, batch {batch_size}, "
                f"{clips_note} -> {n_windows} windows (hop {args.hop_size} s), "
                f"{args.backend}, fft {args.fft_dtype}"
            )
            print(f"forward pass : {fwd:8.1f} windows/s")
            print(f"end to end   : {e2e:8.1f} windows/s  ({n_windows / e2e:.1f} s a pass)")
            print(f"ratio        : {e2e / fwd:8.1%}  (goal >= 85 %)")
            print(f"no model     : {host:8.1f} windows/s  (host pipeline alone: ceiling)")
            print(
                f"first pass   : {cold:8.1f} windows/s  ({cold_s:.1f} s, {n_cold} windows, "
                "compilation included)"
            )
            print(f"peak RSS     : {peak_mb:8.0f} MB")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
