"""The layering of docs/architecture.md, held by reading every import (ast, no imports run).

Fails on an import circle between modules, on `video_audit` importing `api`, and on a rule
module importing the orchestrator (`video_audit.audit`). Imports under `if TYPE_CHECKING:` are
not edges: they never run.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("video_audit", "api")
ORCHESTRATOR = "video_audit.audit"


def module_files(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Every module of the packages under root, by dotted name (a package is its __init__)."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterable[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth, except those only seen by type checkers."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking(node.test):
            for child in node.orelse:
                yield from _imports_in(child)
            continue
        yield from _imports_in(node)


def _imports_in(node: ast.AST) -> Iterable[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    yield from _imports(node)


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The project module a dotted name lands in (its longest known prefix), or None."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def import_graph(root: Path, packages: Iterable[str] = PACKAGES) -> dict[str, set[str]]:
    """Module → the project modules it imports (function-level imports too)."""
    modules = module_files(root, packages)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        for node in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    here = name.split(".") if is_package else name.split(".")[:-1]
                    up = here[: len(here) - (node.level - 1)] if node.level > 1 else here
                    base = ".".join([*up, base] if base else up)
                # `from a.b import c` is an edge to a.b.c when that is a module, else to a.b.
                targets = [f"{base}.{alias.name}" for alias in node.names] or [base]
            for target in targets:
                resolved = _resolve(target, modules)
                if resolved is not None and resolved != name:
                    graph[name].add(resolved)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import circles: each strongly connected component of more than one module, sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:
        # Tarjan's algorithm, iterative so that deep packages cannot hit the recursion limit.
        nonlocal counter
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
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

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return sorted(found)


def _path_within(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """One concrete circle inside a component, for the failure message: a → b → … → a."""
    members = set(component)
    start = component[0]
    seen = {start: [start]}
    frontier = [start]
    while frontier:
        nxt_frontier = []
        for node in frontier:
            for nxt in sorted(graph[node] & members):
                if nxt == start:
                    return [*seen[node], start]
                if nxt not in seen:
                    seen[nxt] = [*seen[node], nxt]
                    nxt_frontier.append(nxt)
        frontier = nxt_frontier
    return component


def layering_problems(root: Path, packages: Iterable[str] = PACKAGES) -> list[str]:
    """Every breach of the layering, one line each (empty when the tree is sound)."""
    graph = import_graph(root, packages)
    problems = [
        "import circle: " + " → ".join(_path_within(graph, component))
        for component in cycles(graph)
    ]
    for module, targets in sorted(graph.items()):
        if module.split(".")[0] != "video_audit":
            continue
        for target in sorted(targets):
            if target.split(".")[0] == "api":
                problems.append(f"{module} imports {target}: the library never imports api")
            if module.startswith("video_audit.rules") and target == ORCHESTRATOR:
                problems.append(
                    f"{module} imports {target}: rules import context/findings, "
                    "never the orchestrator"
                )
    return problems


def test_the_tree_has_no_circles_and_keeps_its_layers() -> None:
    problems = layering_problems(ROOT)
    assert not problems, "\n".join(problems)


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_the_checker_reports_circles_api_imports_and_rules_importing_the_orchestrator(
    tmp_path: Path,
) -> None:
    _write(
        tmp_path,
        {
            "video_audit/__init__.py": "",
            "video_audit/audit.py": "from video_audit.rules import checks\n",
            "video_audit/context.py": "",
            "video_audit/rules/__init__.py": "def checks():\n    from . import picture\n",
            "video_audit/rules/picture.py": (
                "from typing import TYPE_CHECKING\n"
                "from video_audit import context\n"
                "if TYPE_CHECKING:\n    from video_audit.audit import AuditReport\n"
                "def check():\n    from ..audit import run_audit\n"
            ),
            "video_audit/clock/__init__.py": "from video_audit.clock.parse import read\n",
            "video_audit/clock/parse.py": "import video_audit.clock\n",
            "video_audit/web.py": "from api.app import create_app\n",
            "api/__init__.py": "",
            "api/app.py": "from video_audit.audit import run_audit\n",
        },
    )
    graph = import_graph(tmp_path)
    assert graph["video_audit.rules.picture"] == {"video_audit.audit", "video_audit.context"}
    assert graph["video_audit.rules"] == {"video_audit.rules.picture"}
    assert graph["video_audit.clock.parse"] == {"video_audit.clock"}
    assert cycles(graph) == [
        ["video_audit.audit", "video_audit.rules", "video_audit.rules.picture"],
        ["video_audit.clock", "video_audit.clock.parse"],
    ]
    problems = layering_problems(tmp_path)
    assert problems == [
        "import circle: video_audit.audit → video_audit.rules → video_audit.rules.picture"
        " → video_audit.audit",
        "import circle: video_audit.clock → video_audit.clock.parse → video_audit.clock",
        "video_audit.rules.picture imports video_audit.audit: rules import context/findings, "
        "never the orchestrator",
        "video_audit.web imports api.app: the library never imports api",
    ]


def test_type_checking_imports_and_sound_trees_pass(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "video_audit/__init__.py": "",
            "video_audit/audit.py": "from video_audit.rules import picture\n",
            "video_audit/rules/__init__.py": "",
            "video_audit/rules/picture.py": (
                "import typing\n"
                "if typing.TYPE_CHECKING:\n    from video_audit.audit import run_audit\n"
            ),
            "api/__init__.py": "",
        },
    )
    assert layering_problems(tmp_path) == []
