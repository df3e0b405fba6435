"""Public functions of the core say what they take and what they give back (issue 26, item 6).

The rule, read from the source with `ast` (nothing is imported): every public function,
and every public method of a public class, in `cnnviz/` outside the Streamlit glue has a
docstring; one with parameters (besides self/cls) has an `Args:` section; one that returns
a value has `Returns:`, a generator `Yields:`. Properties and dunders are exempt; their
docstring is a sentence about the value. A method that overrides one of a cnnviz base class
inherits that one's docstring (as Sphinx's ``autodoc_inherit_docstrings`` shows it).
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "cnnviz"

# Not checked: the Streamlit glue (widgets and layout helpers the pages call; their words
# are for the page, and the computing they call is documented in the core).
EXCLUDED = {
    "cnnviz/ui",
}

PROPERTY_DECORATORS = {"property", "cached_property", "setter", "deleter"}
# Functions of a protocol documented once where it is defined: each CLI subcommand's
# register(sub) and run(args) (cnnviz/commands/__init__.py).
PROTOCOLS = {"cnnviz/commands": {"register", "run"}}


def _excluded(rel: str) -> bool:
    return any(rel == e or rel.startswith(e + "/") for e in EXCLUDED)


def _core_files() -> list[tuple[str, Path]]:
    files = []
    for path in sorted(CORE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if not _excluded(rel):
            files.append((rel, path))
    return files


def _decorator_names(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    names = set()
    for d in fn.decorator_list:
        target = d.func if isinstance(d, ast.Call) else d
        if isinstance(target, ast.Attribute):
            names.add(target.attr)
        elif isinstance(target, ast.Name):
            names.add(target.id)
    return names


def _own_nodes(fn: ast.AST):
    """The nodes of a function's body, not those of functions or classes nested in it."""
    stack = list(ast.iter_child_nodes(fn))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def _has_params(fn: ast.FunctionDef | ast.AsyncFunctionDef, is_method: bool) -> bool:
    a = fn.args
    positional = [*a.posonlyargs, *a.args]
    if is_method and "staticmethod" not in _decorator_names(fn) and positional:
        positional = positional[1:]  # self / cls
    return bool(positional or a.kwonlyargs or a.vararg or a.kwarg)


def _returns_value(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    for node in _own_nodes(fn):
        value = node.value if isinstance(node, ast.Return) else None
        if value is not None and not (isinstance(value, ast.Constant) and value.value is None):
            return True
    return False


def _is_generator(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    return any(isinstance(node, ast.Yield | ast.YieldFrom) for node in _own_nodes(fn))


def _problems(fn: ast.FunctionDef | ast.AsyncFunctionDef, is_method: bool) -> list[str]:
    doc = ast.get_docstring(fn) or ""
    if not doc:
        return ["no docstring"]
    missing = []
    if _has_params(fn, is_method) and "\nArgs:\n" not in doc:
        missing.append("no Args:")
    if _is_generator(fn):
        if "\nYields:\n" not in doc:
            missing.append("no Yields:")
    elif _returns_value(fn) and "\nReturns:\n" not in doc:
        missing.append("no Returns:")
    return missing


def _base_names(cls: ast.ClassDef) -> list[str]:
    return [b.id if isinstance(b, ast.Name) else b.attr for b in cls.bases if isinstance(b, ast.Name | ast.Attribute)]


def _class_index(paths: list[Path]) -> dict[str, tuple[list[str], set[str]]]:
    """Class name -> (its base names, its method names), over every module of cnnviz."""
    index = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                methods = {f.name for f in node.body if isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)}
                index[node.name] = (_base_names(node), methods)
    return index


@functools.cache
def _core_index() -> dict[str, tuple[list[str], set[str]]]:
    return _class_index(sorted(CORE.rglob("*.py")))


def _overrides(bases: list[str], method: str, index: dict, seen: frozenset = frozenset()) -> bool:
    for base in bases:
        if base in index and base not in seen:
            base_bases, methods = index[base]
            if method in methods or _overrides(base_bases, method, index, seen | {base}):
                return True
    return False


def _public_functions(tree: ast.Module, index: dict | None = None):
    """(qualified name, node, is_method) for each public function and public-class method,
    less the properties and the overrides of a cnnviz base class's method."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_"):
            yield node.name, node, False
        elif isinstance(node, ast.ClassDef) and not node.name.startswith("_"):
            for item in node.body:
                if not isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) or item.name.startswith("_"):
                    continue
                if _decorator_names(item) & PROPERTY_DECORATORS:
                    continue
                if index and _overrides(_base_names(node), item.name, index):
                    continue
                yield f"{node.name}.{item.name}", item, True


def undocumented(files: list[tuple[str, Path]]) -> list[str]:
    """'path:line name: problem' for each public function whose docstring falls short."""
    index = {**_core_index(), **_class_index([path for _, path in files])}
    found = []
    for rel, path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        protocol = next((names for folder, names in PROTOCOLS.items() if rel.startswith(folder + "/")), set())
        for name, fn, is_method in _public_functions(tree, index):
            if "overload" in _decorator_names(fn) or (name in protocol and ast.get_docstring(fn)):
                continue
            for problem in _problems(fn, is_method):
                found.append(f"{rel}:{fn.lineno} {name}: {problem}")
    return found


def test_public_functions_have_args_and_returns():
    found = undocumented(_core_files())
    assert not found, f"{len(found)} public functions lack Args/Returns/Yields:\n" + "\n".join(found)


def test_the_rule_catches_a_missing_section(tmp_path):
    source = (
        "def scale(x, k):\n"
        '    """Scale x.\n\n    Args:\n        x: a number.\n        k: the factor.\n    """\n'
        "    return x * k\n"
        "def ok(x):\n"
        '    """Print x.\n\n    Args:\n        x: a number.\n    """\n'
        "    print(x)\n"
        "class Box(Base):\n"
        "    @property\n"
        "    def size(self):\n"
        '        """The size."""\n'
        "        return 1\n"
        "    def items(self):\n"
        '        """Each item."""\n'
        "        yield 1\n"
        "    def _hidden(self, y):\n"
        "        return y\n"
        "    def kept(self, y):\n"
        "        return y\n"
        "class Base:\n"
        "    def kept(self, y):\n"
        '        """Keep y.\n\n        Args:\n            y: a number.\n\n        Returns:\n            y.\n        """\n'
        "        return y\n"
    )
    path = tmp_path / "m.py"
    path.write_text(source)
    assert undocumented([("m.py", path)]) == ["m.py:1 scale: no Returns:", "m.py:21 Box.items: no Yields:"]


def test_the_exclusions_exist():
    # An exclusion for a file that moved or went is stale: update or drop it.
    assert [e for e in sorted(EXCLUDED) if not (ROOT / e).exists()] == []
