"""Nothing reaches the network at run time, however the project is started.

Each command runs in a fresh process under a Python audit hook that records
(and refuses) every host-name lookup and every connection outside loopback.
The environment is scrubbed of every telemetry opt-out and CI marker the
libraries look at, so only what the project itself does keeps it offline;
the toy project has no ``.telemetry`` file either.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.toy_project import kedro, make_toy_project

AUDIT_HOOK = r"""
import os, sys
_LOG = os.environ["AUDIT_LOG"]
_LOOPBACK = {"localhost", "127.0.0.1", "::1", "0.0.0.0", "", "ip6-localhost"}
_LOOKUPS = {"socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex",
            "socket.gethostbyaddr", "http.client.connect"}
_CONNECTS = {"socket.connect", "socket.sendto", "socket.sendmsg"}

def _refuse(event, host):
    with open(_LOG, "a") as log:
        log.write(f"{event} {host!r}\n")
    raise OSError(f"network call refused by the test's audit hook: {event} {host!r}")

def _hook(event, args):
    if event in _LOOKUPS:
        host = args[0].decode() if isinstance(args[0], bytes) else args[0]
        if host not in _LOOPBACK and host is not None:
            _refuse(event, host)
    elif event in _CONNECTS:
        address = args[1] if len(args) > 1 else None
        if isinstance(address, tuple) and str(address[0]) not in _LOOPBACK:
            _refuse(event, address[0])

sys.addaudithook(_hook)
"""
"""Python source installing the audit hook; refusals are appended to ``$AUDIT_LOG``."""

OPT_OUTS_AND_CI_MARKERS = (
    "DO_NOT_TRACK",
    "MLFLOW_DISABLE_TELEMETRY",
    "KEDRO_DISABLE_TELEMETRY",
    "PYTEST_CURRENT_TEST",
    "CI",
    "GITHUB_ACTIONS",
    "GITHUB_ACTION",
    "GITLAB_CI",
    "JENKINS_URL",
    "TRAVIS",
    "CIRCLECI",
    "TF_BUILD",
    "BUILDKITE",
    "BITBUCKET_BUILD_NUMBER",
    "CODEBUILD_BUILD_ARN",
    "CODEBUILD_BUILD_ID",
    "TEAMCITY_VERSION",
    "CLOUD_RUN_EXECUTION",
)


@pytest.fixture
def audit_log(tmp_path) -> Path:
    """Where the audit hook records refused calls."""
    return tmp_path / "audit.log"


def _environment(audit_log: Path) -> dict[str, str]:
    """This process' environment without any opt-out or CI marker (pytest sets one)."""
    kept = {k: v for k, v in os.environ.items() if k not in OPT_OUTS_AND_CI_MARKERS}
    return {**kept, "AUDIT_LOG": str(audit_log)}


def _python(script: str, audit_log: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        env=_environment(audit_log),
        cwd=audit_log.parent,  # MLflow's default artifact folder ./mlruns lands there
    )


def _refusals(log: Path) -> str:
    return log.read_text() if log.exists() else ""


def test_the_audit_hook_catches_a_lookup(audit_log):
    """The hook itself works: a lookup of a public host is recorded."""
    done = _python(
        AUDIT_HOOK + "import socket\ntry:\n    socket.getaddrinfo('pypi.org', 443)\n"
        "except OSError:\n    pass\n",
        audit_log,
    )
    assert done.returncode == 0, done.stderr
    assert "socket.getaddrinfo 'pypi.org'" in _refusals(audit_log)


def test_mlflow_alone_would_call_home(audit_log, tmp_path):
    """Without the project's switches, MLflow's telemetry looks up its host.

    Shows that the test below can fail: the same MLflow calls, without
    importing l3_kedro, make a refused lookup.
    """
    script = AUDIT_HOOK + (
        "import mlflow\n"
        f"mlflow.set_tracking_uri('sqlite:///{tmp_path / 'mlflow.db'}')\n"
        "mlflow.set_experiment('probe')\n"
        "with mlflow.start_run():\n    mlflow.log_metric('m', 1.0)\n"
        "from mlflow.telemetry.client import get_telemetry_client\n"
        "client = get_telemetry_client()\n"
        "client is not None and client.flush(terminate=True)\n"
    )
    done = _python(script, audit_log)
    assert done.returncode == 0, done.stderr[-2000:]
    assert _refusals(audit_log), "MLflow made no lookup: the probe proves nothing"


@pytest.mark.slow
def test_kedro_run_ingest_stays_offline(audit_log, tmp_path):
    project = make_toy_project(tmp_path / "project")
    (project / ".telemetry").unlink(missing_ok=True)  # the package alone must do it
    done = kedro(
        project,
        "run",
        "--pipeline",
        "ingest",
        prelude=AUDIT_HOOK,
        environment=_environment(audit_log),
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert _refusals(audit_log) == ""


def test_the_cli_stays_offline(audit_log, tmp_path, embedded_raw):
    clip = next((embedded_raw / "urbansound8k").rglob("*.flac"))
    script = AUDIT_HOOK + (
        "import sys\nfrom l3_kedro.commands import main\n"
        f"sys.exit(main(['embed', {str(clip)!r}, '-o', {str(tmp_path / 'out')!r}, "
        "'-s', '512', '-t', '0.5', '-q']))\n"
    )
    done = _python(script, audit_log)
    assert done.returncode == 0, done.stderr[-2000:]
    assert list((tmp_path / "out").glob("*.npz"))
    assert _refusals(audit_log) == ""


def test_importing_the_package_switches_telemetry_off(audit_log):
    script = (
        "import os, mlflow\n"
        "from mlflow.telemetry.client import get_telemetry_client\n"
        "assert get_telemetry_client() is not None\n"
        "import l3_kedro\n"
        "assert get_telemetry_client() is None\n"
        "print(os.environ['DO_NOT_TRACK'], os.environ['MLFLOW_DISABLE_TELEMETRY'])\n"
    )
    done = _python(script, audit_log)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["true", "true"]
