"""AVC accuracy against samples seen, per variant, with the project's own code.

Generates (or reuses) a synthetic corpus, builds its manifest, and trains
L3-Nets with the settings of ``avc_training.training`` (overridable here),
printing training and validation accuracy after every epoch, then the test
accuracy of the best-validation model on its own subset's test split (the
number of Table 1 and of the 75 % goal). For tuning the embedded default, and
for checking that a setting holds for other seeds:

    python benchmarks/avc_learning_curve.py --input-repr mel256 --subset music
    python benchmarks/avc_learning_curve.py --set batch_size=16 --set learning_rate=2e-3
    python benchmarks/avc_learning_curve.py --input-repr all --subset all --set seed=1
"""

from __future__ import annotations

import argparse
import itertools
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
    parser.add_argument("--input-repr", default="mel256", help="linear | mel128 | mel256 | all")
    parser.add_argument("--subset", default="music", help="music | environmental | all")
    parser.add_argument("--corpus", default=str(ROOT / "data/01_raw/avc_synthetic"))
    parser.add_argument("--set", action="append", default=[], help="training key=value")
    args = parser.parse_args()

    import keras

    from l3_kedro.audio.constants import VALID_INPUT_REPRS
    from l3_kedro.avc.config import AvcTrainingConfig
    from l3_kedro.datasets import SyntheticCorpusDataset
    from l3_kedro.pipelines.avc_training.nodes import evaluate_avc_variant, train_avc_variant
    from l3_kedro.pipelines.ingest.nodes import (
        build_synthetic_video_table,
        prepare_synthetic_corpus,
    )

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
    os.chdir(ROOT)
    started = time.perf_counter()
    corpus = SyntheticCorpusDataset(path=args.corpus)
    corpus.save(prepare_synthetic_corpus(ingest["avc"]["synthetic"]))
    manifest, _ = build_synthetic_video_table(
        corpus.load(), ingest["avc"]["source"], ingest["policy"]
    )
    print(f"corpus + manifest: {time.perf_counter() - started:.1f} s", flush=True)
    reprs = VALID_INPUT_REPRS if args.input_repr == "all" else (args.input_repr,)
    subsets = ("music", "environmental") if args.subset == "all" else (args.subset,)
    summary = []
    for input_repr, subset in itertools.product(reprs, subsets):
        started = time.perf_counter()
        with tempfile.TemporaryDirectory() as work_dir:
            best, *_, history = train_avc_variant(
                manifest,
                {"input_repr": input_repr, "subset": subset},
                config.to_dict(),
                work_dir,
                variant_name=f"{input_repr}_{subset}",
            )
            seconds = time.perf_counter() - started
            test, _ = evaluate_avc_variant(manifest, best, history, config.to_dict())
        own = float(test.loc[test["test_subset"] == subset, "accuracy"].iloc[0])
        print(history.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        print(
            f"{input_repr}/{subset}: {config.total_samples} samples in {seconds:.0f} s "
            f"({config.total_samples / seconds:.0f} samples/s incl. validation); "
            f"best val_accuracy {history['val_accuracy'].max():.3f} at epoch "
            f"{best.info['epoch']}; its test accuracy on {subset}: {own:.3f} "
            f"(keras backend {keras.backend.backend()})",
            flush=True,
        )
        summary.append((input_repr, subset, best.info["epoch"], own))
    if len(summary) > 1:
        print(f"\nsettings: {' '.join(args.set) or 'conf/base'}")
        print("variant                 best epoch   own-subset test accuracy")
        for input_repr, subset, epoch, own in summary:
            print(f"{input_repr + '/' + subset:<24}{epoch:>10}   {100 * own:.1f} %")


if __name__ == "__main__":
    main()
