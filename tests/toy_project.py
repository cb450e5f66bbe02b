"""A toy-scale copy of the project for tests that run `kedro` in a subprocess.

Same pipelines, catalog and code as the README's command; only sizes shrink
(conf/local): a tiny synthetic corpus, two variants trained for 2 epochs,
the embedded UrbanSound8K clips only, 1 s hop.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import REPO_ROOT

LOCAL = {
    "parameters_ingest.yml": {
        "ingest": {
            "datasets": {"us8k": {"folds": [1, 2]}, "fsdd": {"enabled": False}},
            "avc": {"synthetic": {"n_videos_per_subset": 20, "duration_s": 3.0, "image_size": 32}},
        }
    },
    "parameters_avc_training.yml": {
        "avc_training": {
            "variants": {
                name: {"enabled": False}
                for name in ("l3_linear_music", "l3_linear_env", "l3_mel128_env", "l3_mel256_music")
            },
            "training": {
                "width": 0.0625,
                "image_size": 16,
                "frame_short_side": 20,
                "batch_size": 8,
                "epochs": 2,
                "batches_per_epoch": 2,
                "validation_batches": 1,
                "test_batches": 1,
                "checkpoint_every_samples": 16,
                "videos_per_batch": 4,
                "workers": 0,
            },
        }
    },
    "parameters_embed.yml": {
        "embed": {
            "hop_size": 1.0,
            "models": {"soundnet": {"enabled": False}, "l3_random_mel256": {"enabled": False}},
            "trained": {"checkpoint_variants": ["l3_mel128_music"]},
        }
    },
    "parameters_downstream_eval.yml": {
        "downstream_eval": {"protocol": {"epochs": 2, "patience": 1}}
    },
}


HEAR_ENTRY = {"kind": "hear", "module": "tests.hear_modules.tf_logmel"}
"""Any HEAR module as an embedding (``embed.models.hear_logmel``): a cheap TensorFlow one."""


def make_toy_project(tmp_path: Path, *, hear: bool = False) -> Path:
    """Write the toy project into `tmp_path` (code from the installed package); return it.

    ``hear`` adds :data:`HEAR_ENTRY` to the embeddings as ``hear_logmel``.
    """
    tmp_path.mkdir(parents=True, exist_ok=True)
    for name in ("pyproject.toml", ".telemetry"):
        if (REPO_ROOT / name).exists():
            shutil.copy(REPO_ROOT / name, tmp_path)
    shutil.copytree(REPO_ROOT / "conf", tmp_path / "conf", ignore=shutil.ignore_patterns("local"))
    (tmp_path / "conf" / "local").mkdir()
    local = dict(LOCAL)
    if hear:
        embed = local["parameters_embed.yml"]["embed"]
        models = {**embed["models"], "hear_logmel": HEAR_ENTRY}
        local["parameters_embed.yml"] = {"embed": {**embed, "models": models}}
    for file_name, content in local.items():
        (tmp_path / "conf" / "local" / file_name).write_text(yaml.safe_dump(content))
    (tmp_path / "src").mkdir()
    raw = tmp_path / "data" / "01_raw"
    raw.mkdir(parents=True)
    for name in ("urbansound8k", "audioset"):
        (raw / name).symlink_to(REPO_ROOT / "data" / "01_raw" / name)
    return tmp_path


KEDRO_MAIN = """
import sys
from kedro.framework.cli import main
sys.argv[0] = "kedro"
main()
"""
"""Python source that runs the `kedro` command with the process' arguments."""


def kedro(
    project: Path,
    *args: str,
    prelude: str = "",
    timeout: float = 900,
    environment: dict[str, str] | None = None,
    **variables: str,
) -> subprocess.CompletedProcess:
    """Run ``kedro *args`` in `project` as a subprocess; return it (output as text).

    `prelude` is Python source run first in the same process (an audit hook,
    a fault to inject); `variables` are added to `environment` (default: this
    process' environment). The repository is on ``PYTHONPATH``, so that
    ``tests.hear_modules`` can be imported.
    """
    environment = dict(os.environ if environment is None else environment)
    path = [str(REPO_ROOT), *filter(None, [environment.get("PYTHONPATH")])]
    return subprocess.run(
        [sys.executable, "-c", prelude + KEDRO_MAIN, *args],
        cwd=project,
        env={
            **environment,
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONPATH": os.pathsep.join(path),
            **variables,
        },
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def kedro_run(project: Path, *args: str, **variables: str) -> str:
    """`kedro run *args` in `project`; fails the test on a non-zero exit; returns the output."""
    done = kedro(project, "run", *args, **variables)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr
