"""The package's import graph has no cycle, counting imports inside functions too (a lazy
import that hides a cycle is still a cycle)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "cnnviz"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path: Path, known: set[str], me: str | None = None) -> set[str]:
    """The cnnviz modules ``path`` imports anywhere in its body (``from a import b`` counts
    as importing ``a.b`` when that is a module, else ``a``)."""
    me = me or module_name(path)
    package = me if path.name == "__init__.py" else me.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x / from ..a import b
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for a in node.names:
                sub = f"{base}.{a.name}"
                found.add(sub if sub in known else base)
    return {m for m in found if m in known and m != me}


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports_of(path, set(mods)) for name, path in mods.items()}


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(g[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_finds_a_planted_cycle():
    g = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(g) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_graph_sees_function_level_and_aliased_imports(tmp_path):
    known = {"cnnviz.models.zoo", "cnnviz.models", "cnnviz.models.small_cnn", "cnnviz.x"}
    src = tmp_path / "x.py"
    src.write_text("from cnnviz.models import small_cnn as s\ndef f():\n    from cnnviz.models import zoo\n")
    assert imports_of(src, known, me="cnnviz.x") == {"cnnviz.models.small_cnn", "cnnviz.models.zoo"}


def test_no_import_cycle_in_cnnviz():
    g = graph()
    assert "cnnviz.models.zoo" in g and "cnnviz.training.results" in g
    assert cycles(g) == []


def collapse(g: dict[str, set[str]]) -> dict[str, set[str]]:
    """The graph between units: each subpackage (cnnviz.training, cnnviz.models, ...) is one."""

    def unit(m: str) -> str:
        return ".".join(m.split(".")[:2])

    out: dict[str, set[str]] = {}
    for m, deps in g.items():
        out.setdefault(unit(m), set()).update(unit(d) for d in deps)
    return {u: deps - {u} for u, deps in out.items()}


def test_no_import_cycle_between_subpackages():
    """e.g. zoo → training.arch while training.results → zoo was a cycle between zoo and training."""
    assert cycles(
        collapse(
            {
                "cnnviz.models.zoo": {"cnnviz.training.arch"},
                "cnnviz.training.arch": set(),
                "cnnviz.training.results": {"cnnviz.models.zoo"},
            }
        )
    ) == [["cnnviz.models", "cnnviz.training"]]
    assert cycles(collapse(graph())) == []


def test_zoo_never_imports_training():
    g = graph()
    reach, todo = set(), ["cnnviz.models.zoo"]
    while todo:
        for m in g[todo.pop()] - reach:
            reach.add(m)
            todo.append(m)
    assert not {m for m in reach if m.startswith("cnnviz.training")}, sorted(reach)


def test_tests_and_benches_share_the_testing_package_not_sys_path():
    """tests/ and bench/ import what they share from ``testing``; none edits sys.path to reach it."""
    edits = [
        f"{p.relative_to(ROOT)}:{i}"
        for folder in ("tests", "bench", "testing")
        for p in sorted((ROOT / folder).rglob("*.py"))
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if re.search(r"sys\.path\.(insert|append)|sys\.path\s*[+]?=", line)
    ]
    assert not edits, edits


def test_every_subpackage_says_what_it_is_and_is_on_the_map():
    """Each subpackage of cnnviz has a docstring paragraph, and docs/ARCHITECTURE.md's map (its
    opening section) names it."""
    doc = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    the_map = doc[doc.index("## The map") : doc.index("## Contracts")]
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        pkg = init.parent.name
        assert len(ast.get_docstring(ast.parse(init.read_text())) or "") > 40, pkg
        assert f"`cnnviz/{pkg}/`" in the_map, pkg
