"""No UI text bypasses the catalogue: every literal a student could read is inside _() & co.

Scans app.py, pages/, cnnviz/ui/ and cnnviz/a11y/ (the code that writes what a student reads)
with the ast module. A string literal (or an f-string's fixed part) is UI text when, once
HTML tags, ``{placeholders}``, Material icon names and markdown marks are taken out, it
holds prose (two words), or when it is the label/help/caption of a Streamlit element. It
passes when it is an argument of ``_``, ``N_``, ``ngettext`` or ``pgettext``, a docstring,
a logging message, or on a line marked ``# i18n: not UI`` (say why next to it: a key, CSS,
a message for programmers). ``_(f"...")`` is an error too: the catalogue has no entry for
a string that is built before the lookup.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py"))]
SCANNED += sorted((ROOT / "cnnviz" / "ui").glob("*.py")) + sorted((ROOT / "cnnviz" / "a11y").glob("*.py"))

TRANSLATORS = {"_", "N_", "ngettext", "pgettext", "gettext"}
MARK = "# i18n: not UI"
# Streamlit elements whose first argument, and these keywords, are read by the student.
ELEMENTS = {
    "title", "header", "subheader", "caption", "markdown", "write", "text", "button", "checkbox",
    "radio", "selectbox", "multiselect", "slider", "select_slider", "number_input", "text_input",
    "text_area", "file_uploader", "camera_input", "toggle", "expander", "popover", "metric", "error",
    "warning", "info", "success", "toast", "download_button", "link_button", "page_link",
    "form_submit_button", "spinner", "status", "color_picker", "date_input", "time_input",
    "pills", "segmented_control", "feedback", "chat_input", "exception",
}  # fmt: skip
SHOWN_KEYWORDS = {"label", "help", "caption", "placeholder", "title", "body", "alt", "text", "tooltip"}
LOGGERS = {"log", "logger", "_log", "LOG", "_LOG", "logging"}

_TAG = re.compile(r"<[^>]*>")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
_ICON = re.compile(r":material/[a-z_]+:|:[a-z_]+:")
_ENTITY = re.compile(r"&[a-z#0-9]+;")
# two words with a space between them: "pages/home.py" and "server.baseUrlPath" are not prose
_PROSE = re.compile(r"[A-Za-zÀ-ÿ]{2,}[,.:;!?'’)(-]*\s+[\"'‘“(]*[A-Za-zÀ-ÿ]{2,}")
_WORD = re.compile(r"[A-Za-zÀ-ÿ]{2,}")
_CODE = ("<script", "<style", "=>", "querySelector", "function(", "data-testid", "@media", "{\n")


def _readable(text: str) -> str:
    for pattern in (_TAG, _PLACEHOLDER, _ICON, _ENTITY):
        text = pattern.sub(" ", text)
    return text


def _is_prose(text: str) -> bool:
    return not any(c in text for c in _CODE) and bool(_PROSE.search(_readable(text)))


def _has_word(text: str) -> bool:
    return not any(c in text for c in _CODE) and bool(_WORD.search(_readable(text)))


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _receiver(func: ast.expr) -> str:
    return _name(func.value) if isinstance(func, ast.Attribute) else ""


def _fixed_text(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return " ".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
    return None


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def bypasses(path: Path) -> list[str]:
    """``"file:line: text"`` for each UI string of ``path`` that does not go through the catalogue."""
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    skip = _docstrings(tree)
    problems: list[str] = []
    labels: set[int] = set()

    def marked(node: ast.AST) -> bool:
        return any(MARK in lines[i - 1] for i in range(node.lineno, (node.end_lineno or node.lineno) + 1))

    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        if name in TRANSLATORS:
            for arg in node.args:
                if isinstance(arg, ast.JoinedStr):
                    problems.append(f"{path.relative_to(ROOT)}:{arg.lineno}: _(f-string): the catalogue cannot hold it")
                for sub in ast.walk(arg):
                    skip.add(id(sub))
        elif name in ("debug", "info", "warning", "error", "exception") and _receiver(node.func) in LOGGERS:
            for sub in ast.walk(node):
                skip.add(id(sub))
        elif name in ELEMENTS:
            shown = node.args[:1] + [k.value for k in node.keywords if k.arg in SHOWN_KEYWORDS]
            labels.update(id(a) for a in shown)
    seen: set[int] = set()
    for node in ast.walk(tree):
        if id(node) in skip or id(node) in seen:
            continue
        text = _fixed_text(node)
        if text is None:
            continue
        if isinstance(node, ast.JoinedStr):
            seen.update(id(v) for v in node.values)
        elif id(node) in seen:
            continue
        ui = _is_prose(text) or (id(node) in labels and _has_word(text))
        if ui and not marked(node):
            problems.append(f"{path.relative_to(ROOT)}:{node.lineno}: {text.strip()[:70]!r}")
    return problems


_OWN_SCOPE = (
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
    ast.Lambda,
    ast.FunctionDef,
    ast.AsyncFunctionDef,
)


def _in_scope(fn: ast.AST):
    """The nodes of ``fn``'s own scope (comprehensions, lambdas and inner functions have theirs)."""
    todo = list(ast.iter_child_nodes(fn))
    while todo:
        node = todo.pop()
        yield node
        if not isinstance(node, _OWN_SCOPE):
            todo.extend(ast.iter_child_nodes(node))


