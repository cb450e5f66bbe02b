"""``kedro viz build`` makes the static site: five pipelines, a short top level, nested groups."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

PIPELINES = {"ingest", "avc_training", "embed", "downstream_eval", "reporting"}
GROUPS = {"ingest", "avc_training", "downstream", "reporting"}
"""kedro-viz's top-level groups: ``embed`` and ``downstream_eval`` share ``downstream``."""
MAX_TOP_LEVEL = 25
"""Items kedro-viz draws at the top level of ``__default__`` when it opens."""


@pytest.fixture
def project_copy(tmp_path) -> Path:
    """The project's configuration in a scratch folder (the package comes from the install)."""
    for name in ("pyproject.toml", ".telemetry"):
        if (REPO_ROOT / name).exists():
            shutil.copy(REPO_ROOT / name, tmp_path)
    shutil.copytree(REPO_ROOT / "conf", tmp_path / "conf", ignore=shutil.ignore_patterns("local"))
    (tmp_path / "conf" / "local").mkdir()
    (tmp_path / "src").mkdir()
    return tmp_path


def test_kedro_viz_build_shows_five_pipelines_and_variant_namespaces(project_copy):
    kedro = Path(sys.executable).parent / "kedro"
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    done = subprocess.run(
        [str(kedro), "viz", "build"],
        cwd=project_copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    build = project_copy / "build"
    assert (build / "index.html").is_file()
    main = json.loads((build / "api" / "main").read_text())
    assert {p["id"] for p in main["pipelines"]} >= PIPELINES
    for name in PIPELINES:
        assert (build / "api" / "pipelines" / name).is_file()
    groups = set(main["modular_pipelines"])
    # every AVC variant is a collapsible group, and so is each dataset x embedding
    assert {
        "avc_training.l3_mel256_music",
        "avc_training.l3_linear_env",
        "downstream.us8k.l3_mel256_music",
        "ingest.avc",
    } <= groups
    datasets = {n["name"] for n in main["nodes"] if n["type"] == "data"}
    assert {"avc_test_accuracy", "downstream_results", "report_html"} <= {
        d.split("@")[0] for d in datasets
    }
    names = {n["id"]: n["name"] for n in main["nodes"]}
    top = main["modular_pipelines"]["__root__"]["children"]
    shown = sorted(names.get(child["id"], child["id"]) for child in top)
    assert len(top) <= MAX_TOP_LEVEL, shown
    assert {c["id"] for c in top if c["type"] == "modularPipeline"} == GROUPS
    assert not any(c["type"] == "task" for c in top), shown  # every node sits in a group
    # only what passes between pipelines, and their final products, sit at the top
    assert not any(".downstream_" in name or ".avc_" in name for name in shown), shown
