"""The layers hold: shared/ below functions/ below api/ and modal_app.py, nothing imported from a layer
above, and no import cycle. Every import statement counts, lazy ones inside functions included (a cycle
broken only by importing late is still a cycle); imports under `if TYPE_CHECKING:` never run and do not."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = {"shared": 0, "functions": 1, "api": 2, "modal_app": 2}

TOLERATED: dict[tuple[str, str], str] = {}
"""Import edges allowed to close a cycle, each with the reason: none any more. Nothing may close one."""


def modules() -> dict[str, Path]:
    found = {"modal_app": ROOT / "modal_app.py"}
    for package in ("shared", "functions", "api"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _nearest(name: str, known: dict[str, Path]) -> str | None:
    """The module `name` lives in: itself, or the package that defines it as an attribute."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _executed(tree: ast.Module) -> Iterator[ast.AST]:
    """Every node of `tree` except what only a type checker sees."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(inner) for branch in node.body for inner in ast.walk(branch))
            continue
        yield node


def imports_of(module: str, path: Path, known: dict[str, Path]) -> set[str]:
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _executed(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(t for alias in node.names if (t := _nearest(alias.name, known)))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parent, *([base] if base else [])])
            found.update(t for alias in node.names if (t := _nearest(f"{base}.{alias.name}", known)))
    found.discard(module)
    return found


def import_graph() -> dict[str, set[str]]:
    known = modules()
    return {module: imports_of(module, path, known) for module, path in known.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            for target in targets:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(graph[target]))))
                    break
                if target in on_stack:
                    low[node] = min(low[node], index[target])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_graph_counts_lazy_and_relative_imports_but_not_type_checking_ones(tmp_path: Path) -> None:
    source = tmp_path / "pkg" / "a.py"
    source.parent.mkdir()
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "from .b import thing\n"
        "if TYPE_CHECKING:\n"
        "    from pkg.c import Only\n"
        "def late():\n"
        "    import pkg.d.e\n"
        "    from pkg import f\n"
    )
    known = {name: tmp_path / "unused.py" for name in ("pkg", "pkg.a", "pkg.b", "pkg.c", "pkg.d", "pkg.f")}
    assert imports_of("pkg.a", source, known) == {"pkg.b", "pkg.d", "pkg.f"}
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    assert "api.app" in import_graph()["api.cli"], "api/cli.py imports the web app inside `serve` only"


def test_no_module_imports_from_a_layer_above_its_own() -> None:
    graph = import_graph()
    upward = sorted(f"{module} imports {target}" for module, targets in graph.items() for target in targets
                    if LAYERS[target.split(".")[0]] > LAYERS[module.split(".")[0]])
    assert upward == [], "shared < functions < api, modal_app:\n" + "\n".join(upward)


def test_no_import_cycle() -> None:
    graph = import_graph()
    for module, target in TOLERATED:
        graph.get(module, set()).discard(target)
    found = cycles(graph)
    assert found == [], "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)
