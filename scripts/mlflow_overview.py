"""Render what the MLflow UI lists after a run into one image (``docs/mlflow_overview.png``).

Reads the tracking store of ``conf/base/mlflow.yml`` (``sqlite:///mlflow.db``),
takes the latest nested run of each name in the ``l3_kedro`` experiment, and
draws: the AVC validation-accuracy history of every variant (the
UI's metric chart), the downstream clip accuracy of every embedding x dataset
run (the UI's compare view), and the significance tests with their Holm p.
This is a rendering of the store's contents by matplotlib, not a browser
screenshot (the development machine has no browser); open the UI with
``kedro mlflow ui`` to browse the same runs.

    python scripts/mlflow_overview.py [--out docs/mlflow_overview.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import mlflow
import pandas as pd
from mlflow.tracking import MlflowClient

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "mlflow_overview.png"))
    parser.add_argument("--tracking-uri", default=f"sqlite:///{ROOT / 'mlflow.db'}")
    args = parser.parse_args()
    mlflow.set_tracking_uri(args.tracking_uri)
    client = MlflowClient()
    experiment = client.get_experiment_by_name("l3_kedro")
    if experiment is None:
        raise SystemExit("No 'l3_kedro' experiment in the store: run `kedro run` first.")
    runs = mlflow.search_runs([experiment.experiment_id], max_results=20000)
    if "tags.l3_kedro.kind" not in runs or not (runs["tags.l3_kedro.kind"] == "avc_training").any():
        raise SystemExit("No AVC training runs in the store yet: run `kedro run` first.")
    # nested runs of every Kedro run, latest per run name (a `kedro run` per pipeline
    # or one for all: the same nested runs)
    children = (
        runs[runs["tags.mlflow.parentRunId"].notna()]
        .sort_values("start_time")
        .drop_duplicates("tags.mlflow.runName", keep="last")
    )
    parent = str(children["tags.mlflow.parentRunId"].iloc[-1])
    kind = children["tags.l3_kedro.kind"]
    avc = children[kind == "avc_training"].sort_values("tags.mlflow.runName")
    downstream = children[kind == "downstream"]
    tests = children[kind == "significance"]

    fig = plt.figure(figsize=(15, 9))
    grid = fig.add_gridspec(2, 2, height_ratios=[1, 1.15])
    ax = fig.add_subplot(grid[0, 0])
    for _, run in avc.iterrows():
        history = client.get_metric_history(run["run_id"], "val_accuracy")
        steps = [m.step for m in history]
        ax.plot(
            steps, [100 * m.value for m in history], marker="o", label=run["tags.mlflow.runName"]
        )
    ax.axhline(75, color="grey", ls=":", lw=1)
    ax.set(
        xlabel="epoch", ylabel="AVC validation accuracy (%)", title="avc / <variant>: val_accuracy"
    )
    ax.legend(fontsize=7)

    ax = fig.add_subplot(grid[0, 1])
    ax.axis("off")
    cells = [
        [
            r["tags.mlflow.runName"].replace("avc / ", ""),
            r.get("params.input_repr", ""),
            r.get("params.subset", ""),
            f"{100 * r.get('metrics.best_val_accuracy', float('nan')):.1f}",
            f"{100 * r.get('metrics.test_accuracy_music', float('nan')):.1f}",
            f"{100 * r.get('metrics.test_accuracy_environmental', float('nan')):.1f}",
        ]
        for _, r in avc.iterrows()
    ]
    table = ax.table(
        cellText=cells,
        colLabels=["AVC run", "input_repr", "subset", "best val %", "test music %", "test env %"],
        loc="center",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    ax.set_title("AVC training runs (params and metrics)")

    ax = fig.add_subplot(grid[1, 0])
    pivot = downstream.pivot_table(
        index="tags.embedding", columns="tags.dataset", values="metrics.clip_accuracy_mean"
    )
    (100 * pivot.sort_values(pivot.columns[0])).plot.barh(ax=ax)
    ax.set(
        xlabel="clip accuracy, mean over folds (%)", ylabel="", title="<dataset> / <embedding> runs"
    )
    ax.legend(fontsize=8)

    ax = fig.add_subplot(grid[1, 1])
    ax.axis("off")
    rows = tests.sort_values("tags.mlflow.runName").head(16)
    cells = [
        [
            r["tags.mlflow.runName"],
            str(r.get("params.status", "")).split(":")[0],
            f"{r['metrics.p_holm']:.3g}" if pd.notna(r.get("metrics.p_holm")) else "",
        ]
        for _, r in rows.iterrows()
    ]
    if cells:
        table = ax.table(
            cellText=cells, colLabels=["significance run", "status", "Holm p"], loc="center"
        )
        table.auto_set_font_size(False)
        table.set_fontsize(7)
    ax.set_title(f"significance tests ({len(tests)} runs; first 16)")
    fig.suptitle(
        f"MLflow store after `kedro run` (latest parent {parent[:8]}): {len(avc)} AVC, "
        f"{len(downstream)} downstream and {len(tests)} significance runs "
        "(rendered by scripts/mlflow_overview.py, not a browser screenshot)",
        fontsize=10,
    )
    fig.tight_layout()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=90)
    print(f"wrote {args.out}: {len(avc)} AVC, {len(downstream)} downstream, {len(tests)} tests")


if __name__ == "__main__":
    main()
