"""AVC validation accuracy against samples seen, for one variant, with the project's own code.

Generates (or reuses) a synthetic corpus, builds its manifest, and trains one
L3-Net with the settings of ``avc_training.training`` (overridable here),
printing training and validation accuracy after every epoch. For tuning the
embedded default: how many samples does a variant need to pass 75 %?

    python benchmarks/avc_learning_curve.py --input-repr mel256 --subset music
    python benchmarks/avc_learning_curve.py --set batch_size=16 --set learning_rate=2e-3
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--input-repr", default="mel256")
    parser.add_argument("--subset", default="music")
    parser.add_argument("--corpus", default=str(ROOT / "data/01_raw/avc_synthetic"))
    parser.add_argument("--set", action="append", default=[], help="training key=value")
    args = parser.parse_args()

    import keras

    from l3_kedro.avc.config import AvcTrainingConfig
    from l3_kedro.avc.variants import VariantSpec
    from l3_kedro.pipelines.avc_training.nodes import train_avc_variant
    from l3_kedro.pipelines.ingest.nodes import build_video_table, prepare_synthetic_corpus

    conf = ROOT / "conf" / "base"
    ingest = yaml.safe_load((conf / "parameters_ingest.yml").read_text())["ingest"]
    training = yaml.safe_load((conf / "parameters_avc_training.yml").read_text())["avc_training"][
        "training"
    ]
    for item in args.set:
        key, value = item.split("=", 1)
        training[key] = yaml.safe_load(value)
    training["checkpoint_every_samples"] = training["batches_per_epoch"] * training["batch_size"]
    config = AvcTrainingConfig.from_parameters(training)
    synthetic = {**ingest["avc"]["synthetic"], "root": args.corpus}
    source = {
        **ingest["avc"]["source"],
        "segments": str(Path(args.corpus) / "segments.csv"),
        "video_dir": str(Path(args.corpus) / "videos"),
    }
    os.chdir(ROOT)
    started = time.perf_counter()
    manifest, _ = build_video_table(prepare_synthetic_corpus(synthetic), source, ingest["policy"])
    print(f"corpus + manifest: {time.perf_counter() - started:.1f} s", flush=True)
    spec = VariantSpec("curve", args.input_repr, args.subset)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as work_dir:
        outputs = train_avc_variant(
            manifest,
            {"input_repr": spec.input_repr, "subset": spec.subset},
            config.to_dict(),
            work_dir,
            variant_name="curve",
        )
    history = outputs[-1]
    seconds = time.perf_counter() - started
    print(history.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(
        f"{args.input_repr}/{args.subset}: {config.total_samples} samples in {seconds:.0f} s "
        f"({config.total_samples / seconds:.0f} samples/s incl. validation); "
        f"best val_accuracy {history['val_accuracy'].max():.3f} "
        f"(keras backend {keras.backend.backend()})"
    )


if __name__ == "__main__":
    main()
