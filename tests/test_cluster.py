"""The Dask engine's configuration: conf/slurm builds real dask-jobqueue job scripts."""

from __future__ import annotations

import pytest

from l3_kedro.cluster import EngineConfig, jobqueue_cluster
from l3_kedro.project.config import load_parameters


@pytest.mark.parametrize(
    ("section", "expected"),
    [("embed", ["#SBATCH -p gpu", "#SBATCH --gres=gpu:1", "#SBATCH -t 04:00:00"]),
     ("downstream_eval", ["#SBATCH -p cpu", "#SBATCH --mem=15G", "#SBATCH -t 02:00:00"])],
)  # fmt: skip
def test_the_slurm_environment_makes_slurm_job_scripts(section, expected):
    engine = EngineConfig.from_parameters(
        load_parameters(env="slurm")[section]["engine"], parameter=f"{section}.engine"
    )
    assert engine.distributed and engine.jobqueue["kind"] == "slurm"
    cluster = jobqueue_cluster(
        engine, scheduler_options={"host": "127.0.0.1", "dashboard_address": None}
    )
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    for line in expected:
        assert line in script
    assert "distributed.cli.dask_worker" in script and "tcp://127.0.0.1:" in script


def test_the_base_environment_runs_everything_here():
    parameters = load_parameters(env="base")
    for section in ("embed", "downstream_eval"):
        engine = EngineConfig.from_parameters(
            parameters[section]["engine"], parameter=f"{section}.engine"
        )
        assert not engine.distributed
