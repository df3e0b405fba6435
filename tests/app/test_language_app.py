"""The session's language through AppTest: a link's lang=, the picker, the URL that keeps it."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _session(**query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_link_with_lang_opens_in_that_language_and_keeps_it():
    at = _session(lang="de")
    assert at.session_state["ui_lang"] == "de"
    assert at.selectbox(key="ui_lang_picker").label == "Sprache"
    assert at.query_params["lang"] == "de"  # Share links and QR codes carry it


def test_the_picker_changes_the_language_and_the_url():
    at = _session()
    assert at.session_state["ui_lang"] == "en" and "lang" not in at.query_params  # old English links unchanged
    assert at.selectbox(key="ui_lang_picker").label == "Language"
    at.selectbox(key="ui_lang_picker").set_value("es").run()
    assert not at.exception
    assert at.session_state["ui_lang"] == "es" and at.query_params["lang"] == "es"
    assert at.selectbox(key="ui_lang_picker").label == "Idioma"
    # (A further at.run() here trips AppTest, which replays a radio's English label against
    # its Spanish options; the browser sends indices: tests/browser/test_languages_browser.py.)


def test_an_unknown_lang_is_ignored():
    at = _session(lang="xx")
    assert at.session_state["ui_lang"] == "en"
