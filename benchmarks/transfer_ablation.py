"""What limits transfer: AVC-trained L3 on real UrbanSound8K folds, one design change per row.

Each row trains one L3 variant (``--variant``, default ``l3_mel128_env``) by
audio-visual correspondence exactly as ``kedro run --pipeline avc_training``
does (a real ``kedro run`` of a scratch copy of the project, the embedded
default's configuration plus the row's overrides), then embeds the real
UrbanSound8K clips of ``--root`` with the best-validation model and runs the
downstream protocol (official folds, each in turn the test fold, validation
held out by source recording). Controls: the hand-crafted features,
SoundNet, and the random-init tower of the same input representation at
each width the rows train (``random_w<width>``).

Rows change one thing at a time against ``baseline`` (the embedded default):

- ``width_0.25``: a tower twice as wide;
- ``pairs_x4``: four times the pairs per epoch (20,480 seen);
- ``epochs_x2``: twice the epochs (10,240 pairs);
- ``videos_x4``: four times as many distinct synthetic videos;
- ``hop_0.5``: the baseline's model, embedded at a 0.5 s hop (downstream only);
- ``soundfont``: the corpus's instruments and sound effects played on
  recorded General MIDI samples (``ingest.avc.synthetic.instruments``);
- ``mixed_scenes``: half the videos with two sources taking turns and
  silent stretches (``two_sources_p: 0.5``, ``silent_stretch_p: 0.3``): a
  harder task, where the picture says which source sounds *now*;
- ``soundfont_pairs_x4``: recorded samples and four times the pairs;
- ``combined``: the changes that helped on their own, together (mixed
  scenes, width 0.25, four times the pairs, a 0.5 s hop);
- ``drawn_classes``: 48 classes drawn at random added to each subset's
  eight (``ingest.avc.synthetic.drawn_classes``), with ``videos_x4``'s 768
  videos so that each class still has several;
- ``drawn_soundfont``: ``drawn_classes`` played on recorded samples: 56
  General MIDI programs for a music variant (``--variant l3_mel128_music``);
- ``drawn_emb512``: ``drawn_classes``'s model, its 512-dimensional
  embedding (OpenL3's smaller pooling) instead of 6,144;
- ``drawn_pairs_x4``: ``drawn_classes`` with four times the pairs (its AVC
  task no longer saturates);
- ``drawn_combined``: ``drawn_classes`` with everything in ``combined``.

    python benchmarks/transfer_ablation.py                       # every row
    python benchmarks/transfer_ablation.py --rows baseline hop_0.5
    python benchmarks/transfer_ablation.py --refold 10 --rows drawn_classes
    python benchmarks/transfer_ablation.py --refold 10 --hop 0.5 --rows baseline

``--hop`` embeds every row and every control at that hop (a row's own
``hop_size`` override still wins).

``--refold N`` deals the clips into N source-disjoint folds (as
``ingest.datasets.<name>.refold`` does) instead of the two official ones:
N test folds, so each row gets an exact two-sided Wilcoxon signed-rank
test against the hand-crafted features and against its random tower, paired
by fold (columns ``p hand`` and ``p rand``).

Prints one line per row and control: AVC validation accuracy on the own
subset, training seconds, mean validation and test clip accuracy over the
test folds, and the test accuracy per fold.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
DEFAULT_ROOT = ROOT.parent / "shared" / "data" / "urbansound8k_subset"

ROWS = {
    # name: (corpus overrides, training overrides, embed overrides)
    "baseline": ({}, {}, {}),
    "width_0.25": ({}, {"width": 0.25}, {}),
    "pairs_x4": ({}, {"batches_per_epoch": 128, "checkpoint_every_samples": 10240}, {}),
    "epochs_x2": ({}, {"epochs": 20}, {}),
    "videos_x4": ({"n_videos_per_subset": 384}, {}, {}),
    "hop_0.5": ({}, {}, {"hop_size": 0.5}),
    "soundfont": ({"instruments": "soundfont"}, {}, {}),
    "mixed_scenes": ({"two_sources_p": 0.5, "silent_stretch_p": 0.3}, {}, {}),
    "soundfont_pairs_x4": (
        {"instruments": "soundfont"},
        {"batches_per_epoch": 128, "checkpoint_every_samples": 10240},
        {},
    ),
    "combined": (
        {"two_sources_p": 0.5, "silent_stretch_p": 0.3},
        {"width": 0.25, "batches_per_epoch": 128, "checkpoint_every_samples": 10240},
        {"hop_size": 0.5},
    ),
    "drawn_classes": ({"drawn_classes": 48, "n_videos_per_subset": 384}, {}, {}),
    "drawn_soundfont": (
        {"drawn_classes": 48, "n_videos_per_subset": 384, "instruments": "soundfont"},
        {},
        {},
    ),
    "drawn_emb512": (
        {"drawn_classes": 48, "n_videos_per_subset": 384},
        {},
        {"embedding_size": 512},
    ),
    "drawn_pairs_x4": (
        {"drawn_classes": 48, "n_videos_per_subset": 384},
        {"batches_per_epoch": 128, "checkpoint_every_samples": 10240},
        {},
    ),
    "drawn_combined": (
        {
            "drawn_classes": 48,
            "n_videos_per_subset": 384,
            "two_sources_p": 0.5,
            "silent_stretch_p": 0.3,
        },
        {"width": 0.25, "batches_per_epoch": 128, "checkpoint_every_samples": 10240},
        {"hop_size": 0.5},
    ),
}
"""Row -> (``ingest.avc.synthetic``, ``avc_training.training``, ``embed``) overrides
(an ``embed`` ``embedding_size`` goes to the model: 512 or 6144)."""


def scratch_project(path: Path, corpus: dict) -> Path:
    """A copy of the project's configuration in ``path`` (code from the installed package).

    Only the AVC videos are ingested there (the downstream datasets are off);
    ``corpus`` overrides ``ingest.avc.synthetic``.
    """
    path.mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", path)
    shutil.copytree(ROOT / "conf", path / "conf", ignore=shutil.ignore_patterns("local"))
    local = path / "conf" / "local"
    local.mkdir()
    ingest = {"datasets": {"us8k": {"enabled": False}, "fsdd": {"enabled": False}}}
    if corpus:
        ingest["avc"] = {"synthetic": corpus}
    (local / "parameters_ingest.yml").write_text(yaml.safe_dump({"ingest": ingest}))
    (path / "src").mkdir()
    raw = path / "data" / "01_raw"
    raw.mkdir(parents=True)
    (raw / "audioset").symlink_to(ROOT / "data" / "01_raw" / "audioset")
    return path


def kedro_run(project: Path, *args: str) -> None:
    """``kedro run ARGS`` in ``project``; raise with the output's tail if it fails."""
    kedro = Path(sys.executable).with_name("kedro")
    done = subprocess.run(
        [str(kedro), "run", *args],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DO_NOT_TRACK": "true", "MLFLOW_DISABLE_TELEMETRY": "true"},
    )
    if done.returncode:
        raise SystemExit(f"kedro run {' '.join(args)} failed:\n{done.stderr[-3000:]}")


