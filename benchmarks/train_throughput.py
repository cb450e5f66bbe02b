"""AVC training throughput: fed by the real input pipeline vs fed from memory.

The same compiled L3-Net trains for ``--steps`` steps twice: once on batches
made by :class:`~l3_kedro.avc.batches.AvcPairBatches` (decoding videos through
the cache, cropping, augmenting, in ``--workers`` threads while the model
trains), once on the same batches prepared beforehand in memory. The
difference is what the input pipeline costs (goal: at most 10 %).

    python benchmarks/train_throughput.py                      # embedded default settings
    python benchmarks/train_throughput.py --input-repr mel128 --batch-size 64
    KERAS_BACKEND=jax python benchmarks/train_throughput.py    # e.g. on a GPU machine

Uses the synthetic corpus of the embedded default (generated if absent) and
the settings of ``avc_training.training`` unless overridden.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


class _MemoryBatches:
    """Prepared batches behind the PyDataset interface (no work per step)."""

    def __init__(self, batches):
        import keras

        class Held(keras.utils.PyDataset):
            def __init__(self):
                super().__init__(workers=1, use_multiprocessing=False)

            def __len__(self):
                return len(batches)

            def __getitem__(self, index):
                return batches[index]

        self.dataset = Held()


def _timed_fit(model, dataset, repeats: int) -> float:
    """Best wall time of one pass (``len(dataset)`` steps) over ``repeats`` passes."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        model.fit(dataset, epochs=1, verbose=0)
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-repr", default="mel256")
    parser.add_argument("--subset", default="music")
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--width", type=float)
    parser.add_argument("--image-size", type=int)
    parser.add_argument("--workers", type=int)
    parser.add_argument("--corpus", default=str(ROOT / "data/01_raw/avc_synthetic"))
    args = parser.parse_args()

    import keras

    from l3_kedro.avc.config import AvcTrainingConfig
    from l3_kedro.avc.corpus import VideoCache
    from l3_kedro.avc.training import compile_l3net
    from l3_kedro.avc.variants import shared_video_cache
    from l3_kedro.models.l3net import build_l3net
    from l3_kedro.pipelines.avc_training.nodes import _batches
    from l3_kedro.pipelines.ingest.nodes import build_video_table, prepare_synthetic_corpus

    conf = ROOT / "conf" / "base"
    ingest = yaml.safe_load((conf / "parameters_ingest.yml").read_text())["ingest"]
    training = yaml.safe_load((conf / "parameters_avc_training.yml").read_text())["avc_training"][
        "training"
    ]
    for key in ("batch_size", "width", "image_size", "workers"):
        if getattr(args, key) is not None:
            training[key] = getattr(args, key)
    training["batches_per_epoch"] = args.steps
    training["checkpoint_every_samples"] = args.steps * training["batch_size"]
    config = AvcTrainingConfig.from_parameters(training)
    os.chdir(ROOT)
    synthetic = {**ingest["avc"]["synthetic"], "root": args.corpus}
    source = {
        **ingest["avc"]["source"],
        "segments": str(Path(args.corpus) / "segments.csv"),
        "video_dir": str(Path(args.corpus) / "videos"),
    }
    manifest, _ = build_video_table(prepare_synthetic_corpus(synthetic), source, ingest["policy"])
    cache = shared_video_cache(manifest, config)
    videos = cache.indices(subset=args.subset, split="train")

    def pipeline():
        return _batches(cache, videos, config, stream="bench", n_batches=args.steps, train=True)

    keras.utils.set_random_seed(0)
    model = build_l3net(
        input_repr=args.input_repr,
        width=config.width,
        image_size=config.image_size,
        fft_dtype=config.fft_dtype,
    )
    compile_l3net(model, config)
    warm = pipeline()
    model.fit(warm, epochs=1, verbose=0)  # compile the step; decode every video into the cache
    for index in range(len(warm)):  # and touch every video the batches use
        warm[index]
    cache_bytes = sum(cache.get(int(i)).nbytes for i in videos)
    held = _MemoryBatches([pipeline()[i] for i in range(args.steps)]).dataset
    # alternate the two feeds, so that drift of the machine hits both alike
    fed = memory = float("inf")
    for _ in range(args.repeats):
        memory = min(memory, _timed_fit(model, held, 1))
        fed = min(fed, _timed_fit(model, pipeline(), 1))
    cold_cache = VideoCache(
        manifest,
        short_side=config.frame_short_side,
        frame_rate=config.frame_rate,
        capacity=config.cache_videos,
    )
    cold = _timed_fit(
        model,
        _batches(cold_cache, videos, config, stream="bench", n_batches=args.steps, train=True),
        1,
    )
    samples = args.steps * config.batch_size
    overhead = 100.0 * (fed - memory) / memory
    print(
        f"backend {keras.backend.backend()}, {args.input_repr}, width {config.width}, "
        f"image {config.image_size}, batch {config.batch_size}, workers {config.workers}, "
        f"{args.steps} steps, best of {args.repeats}"
    )
    print(f"decoded videos in cache: {len(videos)} ({cache_bytes / 2**20:.0f} MiB)")
    print(f"from memory:         {samples / memory:8.1f} samples/s")
    print(f"real input pipeline: {samples / fed:8.1f} samples/s (videos already decoded)")
    print(f"  cold cache, decoding on the way (no preload): {samples / cold:8.1f} samples/s")
    verdict = "within" if overhead <= 10 else "over"
    print(f"input pipeline cost: {overhead:+.1f} % ({verdict} the 10 % goal)")


if __name__ == "__main__":
    main()
