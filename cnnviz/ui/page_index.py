"""The app's pages by url path, for this script run: their titles and how to open one.

app.py hands its ``st.navigation`` pages over once per run (``lesson_bar.render``); a lesson
step names its page by url path only (``View.page``), and opening it takes the ``st.Page``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence

import streamlit as st

from cnnviz.i18n import _

_run = threading.local()  # this script run's pages and current page


def remember(current, pages: Mapping[str, Sequence]) -> None:
    """Keep this run's navigation: ``current`` (what ``st.navigation`` returned) and app.py's
    ``{section: [st.Page, ...]}``."""
    _run.current = current
    _run.pages = {p.url_path: p for section in pages.values() for p in section}


def title(url_path: str) -> str:
    """The menu title of the page at ``url_path`` ("" for Predict); the path itself if unknown."""
    page = getattr(_run, "pages", {}).get(url_path)
    return page.title if page is not None else url_path or _("Predict")


def current_title() -> str:
    """The menu title of the page this run shows."""
    current = getattr(_run, "current", None)
    return current.title if current is not None else ""


def go(url_path: str, params: Mapping[str, str]) -> None:
    """Open the page at ``url_path`` with the view's query parameters (ends this run).

    ``links.begin`` reads them on the next run as a link's, so the page shows exactly that view."""
    page = getattr(_run, "pages", {}).get(url_path)
    if page is None:
        raise KeyError(url_path)
    st.switch_page(page, query_params=dict(params))


def current_path() -> str:
    """The url path of the page this run shows ("" for Predict)."""
    current = getattr(_run, "current", None)
    return current.url_path if current is not None else ""
