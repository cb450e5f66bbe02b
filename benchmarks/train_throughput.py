"""AVC training throughput: fed by the real input pipeline vs fed from memory.

The same compiled L3-Net trains for ``--steps`` steps twice: once on batches
made by :class:`~l3_kedro.avc.batches.AvcPairBatches` (decoding videos through
the cache, cropping, augmenting, in ``--workers`` threads while the model
trains), once on the same batches prepared beforehand in memory. The
difference is what the input pipeline costs (goal: at most 10 %). It also
times making the batches alone in one thread (no model): the host's share,
to set ``workers`` for a faster device.

    python benchmarks/train_throughput.py                      # embedded default settings
    python benchmarks/train_throughput.py --input-repr mel128 --batch-size 64
    KERAS_BACKEND=jax python benchmarks/train_throughput.py --env paper   # e.g. on a GPU
    python benchmarks/train_throughput.py --env paper --batches-only      # host share only

Uses the synthetic corpus of the embedded default (generated if absent) and
the settings of ``avc_training.training`` (conf/base, with conf/ENV's over
them) unless overridden. Imports no Kedro or MLflow, so it also runs on a bare
GPU machine with Keras, JAX, PyAV and the audio libraries.
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
    """Best wall time of one pass (``len(dataset)`` steps) over ``repeats`` passes.

    ``dataset`` goes through :func:`~l3_kedro.avc.batches.keras_input`, as in training.
    """
    from l3_kedro.avc.batches import keras_input
    from l3_kedro.avc.training import unshare_averaged_weights

    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        model.fit(keras_input(dataset), epochs=1, shuffle=False, verbose=0)
        unshare_averaged_weights(model)
        times.append(time.perf_counter() - started)
    return min(times)


def _time_making(pipeline, repeats: int) -> float:
    """Best wall time of making every batch of ``pipeline()`` in this thread (no model)."""
    times = []
    for _ in range(repeats):
        batches = pipeline()
        started = time.perf_counter()
        for index in range(len(batches)):
            batches[index]
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-repr", default="mel256")
    parser.add_argument("--subset", default="music")
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--env", default="base", help="conf/ENV's avc_training.training over base's"
    )
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--width", type=float)
    parser.add_argument("--image-size", type=int)
    parser.add_argument("--workers", type=int)
    parser.add_argument(
        "--batches-only",
        action="store_true",
        help="only time making batches (no model): the host's share, e.g. at --env paper on a CPU",
    )
    parser.add_argument("--corpus", default=str(ROOT / "data/01_raw/avc_synthetic"))
    args = parser.parse_args()

    import keras

    # the avc, models and video packages only: no Kedro or MLflow (a bare GPU machine)
    from l3_kedro.avc.batches import AvcPairBatches
    from l3_kedro.avc.config import AvcTrainingConfig
    from l3_kedro.avc.corpus import VideoCache
    from l3_kedro.avc.distribution import precision_policy
    from l3_kedro.avc.training import build_training_model
    from l3_kedro.avc.variants import shared_video_cache
    from l3_kedro.video import build_video_manifest
    from l3_kedro.video.synthetic import generate_synthetic_corpus

    conf = ROOT / "conf" / "base"
    ingest = yaml.safe_load((conf / "parameters_ingest.yml").read_text())["ingest"]
    training = yaml.safe_load((conf / "parameters_avc_training.yml").read_text())["avc_training"][
        "training"
    ]
    if args.env != "base":  # e.g. paper: its training settings over base's, on the synthetic corpus
        overlay = yaml.safe_load(
            (ROOT / "conf" / args.env / "parameters_avc_training.yml").read_text()
        )
        training.update(overlay["avc_training"]["training"])
    for key in ("batch_size", "width", "image_size", "workers"):
        if getattr(args, key) is not None:
            training[key] = getattr(args, key)
    training["batches_per_epoch"] = args.steps
    training["checkpoint_every_samples"] = args.steps * training["batch_size"]
    config = AvcTrainingConfig.from_parameters(training)
    os.chdir(ROOT)
    generate_synthetic_corpus(args.corpus, **ingest["avc"]["synthetic"])
    source = {
        **ingest["avc"]["source"],
        "segments": str(Path(args.corpus) / "segments.csv"),
        "video_dir": str(Path(args.corpus) / "videos"),
    }
    manifest, _ = build_video_manifest(source, **ingest["policy"])
    cache = shared_video_cache(manifest, config)
    videos = cache.indices(subset=args.subset, split="train")

    def pipeline():
        return AvcPairBatches.from_config(
            cache, videos, config, stream="bench", n_batches=args.steps, train=True
        )

    samples = args.steps * config.batch_size
    if args.batches_only:
        _time_making(pipeline, 1)  # decode every video the batches use into the cache
        making = _time_making(pipeline, args.repeats)
        print(
            f"image {config.image_size}, batch {config.batch_size}, {args.steps} batches, "
            f"best of {args.repeats}; making batches alone (one thread, no model): "
            f"{samples / making:8.1f} samples/s"
        )
        return
    with precision_policy(config):
        model = build_training_model(args.input_repr, config)
    warm = pipeline()
    _timed_fit(model, warm, 1)  # compile the step; decode every video into the cache
    for index in range(len(warm)):  # and touch every video the batches use
        warm[index]
    cache_bytes = sum(cache.get(int(i)).nbytes for i in videos)
    held = _MemoryBatches([pipeline()[i] for i in range(args.steps)]).dataset
    # alternate the two feeds, so that drift of the machine hits both alike
    fed = memory = float("inf")
    for _ in range(args.repeats):
        memory = min(memory, _timed_fit(model, held, 1))
        fed = min(fed, _timed_fit(model, pipeline(), 1))
    making = _time_making(pipeline, args.repeats)
    cold_cache = VideoCache(
        manifest,
        short_side=config.frame_short_side,
        frame_rate=config.frame_rate,
        capacity=config.cache_videos,
    )
    cold = _timed_fit(
        model,
        AvcPairBatches.from_config(
            cold_cache, videos, config, stream="bench", n_batches=args.steps, train=True
        ),
        1,
    )
    overhead = 100.0 * (fed - memory) / memory
    print(
        f"backend {keras.backend.backend()}, {args.input_repr}, width {config.width}, "
        f"image {config.image_size}, batch {config.batch_size}, workers {config.workers}, "
        f"mixed precision {config.mixed_precision}, "
        f"{args.steps} steps, best of {args.repeats}"
    )
    print(f"decoded videos in cache: {len(videos)} ({cache_bytes / 2**20:.0f} MiB)")
    print(f"from memory:         {samples / memory:8.1f} samples/s")
    print(f"real input pipeline: {samples / fed:8.1f} samples/s (videos already decoded)")
    print(f"  cold cache, decoding on the way (no preload): {samples / cold:8.1f} samples/s")
    print(f"making batches alone (one thread, no model): {samples / making:8.1f} samples/s")
    verdict = "within" if overhead <= 10 else "over"
    print(f"input pipeline cost: {overhead:+.1f} % ({verdict} the 10 % goal)")


if __name__ == "__main__":
    main()
