"""Wall time of the embedded default run, and each pipeline's share.

Runs ``kedro run`` once, exactly as a user does (one process, every pipeline
in the order of the default run, each reading what the previous one wrote
through the catalog), with the project's node-timing hook switched on
(``$L3_KEDRO_NODE_TIMES``), then prints the wall time of the whole command
against the goal of 15 minutes on a 2-core laptop and each pipeline's share
(node times summed per pipeline; the rest is start-up and hooks).

    python benchmarks/default_run.py            # the embedded default
    python benchmarks/default_run.py --env paper
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
ORDER = ("ingest", "avc_training", "embed", "downstream_eval", "reporting")
GOAL_S = 15 * 60


def pipeline_of_nodes(env: str | None) -> dict[str, str]:
    """``{node name: pipeline name}`` for the pipelines of :data:`ORDER`."""
    from kedro.framework.startup import bootstrap_project

    if env:
        os.environ["KEDRO_ENV"] = env
    bootstrap_project(ROOT)
    from kedro.framework.project import pipelines

    return {n.name: name for name in ORDER if name in pipelines for n in pipelines[name].nodes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default=None)
    args = parser.parse_args()
    kedro = Path(sys.executable).parent / "kedro"
    with tempfile.TemporaryDirectory() as scratch:
        times_csv = Path(scratch) / "node_times.csv"
        env = {
            **os.environ,
            "KEDRO_DISABLE_TELEMETRY": "true",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "L3_KEDRO_NODE_TIMES": str(times_csv),
        }
        command = [str(kedro), "run"] + (["--env", args.env] if args.env else [])
        start = time.perf_counter()
        result = subprocess.run(
            command, check=False, cwd=ROOT, env=env, capture_output=True, text=True
        )
        total = time.perf_counter() - start
        if result.returncode != 0:
            sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
            raise SystemExit(f"`{' '.join(command[1:])}` failed after {total:.0f} s")
        nodes = pd.read_csv(times_csv)
    owner = pipeline_of_nodes(args.env)
    nodes["pipeline"] = nodes["node"].map(owner).fillna("other")
    shares = nodes.groupby("pipeline")["seconds"].sum()
    rows = [(name, float(shares.get(name, 0.0))) for name in (*ORDER, "other")]
    rows = [(name, t) for name, t in rows if t > 0 or name in ORDER]
    rows.append(("start-up, hooks", total - float(nodes["seconds"].sum())))
    print(f"`{' '.join(command[1:])}`: {len(nodes)} nodes")
    for name, seconds in rows:
        print(f"{name:16s} {seconds:7.1f} s  {seconds / total:6.1%}")
    print("-" * 40)
    verdict = "met" if total <= GOAL_S else "NOT met"
    print(f"{'total':16s} {total:7.1f} s  (goal <= {GOAL_S} s: {verdict})")
    if not args.env:
        print_comparison_checks()


def _latest(path: str) -> Path:
    return sorted((ROOT / path).glob("*/" + Path(path).name))[-1]


def print_comparison_checks() -> None:
    """What the run's design-choice tests rest on, recomputed from its own outputs.

    Per dataset: how many comparisons have a p-value (in the table and in the
    MLflow runs of this run), and whether every input_repr / subset
    comparison's level means are those of the trained L3 rows (kind ``l3``)
    only, averaged per pairing unit as the table says.
    """
    import mlflow

    results = pd.read_parquet(_latest("data/07_model_output/downstream_results.parquet"))
    table = pd.read_csv(_latest("data/08_reporting/design_choice_significance.csv"))
    results = results[results["selection"].astype(str) != "checkpoint"]
    mlflow.set_tracking_uri(f"sqlite:///{ROOT / 'mlflow.db'}")
    runs = mlflow.search_runs(
        search_all_experiments=True, filter_string="tags.`l3_kedro.kind` = 'significance'"
    )
    if runs.empty:
        print("no significance runs in mlflow.db")
        return
    latest = runs[runs["tags.mlflow.parentRunId"] == runs.iloc[0]["tags.mlflow.parentRunId"]]
    for dataset, rows in table.groupby("dataset"):
        logged = latest[(latest["tags.dataset"] == dataset) & latest["metrics.p"].notna()]
        mismatches = 0
        for row in rows[rows["factor"].isin(["input_repr", "subset"])].itertuples():
            trained = results[(results["dataset"] == dataset) & (results["kind"] == "l3")]
            units = str(row.pairing).split(" x ")
            means = [
                trained[trained[row.factor] == level].groupby(units)["clip_accuracy"].mean()
                for level in (row.level_a, row.level_b)
            ]
            common = means[0].index.intersection(means[1].index)
            expected = (means[0][common].mean(), means[1][common].mean())
            mismatches += not (
                abs(expected[0] - row.mean_a) < 1e-9 and abs(expected[1] - row.mean_b) < 1e-9
            )
        print(
            f"{dataset}: {int(rows['p'].notna().sum())} of {len(rows)} comparisons have a p-value "
            f"({len(logged)} in MLflow); input_repr/subset level means = kind l3 rows only: "
            f"{'yes' if mismatches == 0 else f'NO ({mismatches} differ)'}"
        )


if __name__ == "__main__":
    main()
