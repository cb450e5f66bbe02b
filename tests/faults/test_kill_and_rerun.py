"""SIGKILL at the worst moment of each stage, then rerun: nothing lost, nothing stranded.

A fault is injected into a real ``kedro run`` of the toy project (see
:mod:`tests.toy_project`) by a prelude that wraps ``os.replace`` and
``os.rename``: when a file whose path matches ``FAULT_AT`` is about to be
renamed into place (its partial fully written, the rename not yet done),
the process kills itself with SIGKILL, as the OOM killer or a cluster's
scheduler would. Kill points: the US8K clip table (ingest), the second
epoch of a variant's AVC training, a variant's embedding store (embed) and
a store's downstream folds (downstream_eval).

After the rerun: the outputs equal those of an uninterrupted run (same
seeds), no partial file is left anywhere under ``data/``, and a killed or
failed save of a new version leaves the last good version untouched and
still the one loaded.
"""

from __future__ import annotations

import hashlib
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from l3_kedro.datasets import EmbeddingStore
from l3_kedro.datasets.trained_model import TrainedModel
from tests.toy_project import kedro, kedro_run, make_toy_project

pytestmark = [pytest.mark.faults, pytest.mark.slow]

FAULT_PRELUDE = r"""
import errno, os, re, signal
_AT = re.compile(os.environ["FAULT_AT"])
_SKIP = int(os.environ.get("FAULT_SKIP", "0"))
_MODE = os.environ.get("FAULT_MODE", "kill")
_seen = [0]

def _due(path):
    if not _AT.search(str(path)):
        return False
    _seen[0] += 1
    return _seen[0] > _SKIP

if _MODE == "kill":
    def _wrap(real):
        def renamed(src, dst, *args, **kwargs):
            if _due(dst):
                os.kill(os.getpid(), signal.SIGKILL)
            return real(src, dst, *args, **kwargs)
        return renamed
    os.replace, os.rename = _wrap(os.replace), _wrap(os.rename)
else:  # "full": the disk fills up while the file is written
    from fsspec.implementations.local import LocalFileOpener
    _write = LocalFileOpener.write
    def write(self, data):
        if _due(self.path):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return _write(self, data)
    LocalFileOpener.write = write
"""

KILL_POINTS = {
    "ingest": (r"03_primary/us8k/clips\.parquet/[^/]+/clips\.parquet$", 0),
    "avc_training": (r"avc_training/l3_mel256_env/epoch_2\.keras$", 0),
    "embed": (r"04_feature/us8k/l3_mel128_music\.h5/[^/]+/l3_mel128_music\.h5$", 0),
    "downstream_eval": (r"downstream/us8k/l3_mel256_env\.parquet/[^/]+/l3_mel256_env\.parquet$", 0),
}
"""Stage -> (regex of the final path whose rename is killed, matches to let pass first)."""


def _latest(data: Path, relative: str) -> Path:
    """The latest version's file of the versioned dataset ``data/relative``."""
    versions = sorted((data / relative).glob(f"*/{Path(relative).name}"))
    assert versions, f"no version of {relative}"
    return versions[-1]


def _partials(data: Path) -> list[Path]:
    return sorted(p for p in data.rglob("*") if ".partial" in p.name)


def _killed_run(project: Path, stage: str) -> None:
    pattern, skip = KILL_POINTS[stage]
    done = kedro(project, "run", prelude=FAULT_PRELUDE, FAULT_AT=pattern, FAULT_SKIP=str(skip))
    assert done.returncode == -signal.SIGKILL, (
        f"the {stage} fault never fired:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
    )


def _portable(frame: pd.DataFrame, data: Path) -> pd.DataFrame:
    """``frame`` with the project's own root written as ``<project>`` in text columns."""
    root = str(data.parent)
    frame = frame.copy()
    for column in frame.columns:
        if pd.api.types.is_string_dtype(frame[column]):
            frame[column] = frame[column].str.replace(root, "<project>", regex=False)
    return frame


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def uninterrupted(toy_run) -> Path:
    return toy_run / "data"


