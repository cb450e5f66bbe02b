"""The package's layers (docs/architecture.md): imports point down, never up, and never in a circle.

Read from the source with :mod:`ast` (imports inside functions count too),
so the rule holds for lazy imports as well as for the ones at the top.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "src" / "l3_kedro"

LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"settings", "pipeline_registry", "pipelines", "cli", "__main__"}),
    frozenset({"project"}),
    frozenset({"commands", "hear", "api"}),
    frozenset({"embedding", "evaluation", "reporting", "avc"}),
    frozenset({"datasets", "video", "tracking", "results", "cluster"}),
    frozenset({"models", "layouts"}),
    frozenset({"audio"}),
    frozenset({"errors", "atomic_files", "offline", "__init__"}),
)
"""Top to bottom: the Kedro project's pipelines and entry points; its machinery (parameters, run plan, hooks); the front doors (API,
command line, HEAR); the engines; data, tracking and results; the networks
and dataset layouts; audio; the base. A unit may import its own layer or any
layer below it."""

MAX_LINES = 400
LONGER_TODAY: dict[str, int] = {}
"""Modules over :data:`MAX_LINES` today, at their current length: they may
shrink, not grow, and no other module may join them (issue 18)."""


def _module_names() -> dict[str, Path]:
    names = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def _imports(modules: dict[str, Path]) -> dict[str, set[str]]:
    """``{module: modules of l3_kedro it imports}`` (``from pkg import mod`` counts as ``pkg.mod``)."""

    def known(name: str) -> str:
        while name not in modules:
            name = name.rpartition(".")[0]
        return name

    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [f"{node.module}.{alias.name}" for alias in node.names]
                targets = [t if t in modules else node.module for t in targets]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            for target in targets:
                if target.split(".")[0] == "l3_kedro" and known(target) != name:
                    graph[name].add(known(target))
    return graph


def _unit(module: str) -> str:
    """``l3_kedro.models.l3net`` -> ``models``; ``l3_kedro`` -> ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _layer(unit: str) -> int:
    for depth, layer in enumerate(LAYERS):
        if unit in layer:
            return depth
    raise AssertionError(f"{unit!r} is in no layer: add it to LAYERS and docs/architecture.md")


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in list(graph):
        if v not in index:
            visit(v)
    return found


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return _imports(_module_names())


def test_every_unit_has_a_layer():
    units = {_unit(m) for m in _module_names()}
    for unit in units:
        _layer(unit)
    assert set().union(*LAYERS) == units, set().union(*LAYERS) ^ units


def _upward(graph: dict[str, set[str]]) -> list[str]:
    return sorted(
        f"{source} imports {target}"
        for source, targets in graph.items()
        for target in targets
        if _layer(_unit(target)) < _layer(_unit(source))
    )


def test_imports_point_down_the_layers(graph):
    upward = _upward(graph)
    assert not upward, "\n".join(upward)


def test_no_import_cycles(graph):
    assert not _cycles(graph)


def test_no_module_grows_past_400_lines():
    over = {
        str(path.relative_to(PACKAGE)): len(path.read_text().splitlines())
        for path in PACKAGE.rglob("*.py")
    }
    over = {name: n for name, n in over.items() if n > MAX_LINES}
    grown = {n: lines for n, lines in over.items() if lines > LONGER_TODAY.get(n, MAX_LINES)}
    assert not grown, f"over {MAX_LINES} lines (split them): {grown}"
    shrunk = {n: cap for n, cap in LONGER_TODAY.items() if over.get(n, 0) < cap}
    assert not shrunk, f"shorter now: lower or drop their entries in LONGER_TODAY: {shrunk}"


def test_the_checks_catch_an_upward_import_and_a_cycle():
    graph = {"l3_kedro.audio.io": {"l3_kedro.pipelines.embed", "l3_kedro.errors"}}
    assert _upward(graph) == ["l3_kedro.audio.io imports l3_kedro.pipelines.embed"]
    graph = {
        "l3_kedro.a": {"l3_kedro.b"},
        "l3_kedro.b": {"l3_kedro.c"},
        "l3_kedro.c": {"l3_kedro.a"},
    }
    assert _cycles(graph) == [["l3_kedro.a", "l3_kedro.b", "l3_kedro.c"]]


def _literal_hop_defaults(tree: ast.AST) -> list[int]:
    """Lines of functions whose ``hop_size`` argument defaults to a number written in place."""
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        arguments = node.args
        positional = [*arguments.posonlyargs, *arguments.args]
        pairs = list(
            zip(
                positional[len(positional) - len(arguments.defaults) :],
                arguments.defaults,
                strict=True,
            )
        )
        pairs += [
            (a, d)
            for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
            if d is not None
        ]
        lines += [
            node.lineno
            for argument, default in pairs
            if argument.arg == "hop_size" and isinstance(default, ast.Constant)
        ]
    return lines


def test_the_default_hop_is_written_once():
    """API, command line and embedders default to ``audio.constants.DEFAULT_HOP_SIZE_S``."""
    found = {
        str(path.relative_to(PACKAGE)): lines
        for path in PACKAGE.rglob("*.py")
        if (lines := _literal_hop_defaults(ast.parse(path.read_text())))
    }
    assert not found, f"hop_size defaults written as numbers (use DEFAULT_HOP_SIZE_S): {found}"
    assert _literal_hop_defaults(ast.parse("def f(x, *, hop_size=0.1): pass")) == [1]
