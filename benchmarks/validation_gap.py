"""Validation vs test clip accuracy on real UrbanSound8K folds: hold-out by clip vs by source.

The downstream protocol holds out 10 % of the training clips for early
stopping and the grid choice. UrbanSound8K slices cut from one Freesound
recording (``fsID``) sound alike; held out by clip, slices of one recording
sit on both sides of the split and the validation accuracy says how well the
classifier remembers recordings, not how well it generalises to new ones (the
official folds keep each recording in one fold, so the test does measure
that). This script embeds the real UrbanSound8K clips of ``--root``
(official folds, every fold in turn the test fold) with each model, runs the
protocol twice on the same store,

- **by clip**: every clip its own source (what the protocol did before);
- **by source**: every ``fsID`` whole on one side of the hold-out,

and prints the mean validation and test clip accuracy over folds and their
gap (validation minus test), per model and hold-out.

    python benchmarks/validation_gap.py                      # ../shared/data copy, conf/base
    python benchmarks/validation_gap.py --models handcrafted soundnet --trained l3_mel128_env

Models are ``embed.models`` entries of the configuration (``--env``) and,
with ``--trained``, the best-validation models that ``avc_training`` left in
``data/06_models/avc_training/<variant>/best.keras``. Embedding settings and
protocol (grid, epochs, patience, hop) are the configuration's.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
DEFAULT_ROOT = ROOT.parent / "shared" / "data" / "urbansound8k_subset"


def embed_clips(clips, name, spec, settings, store_path):
    """Embed ``clips`` with the model ``spec`` into a store at ``store_path``; its path."""
    from l3_kedro.datasets.embedding_store import write_store
    from l3_kedro.pipelines.embed.nodes import compute_embeddings

    run = compute_embeddings(clips, spec, {**settings, "reuse": False}, model_name=name)
    return write_store(store_path, run)


def protocol_accuracy(store_path, sources, config):
    """Mean validation and test clip accuracy, and the test accuracy per fold.

    The store's clips are given the source ids ``sources`` (clip id -> id)
    before the protocol holds out validation clips by source.
    """
    from l3_kedro.datasets.embedding_store import EmbeddingStore
    from l3_kedro.evaluation import run_protocol

    with EmbeddingStore(store_path) as store:
        # the protocol reads clip facts from the store's own clip table
        store.clips = store.clips.assign(source_id=store.clips["clip_id"].map(sources))
        result = run_protocol(store, config=config, dataset="us8k")
    folds = result.folds.sort_values("fold")
    return (
        float(folds["val_clip_accuracy"].mean()),
        float(folds["clip_accuracy"].mean()),
        folds["clip_accuracy"].to_numpy(float),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="UrbanSound8K layout")
    parser.add_argument("--env", default="base", help="configuration environment")
    parser.add_argument(
        "--models", nargs="*", default=["handcrafted", "soundnet", "l3_random_mel256"]
    )
    parser.add_argument("--trained", nargs="*", default=[], help="avc_training variants")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from l3_kedro.evaluation import ProtocolConfig
    from l3_kedro.layouts.probe import IngestPolicy, probe_clips
    from l3_kedro.layouts.urbansound8k import read_urbansound8k
    from l3_kedro.project.config import load_parameters

    os.chdir(ROOT)  # model paths in the configuration are relative to the project
    params = load_parameters(env=args.env)
    settings = {k: v for k, v in params["embed"].items() if k not in ("models", "trained")}
    protocol = dict(params["downstream_eval"]["protocol"], test_folds=None)
    config = ProtocolConfig.from_parameters(protocol)
    clips, _ = probe_clips(
        read_urbansound8k(root=args.root), policy=IngestPolicy(on_error="skip", probe="header")
    )
    specs = {name: params["embed"]["models"][name] for name in args.models}
    work = params["avc_training"]["work_dir"]
    for variant in args.trained:
        path = Path(work) / variant / "best.keras"
        if not path.is_file():
            raise SystemExit(f"{path} is missing: run `kedro run --pipeline avc_training` first")
        specs[variant] = {"kind": "l3", "path": str(path), "embedding_size": 6144}
    print(
        f"# python benchmarks/validation_gap.py {' '.join(sys.argv[1:])}   "
        f"({time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, {os.cpu_count()}-core CPU)\n"
        f"# {len(clips)} UrbanSound8K clips, {clips['source_id'].nunique()} source recordings, "
        f"official folds {sorted(clips['fold'].unique())}, each in turn the test fold; "
        f"hop {settings['hop_size']} s; grid {config.grid_points}, epochs {config.epochs}, "
        f"patience {config.patience}; clip accuracy, mean over test folds"
    )
    print(f"{'model':18s} {'hold-out':10s} {'validation':>10s} {'test':>6s} {'gap':>6s}")
    holdouts = {
        "by clip": dict(zip(clips["clip_id"], clips["clip_id"].astype(str), strict=True)),
        "by source": dict(zip(clips["clip_id"], clips["source_id"], strict=True)),
    }
    with tempfile.TemporaryDirectory() as scratch:
        for name, spec in specs.items():
            store = embed_clips(clips, name, spec, settings, Path(scratch) / f"{name}.h5")
            for label, sources in holdouts.items():
                validation, test, _ = protocol_accuracy(store, sources, config)
                print(
                    f"{name:18s} {label:10s} {validation:10.3f} {test:6.3f} "
                    f"{validation - test:+6.3f}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
