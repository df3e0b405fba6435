"""Classroom defaults: secure by default, fast reruns, no tracebacks for students."""

from __future__ import annotations

import ast
import io
import tokenize
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_streamlit_config_is_classroom_safe():
    cfg = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    server, client = cfg["server"], cfg["client"]
    assert client["showErrorDetails"] == "none"  # students see our messages, never tracebacks
    assert server["enableXsrfProtection"] is True and server["enableCORS"] is True
    assert 1 <= server["maxUploadSize"] <= 200  # MB; bounds folder uploads too
    # issue 23: what a client may send, and what the server reads before refusing, is small
    assert server["maxWidgetStateSize"] <= 2 and server["maxMessageSize"] <= 16
    assert server["fileWatcherType"] == "none" and server["headless"] is True


def _py_files(*dirs: str):
    for d in dirs:
        yield from (ROOT / d).rglob("*.py")


def test_core_never_imports_streamlit():
    for f in _py_files("cnnviz"):
        if "ui" in f.relative_to(ROOT / "cnnviz").parts[:1]:
            continue
        tree = ast.parse(f.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not any(n.split(".")[0] == "streamlit" for n in names), f"{f} imports streamlit"


def unsafe_torch_loads(source: str) -> list[int]:
    """Lines of ``torch.load(...)`` calls (also ``from torch import load``) without a literal
    ``weights_only=True``: such a call would unpickle whatever a file holds."""
    tree = ast.parse(source)
    aliases = {
        a.asname or a.name
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and n.module == "torch"
        for a in n.names
        if a.name == "load"
    }
    bad = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        is_load = (
            isinstance(f, ast.Attribute)
            and f.attr == "load"
            and isinstance(f.value, ast.Name)
            and f.value.id == "torch"
        ) or (isinstance(f, ast.Name) and f.id in aliases)
        safe = any(
            k.arg == "weights_only" and isinstance(k.value, ast.Constant) and k.value.value is True
            for k in node.keywords
        )
        if is_load and not safe:
            bad.append(node.lineno)
    return bad


def test_unsafe_load_finder_finds_planted_ones():
    src = (
        "import torch\nfrom torch import load as L\n"
        "torch.load(p, map_location='cpu')\n"  # 3: no weights_only
        "torch.load(p, weights_only=False)\n"  # 4
        "L(p)\n"  # 5: an alias
        "torch.load(\n    p,\n    weights_only=True,\n)\n"  # safe, over several lines
        "x = 'torch.load(p)'\n"  # a string, not a call
    )
    assert unsafe_torch_loads(src) == [3, 4, 5]


def test_no_unsafe_loads_and_no_pyplot_in_app_code():
    for f in [ROOT / "app.py", *_py_files("cnnviz", "pages")]:
        text = f.read_text()
        assert unsafe_torch_loads(text) == [], f"{f}: torch.load without weights_only=True"
        assert "pyplot" not in text, f"{f} uses pyplot (figures must be matplotlib.figure.Figure)"


_NOT_CODE = {tokenize.STRING, tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT}


def code_lines(source: str) -> int:
    """Lines that hold code: not the words (string literals and ``_(`` around them: the page's
    text is in the catalogue), not brackets alone, comments or blank lines."""
    lines = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type in _NOT_CODE or tok.type == tokenize.ENDMARKER:
            continue
        if (tok.type == tokenize.OP and tok.string in "()[]{},") or (tok.type == tokenize.NAME and tok.string == "_"):
            continue
        lines.add(tok.start[0])
    return len(lines)


def test_code_lines_leave_the_words_out():
    assert code_lines('st.caption(\n    _(\n        "one "\n        "two"\n    )\n)\nx = 1  # c\n') == 2


PAGE_RAW_LINES, PAGE_CODE_LINES = 200, 150


def thickness(source: str) -> str | None:
    """Why a page is not thin, or None. A reader sees the raw lines; the code lines (the words
    left out) catch computing that hides among short lines. Long teaching texts and sections
    go to the page's view module in cnnviz/ui."""
    raw, code = len(source.splitlines()), code_lines(source)
    if raw > PAGE_RAW_LINES:
        return f"{raw} lines (at most {PAGE_RAW_LINES})"
    if code > PAGE_CODE_LINES:
        return f"{code} lines of code (at most {PAGE_CODE_LINES})"
    return None


def test_thickness_counts_words_and_code():
    words = "st.markdown(\n    _(\n" + '        "one line of a long text "\n' * PAGE_RAW_LINES + "    )\n)\n"
    assert code_lines(words) == 1 and thickness(words) == f"{PAGE_RAW_LINES + 4} lines (at most {PAGE_RAW_LINES})"
    code = "".join(f"x{i} = {i}\n" for i in range(PAGE_CODE_LINES + 1))
    assert thickness(code) == f"{PAGE_CODE_LINES + 1} lines of code (at most {PAGE_CODE_LINES})"
    assert thickness(code.split("\n", 1)[1]) is None


def test_pages_are_thin():
    for f in [ROOT / "app.py", *_py_files("pages")]:
        assert thickness(f.read_text()) is None, f"{f.name} is not thin: {thickness(f.read_text())}"


CORE_MODULE_LINES = 400


def test_core_modules_are_short():
    """One concern per module: a module of cnnviz/ past 400 lines holds more than one (split it
    by concern, as cnnviz/lessons/ splits the class store into store, codes, answers, drafts)."""
    long = {
        str(f.relative_to(ROOT)): n
        for f in _py_files("cnnviz")
        if (n := len(f.read_text().splitlines())) >= CORE_MODULE_LINES
    }
    assert long == {}, f"modules of {CORE_MODULE_LINES} lines or more: {long}"


CALLBACK_ARGS = {"format_func", "on_change", "on_click", "on_submit", "on_select"}


def callback_offences(source: str) -> list[str]:
    """Widget callbacks that are lambdas or functions defined inside another function.

    Either is a closure Streamlit keeps after the run, and with it everything the enclosing
    scope held (a page's whole globals for a lambda at module level)."""
    tree = ast.parse(source)
    nested: set[str] = set()
    for outer in ast.walk(tree):
        if isinstance(outer, (ast.FunctionDef, ast.AsyncFunctionDef)):
            nested.update(
                n.name
                for n in ast.walk(outer)
                if n is not outer and isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
            )
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg in CALLBACK_ARGS:
            if isinstance(node.value, ast.Lambda):
                bad.append(f"{node.value.lineno}: a lambda as {node.arg}")
            elif isinstance(node.value, ast.Name) and node.value.id in nested:
                bad.append(f"{node.value.lineno}: nested function {node.value.id} as {node.arg}")
    return bad


def test_callback_finder_finds_lambdas_and_nested_functions():
    src = (
        "import streamlit as st\n"
        "def top(v):\n    return v\n"
        "def page():\n"
        "    def fmt(v):\n        return v\n"
        "    st.selectbox('a', [1], format_func=fmt)\n"  # 7: nested
        "    st.button('b', on_click=lambda: None)\n"  # 8: lambda
        "    st.selectbox('c', [1], format_func=top)\n"  # a module-level function is fine
        "st.radio('d', [1], format_func={1: 'one'}.get)\n"
    )
    assert callback_offences(src) == ["7: nested function fmt as format_func", "8: a lambda as on_click"]


def test_pages_and_ui_pass_no_lambdas_or_nested_functions_to_widgets():
    """A lambda made in a page keeps that page's globals alive after the run (Streamlit holds
    on to widget callbacks), and with them whole activation captures: measured +57 MB per
    image on the Feature maps page until format_func became a dict's .get. A function
    defined inside another one holds its enclosing scope the same way. cnnviz/ui draws the
    widgets the pages share, so the same holds there."""
    files = [ROOT / "app.py", *_py_files("pages", "cnnviz/ui")]
    assert any(f.parent.name == "ui" for f in files)
    for f in files:
        assert callback_offences(f.read_text()) == [], str(f.relative_to(ROOT))
