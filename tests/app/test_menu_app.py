"""The menu (cnnviz/ui/menu.py) is built once per language in a process: st.Page resolves each
page's script path (file-system calls on every run otherwise), and each run gets copies that
st.navigation may mark as its own."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from cnnviz.ui import menu

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import streamlit as st
from cnnviz.i18n import use
from cnnviz.ui import menu

runs = st.session_state.setdefault("runs", [])
with use(LANG):
    a, b = menu.pages(), menu.pages()
runs.append((a, b))
nav = st.navigation(a, position="top")
"""


def _pages(menu_: dict) -> list:
    return [p for group in menu_.values() for p in group]


def _app(folder: Path, lang: str) -> AppTest:
    """The script in ``folder``, beside a link to the app's pages (st.Page finds a page beside
    the main script, as under ``streamlit run app.py``)."""
    if not (folder / "pages").exists():
        (folder / "pages").symlink_to(ROOT / "pages")
    script = folder / f"menu_{lang}.py"
    script.write_text(SCRIPT.replace("LANG", repr(lang)))
    return AppTest.from_file(str(script), default_timeout=60)


def test_each_language_s_menu_is_built_once_and_every_run_gets_copies(tmp_path, monkeypatch):
    monkeypatch.setattr(menu, "_BUILT", {})
    built = []
    real = menu._build  # noqa: SLF001

    def counting():
        built.append(1)
        return real()

    monkeypatch.setattr(menu, "_build", counting)
    at = _app(tmp_path, "en")
    at.run()
    at.run()
    assert not at.exception
    (a1, b1), (a2, _) = at.session_state["runs"]
    assert len(built) == 1  # four menus, one build
    assert list(a1) == list(a2) and len(_pages(a1)) == 17
    for p, q, r in zip(_pages(a1), _pages(b1), _pages(a2), strict=True):
        assert p is not q and p is not r  # st.navigation marks the run's own objects
        assert (p.title, p.url_path, p._script_hash) == (q.title, q.url_path, q._script_hash)  # noqa: SLF001
        assert Path(p._page).is_file() and Path(p._page).parent == ROOT / "pages"  # noqa: SLF001
    de = _app(tmp_path, "de")
    de.run()
    ((a_de, _),) = de.session_state["runs"]
    assert len(built) == 2 and "Vorhersage" in [p.title for p in _pages(a_de)]