@pytest.fixture(scope="module")
def interrupted(tmp_path_factory) -> tuple[Path, dict[str, list[Path]]]:
    """A project killed once in each stage, in pipeline order, then run to the end."""
    project = make_toy_project(tmp_path_factory.mktemp("interrupted"), hear=True)
    data = project / "data"
    stranded = {}
    for stage in KILL_POINTS:
        _killed_run(project, stage)
        stranded[stage] = _partials(data)
    kedro_run(project)
    return data, stranded


def test_each_kill_strands_a_partial_that_a_rerun_removes(interrupted):
    data, stranded = interrupted
    for stage, pattern in (
        ("ingest", ".clips."),
        ("embed", ".l3_mel128_music."),
        ("downstream_eval", ".l3_mel256_env."),
    ):
        assert any(pattern in p.name for p in stranded[stage]), (stage, stranded[stage])
    assert _partials(data) == []


def test_outputs_equal_an_uninterrupted_run(interrupted, uninterrupted):
    data, _ = interrupted
    for table in ("03_primary/us8k/clips.parquet", "03_primary/avc/video_manifest.parquet"):
        pd.testing.assert_frame_equal(
            _portable(pd.read_parquet(_latest(data, table)), data),
            _portable(pd.read_parquet(_latest(uninterrupted, table)), uninterrupted),
        )
    for variant in ("l3_mel128_music", "l3_mel256_env"):
        best = f"06_models/avc/{variant}/best.keras"
        got = TrainedModel(_latest(data, best)).load()
        want = TrainedModel(_latest(uninterrupted, best)).load()
        for a, b in zip(got.get_weights(), want.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
    for model in ("l3_mel128_music", "l3_mel256_env", "handcrafted"):
        relative = f"04_feature/us8k/{model}.h5"
        with (
            EmbeddingStore(_latest(data, relative)) as got,
            EmbeddingStore(_latest(uninterrupted, relative)) as want,
        ):
            np.testing.assert_array_equal(got.embeddings[:], want.embeddings[:])
            pd.testing.assert_frame_equal(
                _portable(got.clips, data), _portable(want.clips, uninterrupted)
            )
    metrics = ["dataset", "embedding", "fold", "clip_accuracy"]
    results = "07_model_output/downstream_results.parquet"
    got = pd.read_parquet(_latest(data, results))[metrics].sort_values(metrics[:3])
    want = pd.read_parquet(_latest(uninterrupted, results))[metrics].sort_values(metrics[:3])
    pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))


def test_a_killed_save_keeps_the_last_good_version(interrupted):
    data, _ = interrupted
    project = data.parent
    results = "07_model_output/downstream_results.parquet"
    good = _latest(data, results)
    good_digest = _digest(good)
    done = kedro(
        project,
        "run",
        "--pipeline",
        "downstream_eval",
        prelude=FAULT_PRELUDE,
        FAULT_AT=r"downstream_results\.parquet/[^/]+/downstream_results\.parquet$",
    )
    assert done.returncode == -signal.SIGKILL
    assert _latest(data, results) == good and _digest(good) == good_digest
    assert any("downstream_results" in p.name for p in _partials(data))
    kedro_run(project, "--pipeline", "downstream_eval")
    assert _partials(data) == []
    assert _digest(good) == good_digest


def test_a_full_disk_is_one_line_and_keeps_the_last_good_version(interrupted):
    data, _ = interrupted
    project = data.parent
    results = "07_model_output/downstream_results.parquet"
    good = _latest(data, results)
    good_digest = _digest(good)
    done = kedro(
        project,
        "run",
        "--pipeline",
        "downstream_eval",
        prelude=FAULT_PRELUDE,
        FAULT_AT=r"downstream_results",
        FAULT_MODE="full",
    )
    assert done.returncode == 1, done.stderr[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and "No space left on device" in errors[0], done.stderr[-3000:]
    assert "downstream_results.parquet" in errors[0]
    assert _latest(data, results) == good and _digest(good) == good_digest
    assert _partials(data) == []
