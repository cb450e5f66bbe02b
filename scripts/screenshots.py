"""Screenshots of the real MLflow UI and kedro-viz for ``docs/``, taken by headless Chromium.

Run after ``make run``, from the project folder::

    .venv/bin/python scripts/screenshots.py [--project .] [--out docs] [--only mlflow|viz]

(``--only viz`` needs no run: kedro-viz draws the pipelines from the code.)

Starts ``mlflow server`` on the project's tracking store (``mlflow.db``, on
127.0.0.1 at a free port) and serves the static site of ``kedro viz build``,
then has Chromium (Debian's ``chromium`` package) load each page and save:

- ``mlflow_runs.png``: the ``l3_kedro`` experiment's runs table, as the UI opens it;
- ``mlflow_downstream.png``: the downstream runs, filtered by tag and sorted by
  clip accuracy (a filter plus a sort by metric lists nested runs flat);
- ``mlflow_avc_charts.png``: the AVC training runs in the chart view;
- ``kedro_viz.png``: the pipelines as kedro-viz first shows them.

Both servers are stopped at the end. Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
WINDOW = "1920,1080"
QUIET = {
    "DO_NOT_TRACK": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "KEDRO_DISABLE_TELEMETRY": "true",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(url: str, seconds: float = 120) -> None:
    """Return once ``url`` answers HTTP 200; raise after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=5) as answer:
            if answer.status == 200:
                return
        time.sleep(1)
    raise SystemExit(f"{url} did not answer within {seconds:.0f} s")


@contextlib.contextmanager
def serving(command: list[str], url: str, cwd: Path) -> Iterator[None]:
    """Run ``command`` (a local server) until the block ends; wait for ``url`` first."""
    server = subprocess.Popen(
        command,
        cwd=cwd,
        env={**os.environ, **QUIET},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(url)
        yield
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=30)


def screenshot(url: str, out: Path, *, wait_ms: int = 20_000) -> None:
    """Chromium loads ``url`` (``wait_ms`` of virtual time for scripts) and saves ``out``."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("Chromium not found: install Debian's package (apt install chromium).")
    subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size={WINDOW}",
            f"--virtual-time-budget={wait_ms}",
            f"--screenshot={out}",
            url,
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    print(f"wrote {out}")


def flat_view(kind: str, metric: str) -> str:
    """URL query: runs of ``l3_kedro.kind`` ``kind``, best ``metric`` first, not nested."""
    query = {
        "searchFilter": f"tags.l3_kedro.kind = '{kind}'",
        "orderByKey": f"metrics.`{metric}`",
        "orderByAsc": "false",
    }
    return "?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)


def experiment_id(store: Path) -> str:
    import mlflow

    mlflow.set_tracking_uri(f"sqlite:///{store}")
    experiment = mlflow.get_experiment_by_name("l3_kedro")
    if experiment is None:
        raise SystemExit(f"no 'l3_kedro' experiment in {store}: run `make run` first")
    return experiment.experiment_id


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=ROOT, help="a project after `make run`")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--only", choices=("mlflow", "viz"), help="take one tool's pictures")
    args = parser.parse_args()
    project, out = args.project.resolve(), args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    if args.only != "viz":
        mlflow_screenshots(project, out)
    if args.only != "mlflow":
        viz_screenshot(project, out)


def mlflow_screenshots(project: Path, out: Path) -> None:
    """The runs table, the downstream runs best first, the AVC curves."""
    store = project / "mlflow.db"
    if not store.is_file():
        raise SystemExit(f"{store} not found: run `make run` in {project} first")
    experiment = experiment_id(store)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    mlflow_server = [
        str(BIN / "mlflow"),
        "server",
        "--backend-store-uri",
        f"sqlite:///{store}",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with serving(mlflow_server, f"{base}/health", project):
        runs = f"{base}/#/experiments/{experiment}/runs"
        screenshot(runs, out / "mlflow_runs.png")
        screenshot(
            runs + flat_view("downstream", "clip_accuracy_mean"), out / "mlflow_downstream.png"
        )
        screenshot(
            runs + flat_view("avc_training", "best_val_accuracy") + "&compareRunsMode=CHART",
            out / "mlflow_avc_charts.png",
        )


def viz_screenshot(project: Path, out: Path) -> None:
    """kedro-viz as it first opens, from the static site of ``kedro viz build``."""
    subprocess.run(
        [str(BIN / "kedro"), "viz", "build"],
        cwd=project,
        env={**os.environ, **QUIET},
        check=True,
        capture_output=True,
    )
    port = free_port()
    site = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
    with serving(site, f"http://127.0.0.1:{port}/", project / "build"):
        screenshot(f"http://127.0.0.1:{port}/", out / "kedro_viz.png")


if __name__ == "__main__":
    main()