def train(project: Path, variant: str, training: dict) -> tuple[Path, dict]:
    """Train ``variant`` in ``project`` with ``training`` overrides; (best model, state)."""
    work = project / "data" / "06_models" / "avc_training"
    overrides = ",".join(f"avc_training.training.{k}={v}" for k, v in training.items())
    args = ["--pipeline", "avc_training", "--namespaces", variant]
    kedro_run(project, *args, *(["--params", overrides] if overrides else []))
    state = json.loads((work / variant / "state.json").read_text())
    return work / variant / "best.keras", state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT, help="UrbanSound8K layout")
    parser.add_argument("--rows", nargs="*", default=list(ROWS), choices=list(ROWS))
    parser.add_argument("--variant", default="l3_mel128_env", help="avc_training variant")
    parser.add_argument("--controls", nargs="*", default=["handcrafted", "soundnet"])
    parser.add_argument("--refold", type=int, default=None, help="N source-disjoint folds")
    parser.add_argument(
        "--hop", type=float, default=None, help="embedding hop in s for every row and control"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from validation_gap import embed_clips, protocol_accuracy

    from l3_kedro.evaluation import ProtocolConfig
    from l3_kedro.layouts.folds import refold_by_source
    from l3_kedro.layouts.probe import IngestPolicy, probe_clips
    from l3_kedro.layouts.urbansound8k import read_urbansound8k
    from l3_kedro.project.config import load_parameters
    from l3_kedro.reporting.wilcoxon import signed_rank_exact_p

    os.chdir(ROOT)  # model paths in the configuration are relative to the project
    params = load_parameters(env="base")
    variant = params["avc_training"]["variants"][args.variant]
    training = params["avc_training"]["training"]
    settings = {k: v for k, v in params["embed"].items() if k not in ("models", "trained")}
    if args.hop is not None:
        settings["hop_size"] = args.hop
    config = ProtocolConfig.from_parameters(
        dict(params["downstream_eval"]["protocol"], test_folds=None)
    )
    clips, _ = probe_clips(
        read_urbansound8k(root=args.root), policy=IngestPolicy(on_error="skip", probe="header")
    )
    if args.refold:
        clips = refold_by_source(clips, n_folds=args.refold, seed=0, dataset="us8k")
    sources = dict(zip(clips["clip_id"], clips["source_id"], strict=True))
    print(
        f"# python benchmarks/transfer_ablation.py {' '.join(sys.argv[1:])}   "
        f"({time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}, {os.cpu_count()}-core CPU)\n"
        f"# variant {args.variant} ({variant['input_repr']}, {variant['subset']}); "
        f"{len(clips)} UrbanSound8K clips, {clips['source_id'].nunique()} source recordings, "
        + (
            f"dealt into {args.refold} source-disjoint folds"
            if args.refold
            else f"official folds {sorted(int(f) for f in clips['fold'].unique())}"
        )
        + ", each in turn the test fold, "
        f"validation held out by source; grid {config.grid_points}, epochs {config.epochs}, "
        f"patience {config.patience}; clip accuracy, mean over test folds"
    )
    print(
        f"{'row':18s} {'AVC val':>7s} {'train s':>7s} {'hop':>5s} {'validation':>10s} "
        f"{'test':>6s} {'p hand':>7s} {'p rand':>7s}  test per fold"
    )
    per_fold_of: dict[str, list[float]] = {}

    def p_against(per_fold, control):
        if not args.refold or control not in per_fold_of:
            return ""
        return f"{signed_rank_exact_p(np.subtract(per_fold, per_fold_of[control])):.4f}"

    def report(name, spec, embed, *, avc="", seconds="", random=None):
        hop = {**settings, **embed}["hop_size"]
        store = embed_clips(clips, name, spec, {**settings, **embed}, scratch / f"{name}.h5")
        validation, test, per_fold = protocol_accuracy(
            store, sources, config
        )  # folds: the store's clips
        per_fold_of[name] = list(per_fold)
        p_hand = p_against(per_fold, "handcrafted") if name != "handcrafted" else ""
        p_rand = p_against(per_fold, random) if random else ""
        print(
            f"{name:18s} {avc:>7s} {seconds:>7s} {hop:5.2f} {validation:10.3f} {test:6.3f} "
            f"{p_hand:>7s} {p_rand:>7s}  {' '.join(f'{a:.3f}' for a in per_fold)}",
            flush=True,
        )

    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        for name in args.controls:
            report(name, params["embed"]["models"][name], {})
        widths = sorted({ROWS[row][1].get("width", training["width"]) for row in args.rows})
        for width in widths:  # the untrained tower of each width the rows train
            random = {
                "kind": "l3_random",
                "input_repr": variant["input_repr"],
                "embedding_size": 6144,
                "width": width,
                "seed": 0,
            }
            report(f"random_w{width}", random, {})
        projects: dict[str, Path] = {}
        for row in args.rows:
            corpus, overrides, embed = ROWS[row]
            key = json.dumps(corpus, sort_keys=True)
            if key not in projects:
                projects[key] = scratch_project(scratch / f"project_{len(projects)}", corpus)
                kedro_run(projects[key], "--pipeline", "ingest")
            project = projects[key]
            if overrides:
                project = scratch / f"project_{row}"
                shutil.copytree(projects[key], project, symlinks=True)
            best, state = train(project, args.variant, overrides)
            seconds = sum(epoch["seconds"] for epoch in state["history"])
            embed = dict(embed)
            size = embed.pop("embedding_size", 6144)
            spec = {"kind": "l3", "path": str(best), "embedding_size": size}
            width = overrides.get("width", training["width"])
            report(
                row,
                spec,
                embed,
                avc=f"{state['best_val_accuracy']:.3f}",
                seconds=f"{seconds:.0f}",
                random=f"random_w{width}",
            )


if __name__ == "__main__":
    main()
