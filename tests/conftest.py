"""Fixtures shared by the whole suite."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("L3_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
EMBEDDED_RAW = REPO_ROOT / "data" / "01_raw"

requires_shared_data = pytest.mark.skipif(
    not SHARED_DATA.is_dir(), reason=f"shared real data not found at {SHARED_DATA}"
)


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded random generator."""
    return np.random.default_rng(20190512)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (or ``$L3_SHARED_DATA``); skips the test when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared real data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def embedded_raw() -> Path:
    """The embedded default datasets shipped in the repository."""
    return EMBEDDED_RAW


@pytest.fixture(autouse=True)
def _no_mlflow_run_left_active():
    """End any MLflow run a test (e.g. a Kedro session with kedro-mlflow) left active."""
    yield
    mlflow = sys.modules.get("mlflow")
    if mlflow is not None:
        while mlflow.active_run() is not None:
            mlflow.end_run()


def use_private_mlflow_store(folder: Path, experiment: str = "test") -> str:
    """Track to a SQLite store in ``folder``, in ``experiment``; the tracking URI.

    The experiment keeps its artifacts in ``folder / "artifacts"``: one made
    without an artifact location writes them to ``./mlruns`` in the working
    directory. Reset with ``mlflow.set_tracking_uri(None)``.
    """
    import mlflow

    uri = f"sqlite:///{folder / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    if mlflow.get_experiment_by_name(experiment) is None:
        mlflow.create_experiment(experiment, artifact_location=(folder / "artifacts").as_uri())
    mlflow.set_experiment(experiment)
    return uri


@pytest.fixture
def mlflow_store(tmp_path):
    """A private MLflow store under ``tmp_path``, experiment ``"test"``; yields its URI."""
    import mlflow

    try:
        yield use_private_mlflow_store(tmp_path)
    finally:
        mlflow.set_tracking_uri(None)


@pytest.fixture(scope="session", autouse=True)
def _no_mlruns_in_the_repository():
    """Fail the session if a test wrote MLflow data into the repository's own folder."""
    stray = REPO_ROOT / "mlruns"
    existed = stray.exists()
    yield
    assert existed or not stray.exists(), f"a test wrote MLflow data to {stray}"


@pytest.fixture(scope="session")
def toy_run(tmp_path_factory) -> Path:
    """The toy project (with a HEAR embedding) after one ``kedro run``; its folder.

    Shared by ``tests/test_default_run.py`` and the fault suite's reference
    run: one toy run instead of two. Node timings in ``node_times.csv``.
    """
    from tests.toy_project import kedro_run, make_toy_project

    project = make_toy_project(tmp_path_factory.mktemp("toy_run"), hear=True)
    kedro_run(project, L3_KEDRO_NODE_TIMES=str(project / "node_times.csv"))
    return project
