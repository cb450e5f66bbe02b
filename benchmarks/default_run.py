"""Wall time of the embedded default run, and each pipeline's share.

Runs ``kedro run --pipeline <name>`` for every registered pipeline in the
order of the default run (each reads what the previous one wrote, through
the catalog), timing each, then prints the table and the total against the
goal of 15 minutes on a 2-core laptop.

    python benchmarks/default_run.py            # all pipelines
    python benchmarks/default_run.py --env paper
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORDER = ("ingest", "avc_training", "embed", "downstream_eval", "reporting")
GOAL_S = 15 * 60


def registered_pipelines(kedro: Path) -> list[str]:
    listing = subprocess.run(
        [str(kedro), "registry", "list"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    names = {line.strip()[2:] for line in listing.splitlines() if line.strip().startswith("- ")}
    return [name for name in ORDER if name in names]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default=None)
    args = parser.parse_args()
    kedro = Path(sys.executable).parent / "kedro"
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "TF_CPP_MIN_LOG_LEVEL": "2"}
    timings = []
    for name in registered_pipelines(kedro):
        command = [str(kedro), "run", "--pipeline", name]
        if args.env:
            command += ["--env", args.env]
        start = time.perf_counter()
        result = subprocess.run(
            command, check=False, cwd=ROOT, env=env, capture_output=True, text=True
        )
        elapsed = time.perf_counter() - start
        if result.returncode != 0:
            sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
            raise SystemExit(f"`{' '.join(command[1:])}` failed after {elapsed:.0f} s")
        timings.append((name, elapsed))
        print(f"{name:16s} {elapsed:7.1f} s", flush=True)
    total = sum(t for _, t in timings)
    print("-" * 40)
    for name, elapsed in timings:
        print(f"{name:16s} {elapsed:7.1f} s  {elapsed / total:6.1%}")
    print(
        f"{'total':16s} {total:7.1f} s  (goal <= {GOAL_S} s: {'met' if total <= GOAL_S else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
