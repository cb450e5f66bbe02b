"""`kedro run` (and `python -m l3_kedro`) end a project error with one line, not a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.toy_project import kedro, make_toy_project

BAD_PARAMETER = ("--pipeline", "reporting", "--params", "reporting.pairing=bogus")


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return make_toy_project(tmp_path_factory.mktemp("kedro_cli"))


def test_a_bad_parameter_is_one_line_and_exit_1(project):
    done = kedro(project, "run", *BAD_PARAMETER)
    assert done.returncode == 1
    output = done.stdout + done.stderr
    assert "Traceback" not in output
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert errors == [
        "Error: reporting.pairing must be one of ['fold', 'fold_x_variation']; got 'bogus'"
    ]


def test_debug_keeps_the_traceback(project):
    done = kedro(project, "run", *BAD_PARAMETER, "--debug")
    assert done.returncode == 1
    assert "Traceback" in done.stdout + done.stderr
    assert "ParameterError" in done.stdout + done.stderr


def test_kedros_own_options_are_kept(project):
    done = kedro(project, "run", "--help")
    assert done.returncode == 0
    for option in ("--pipeline", "--params", "--env", "--runner", "--from-nodes", "--debug"):
        assert option in done.stdout


def test_python_m_l3_kedro_runs_the_same_command(project):
    done = subprocess.run(
        [sys.executable, "-m", "l3_kedro", *BAD_PARAMETER],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 1
    assert "Error: reporting.pairing must be one of" in done.stderr
    assert "Traceback" not in done.stdout + done.stderr


def test_no_library_warning_nobody_can_act_on(project):
    """MLflow's type-hint advice about kedro-mlflow's model and Kedro's dotted-name notice."""
    done = kedro(project, "registry", "list", COLUMNS="250")  # rich wraps no message
    assert done.returncode == 0, done.stderr[-2000:]
    output = done.stdout + done.stderr
    assert "- downstream_eval" in output  # every pipeline was built
    assert "type hints" not in output and "contain '.' characters" not in output
