"""Write the default run's results into README.md (between the results markers).

Reads the latest versions of what the run wrote (Table 1, the downstream
results, the design-choice tests) and the timing of ``benchmarks/results/default_run_cpu.txt``,
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


def _markdown(table: pd.DataFrame, *, digits: dict[str, int] | None = None) -> str:
    def cell(value: object, column: str) -> str:
        if isinstance(value, float):
            places = (digits or {}).get(column, 1)
            return "" if pd.isna(value) else f"{value:.{places}f}"
        return str(value)

    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += [
        "| " + " | ".join(cell(v, c) for v, c in zip(row, table.columns, strict=True)) + " |"
        for row in table.to_numpy(dtype=object)
    ]
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
    folds = ", ".join(
        f"{dataset} {n}" for dataset, n in chosen.groupby("dataset")["fold"].nunique().items()
    )
    parts = [
        f"Produced by `kedro run` (results version `{version}`), written here by "
        "`python scripts/readme_results.py`.",
        "",
        "AVC test accuracy (%), every variant on the test split of each subset (Table 1; "
        "the paper's numbers exist for Mel-256 only):",
        "",
        _markdown(table1[["variant", "train_subset", "test_subset", "accuracy", "paper_accuracy"]]),
        "",
        f"Downstream clip accuracy (%), mean over the test folds ({folds}) "
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
    significance = pd.read_csv(_latest("data/08_reporting/design_choice_significance.csv"))
    shown = significance.assign(
        comparison=significance["factor"]
        + ": "
        + significance["level_a"].astype(str)
        + " vs "
        + significance["level_b"].astype(str),
        mean_diff=100 * significance["mean_diff"],
    )[["dataset", "comparison", "pairing", "n_pairs", "mean_diff", "p", "p_holm", "status"]]
    parts += [
        "",
        "Design-choice tests (Wilcoxon signed-rank, two-sided, exact p; Holm over the table; "
        "`mean_diff` in points, a - b):",
        "",
        _markdown(shown, digits={"p": 4, "p_holm": 4}),
    ]
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