def shadowed(path: Path) -> list[str]:
    """Functions that assign ``_`` (``a, _ = ...``, ``for _ in``) and also call ``_()``: there ``_``
    is a local name, so the call fails (UnboundLocalError, or calls a string) - twice so far."""
    problems = []
    for fn in ast.walk(ast.parse(path.read_text())):
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        assigns = any(isinstance(n, ast.Name) and n.id == "_" and isinstance(n.ctx, ast.Store) for n in _in_scope(fn))
        calls = any(isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "_" for n in ast.walk(fn))
        if assigns and calls:
            problems.append(f"{path.relative_to(ROOT)}:{fn.lineno}: {fn.name} assigns _ and calls _()")
    return problems


def test_the_lint_sees_a_bypassing_string(tmp_path):
    """The checker itself: it finds a bare label, prose, an _(f-string), and passes what is wrapped or marked."""
    probe = ROOT / "pages" / "_probe_for_lint.py"
    probe.write_text(
        "import streamlit as st\nfrom cnnviz.i18n import _\n"
        'st.button("Go")\n'
        'st.caption(f"Shown {3} times to you")\n'
        'st.title(_(f"Layer {1}"))\n'
        'st.button(_("Run"))\n'
        'KEY = "some key"  # i18n: not UI (a session key)\n'
        'st.markdown("<style>.a {color: red}</style>")\n'
        'log.warning("for the server log only")\n'
    )
    try:
        found = bypasses(probe)
    finally:
        probe.unlink()
    assert [p.split(":")[1] for p in found] == ["5", "3", "4"], found


def test_the_lint_sees_a_hidden_translator():
    probe = ROOT / "pages" / "_probe_for_lint.py"
    probe.write_text(
        "from cnnviz.i18n import _\n"
        "def bad(pair):\n    a, _ = pair\n    return _('x')\n"
        "def fine(rows):\n    n = sum(1 for _ in rows)\n    return _('y') * n\n"  # the generator has its own _
    )
    try:
        found = shadowed(probe)
    finally:
        probe.unlink()
    assert [p.split(": ")[1] for p in found] == ["bad assigns _ and calls _()"]


def test_no_function_hides_the_translator():
    paths = [ROOT / "app.py", *sorted((ROOT / "pages").glob("*.py")), *sorted((ROOT / "cnnviz").rglob("*.py"))]
    problems = [p for path in paths for p in shadowed(path)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("path", SCANNED, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_ui_string_bypasses_the_catalogue(path):
    problems = bypasses(path)
    assert not problems, "UI text outside _() (wrap it, or mark a non-UI literal `# i18n: not UI`):\n" + "\n".join(
        problems
    )
