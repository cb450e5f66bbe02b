"""A self-contained HTML report and a Markdown summary of the downstream results."""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Mapping, Sequence

import pandas as pd
from matplotlib.figure import Figure

SIGNIFICANCE_SHOWN = (
    "dataset",
    "factor",
    "level_a",
    "level_b",
    "embeddings_a",
    "embeddings_b",
    "pairing",
    "n_pairs",
    "mean_a",
    "mean_b",
    "mean_diff",
    "ci_low",
    "ci_high",
    "p",
    "p_holm",
    "p_normal_approx",
    "effect_size",
    "status",
)
"""Columns of the significance table shown in the report."""

STYLE = (
    "body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
    "table{border-collapse:collapse;font-size:13px;margin:1em 0}"
    "th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}"
    "th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}"
    "img{max-width:100%;border:1px solid #eee;margin:0.5em 0}"
)


def figure_to_base64_png(figure: Figure, *, dpi: int = 110) -> str:
    """The figure as a base64-encoded PNG (ASCII text)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def missing_results(
    results: pd.DataFrame,
    significance: pd.DataFrame,
    table2: pd.DataFrame,
    *,
    paper_kinds: Sequence[str],
    avc_available: bool,
) -> list[str]:
    """Plain sentences saying which results the paper has and this run lacks."""
    present_kinds = set(results["kind"].dropna()) if "kind" in results else set()
    missing = [
        f"no results for embedding kind '{kind}' yet"
        for kind in paper_kinds
        if kind not in present_kinds
    ]
    present_datasets = set(results["dataset"].dropna()) if "dataset" in results else set()
    for dataset in sorted(set(table2["dataset"]) - present_datasets):
        missing.append(f"no results on dataset '{dataset}' yet (the paper reports it)")
    if not avc_available:
        missing.append("Table 1 (AVC test accuracy) needs avc_training results; none yet")
    untested = significance[significance["status"] != "tested"]
    for status, group in untested.groupby("status", sort=True):
        tests = ", ".join(
            f"{r.dataset}: {r.level_a} vs {r.level_b}" for r in group.itertuples(index=False)
        )
        missing.append(f"comparisons not tested ({status}): {tests}")
    return missing


def _table_html(table: pd.DataFrame) -> str:
    if table.empty:
        return "<p><em>empty</em></p>"
    return table.to_html(index=False, na_rep="", float_format=lambda v: f"{v:.4g}", border=0)


def render_html(
    *,
    title: str,
    scale: Mapping[str, str],
    figures: Mapping[str, Figure],
    tables: Mapping[str, pd.DataFrame],
    missing: Sequence[str],
) -> str:
    """One HTML page with the figures embedded as base64 PNG and the tables inline."""
    parts = [
        "<!DOCTYPE html>",
        f'<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>',
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
        "<h2>Scale of this run</h2><ul>",
        *(f"<li><b>{html.escape(k)}</b>: {html.escape(v)}</li>" for k, v in scale.items()),
        "</ul><h2>What is missing</h2><ul>",
        *(f"<li>{html.escape(item)}</li>" for item in missing),
        "</ul>" if missing else "<li>nothing</li></ul>",
    ]
    for name, table in tables.items():
        parts += [f"<h2>{html.escape(name)}</h2>", _table_html(table)]
    for name, figure in figures.items():
        parts += [
            f"<h2>{html.escape(name)}</h2>",
            f'<img alt="{html.escape(name)}" src="data:image/png;base64,'
            f'{figure_to_base64_png(figure)}">',
        ]
    parts.append("</body></html>")
    return "\n".join(parts)


def render_markdown(
    *,
    title: str,
    scale: Mapping[str, str],
    tables: Mapping[str, pd.DataFrame],
    missing: Sequence[str],
) -> str:
    """A short Markdown summary: scale, what is missing, the tables."""
    lines = [f"# {title}", "", "## Scale of this run", ""]
    lines += [f"- **{k}**: {v}" for k, v in scale.items()]
    lines += ["", "## What is missing", ""]
    lines += [f"- {item}" for item in missing] or ["- nothing"]
    for name, table in tables.items():
        lines += ["", f"## {name}", ""]
        lines.append(_markdown_table(table) if not table.empty else "_empty_")
    return "\n".join(lines) + "\n"


def _markdown_table(table: pd.DataFrame) -> str:
    def cell(value: object) -> str:
        if isinstance(value, float):
            return "" if pd.isna(value) else f"{value:.4g}"
        return "" if value is None or value is pd.NA else str(value).replace("|", "/")

    header = "| " + " | ".join(map(str, table.columns)) + " |"
    rule = "|" + "---|" * len(table.columns)
    body = ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *body])
