"""Write the default run's results into README.md (between the results markers).

Reads the latest versions of what the run wrote (Table 1, the downstream
results, Table 2) and the timing of ``benchmarks/results/default_run_cpu.txt``,
and replaces the block between ``<!-- results:start -->`` and
``<!-- results:end -->``: the README's numbers are produced by the run, not typed.

    python scripts/readme_results.py
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- results:start -->", "<!-- results:end -->"


def _latest(path: str) -> Path:
    versions = sorted((ROOT / path).glob("*/" + Path(path).name))
    if not versions:
        raise SystemExit(f"No saved version of {path}: run `kedro run` first.")
    return versions[-1]


def _markdown(table: pd.DataFrame) -> str:
    def cell(value: object) -> str:
        if isinstance(value, float):
            return "" if pd.isna(value) else f"{value:.1f}"
        return str(value)

    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.to_numpy()]
    return "\n".join(lines)


def main() -> None:
    table1 = pd.read_csv(_latest("data/08_reporting/paper_table1.csv"))
    results = pd.read_parquet(_latest("data/07_model_output/downstream_results.parquet"))
    version = _latest("data/07_model_output/downstream_results.parquet").parent.name
    chosen = results[results.get("selection", pd.Series(dtype=str)).astype(str) != "checkpoint"]
    accuracy = (
        chosen.groupby(["embedding", "dataset"])["clip_accuracy"].mean().unstack("dataset") * 100
    )
    accuracy = accuracy.sort_values(accuracy.columns[0], ascending=False).reset_index()
    curve = results[results.get("selection", pd.Series(dtype=str)).astype(str) == "checkpoint"]
    parts = [
        f"Produced by `kedro run` (results version `{version}`), written here by "
        "`python scripts/readme_results.py`.",
        "",
        "AVC test accuracy (%), every variant on the test split of each subset (Table 1; "
        "the paper's numbers exist for Mel-256 only):",
        "",
        _markdown(table1[["variant", "train_subset", "test_subset", "accuracy", "paper_accuracy"]]),
        "",
        "Downstream clip accuracy (%), mean over the 2 folds of each embedded dataset "
        "(best-validation model of each variant; baselines):",
        "",
        _markdown(accuracy),
    ]
    if not curve.empty:
        points = (
            results[results["input_repr"].isin(curve["input_repr"])]
            .loc[lambda r: r["subset"].isin(curve["subset"]) & (r["kind"] == "l3")]
            .groupby(["samples_seen", "dataset"])["clip_accuracy"]
            .mean()
            .unstack("dataset")
            * 100
        ).reset_index()
        parts += ["", "Amount of training data (Fig. 4's data, %):", "", _markdown(points)]
    timing = ROOT / "benchmarks" / "results" / "default_run_cpu.txt"
    if timing.is_file():
        parts += ["", "Timing (`python benchmarks/default_run.py`):", "", "```"]
        parts += [timing.read_text().strip(), "```"]
    readme = (ROOT / "README.md").read_text()
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    (ROOT / "README.md").write_text(f"{head}{START}\n" + "\n".join(parts) + f"\n{END}{tail}")
    print("README.md results block updated")


if __name__ == "__main__":
    main()
