"""The session's language: from a link's ``lang=``, the sidebar picker, or the browser.

``begin()`` runs first in every run (app.py): a ``lang=`` the URL did not have last run
wins (a teacher's link, Back/Forward), else the session keeps the language it has, else the
browser's ``Accept-Language`` decides. The picker changes it for the session; the URL then
carries it (``links.current_params``) so Share links and QR codes open in it.
``cnnviz.i18n`` asks :func:`_session_language` which language a call is in; the choice is
kept on the script run's context so that the ~1,500 strings of a run do not each look the
session up.
"""

from __future__ import annotations

import json

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from cnnviz import i18n
from cnnviz.i18n import _

LANG = "ui_lang"  # the session's language (a key of i18n.LANGUAGES)
CHOSEN = "ui_lang_chosen"  # True once a link or the picker chose it: links then carry it
_URL_SEEN = "ui_lang_url"  # the lang= of the last run's URL: only a new one overrides the session
_PICKER = "ui_lang_picker"
_CTX_ATTR = "_cnnviz_lang"


def _session_language() -> str | None:
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is None:
        return None
    lang = getattr(ctx, _CTX_ATTR, None)
    if lang is None:  # a run that did not pass begin() (a fragment of a fresh context)
        try:
            lang = ctx.session_state[LANG]
        except KeyError:
            lang = None
    return lang


i18n.set_resolver(_session_language)


def _browser_language() -> str:
    headers = st.context.headers
    tags = i18n.accept_language(headers.get("Accept-Language") if headers else None)
    if not tags and st.context.locale:
        tags = [st.context.locale]
    return i18n.negotiate(tags)


def begin() -> None:
    """Settle this run's language before anything is drawn (app.py's first call of a run)."""
    ss = st.session_state
    url = st.query_params.get("lang")
    if url != ss.get(_URL_SEEN):
        ss[_URL_SEEN] = url
        if url in i18n.LANGUAGES:
            ss[LANG], ss[CHOSEN] = url, True
    if ss.get(LANG) not in i18n.LANGUAGES:
        ss[LANG] = _browser_language()
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is not None:
        setattr(ctx, _CTX_ATTR, ss[LANG])


def url_param() -> dict[str, str]:
    """``{"lang": code}`` for the view's URL when a link or the picker chose the language, else ``{}``
    (an English view a browser chose for itself keeps its old links)."""
    ss = st.session_state
    lang = ss.get(LANG)
    return {"lang": lang} if lang in i18n.LANGUAGES and (ss.get(CHOSEN) or lang != i18n.SOURCE) else {}


def _picked() -> None:
    ss = st.session_state
    ss[LANG], ss[CHOSEN] = ss[_PICKER], True
    ctx = get_script_run_ctx(suppress_warning=True)
    if ctx is not None:
        setattr(ctx, _CTX_ATTR, ss[LANG])


def picker() -> None:
    """The sidebar's language menu (each language named in itself) and the page's ``lang`` attribute."""
    ss = st.session_state
    ss[_PICKER] = ss[LANG]
    st.sidebar.selectbox(
        _("Language"),
        list(i18n.LANGUAGES),
        key=_PICKER,
        format_func=i18n.language_name,
        on_change=_picked,
    )
    # Screen readers pick their voice from <html lang>; Streamlit's page says "en" whatever it shows.
    st.sidebar.html(
        f"<script>document.documentElement.lang = {json.dumps(ss[LANG])};</script>", unsafe_allow_javascript=True
    )
