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

from cnnviz import i18n
from cnnviz.i18n import N_, _
from cnnviz.ui import compat

LANG = "ui_lang"  # the session's language (a key of i18n.LANGUAGES)
CHOSEN = "ui_lang_chosen"  # True once a link or the picker chose it: links then carry it
_URL_SEEN = "ui_lang_url"  # the lang= of the last run's URL: only a new one overrides the session
_PICKER = "ui_lang_picker"
_SHOWN = "ui_lang_shown"  # the language the last run drew its widgets in
_CTX_ATTR = "_cnnviz_lang"


def _session_language() -> str | None:
    ctx = compat.run_context()
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
    if ss.get(_SHOWN, ss[LANG]) != ss[LANG]:
        _resend_choices()
    ss[_SHOWN] = ss[LANG]
    ctx = compat.run_context()
    if ctx is not None:
        setattr(ctx, _CTX_ATTR, ss[LANG])


def _plain(value: object) -> bool:
    return isinstance(value, (str, int, float)) and not isinstance(value, bool)


def _resend_choices() -> None:
    """After a language switch, every choice goes back to the browser in the new words.

    Streamlit 1.67 sends a radio's or a selectbox's choice back as the words it shows; after
    a switch those are no option of the new language, and the widget would show no choice
    (or the old word). A value assigned in the session is drawn from the session instead.
    Plain values only: a button's, an uploader's or a chart selection's state (bools, files,
    dicts) may not be assigned.
    """
    ss = st.session_state
    for key in list(ss.keys()):
        value = ss[key]
        if _plain(value) or (isinstance(value, (list, tuple)) and all(_plain(v) for v in value)):
            ss[key] = value


def url_param() -> dict[str, str]:
    """``{"lang": code}`` for the view's URL when a link or the picker chose the language, else ``{}``
    (an English view a browser chose for itself keeps its old links)."""
    ss = st.session_state
    lang = ss.get(LANG)
    return {"lang": lang} if lang in i18n.LANGUAGES and (ss.get(CHOSEN) or lang != i18n.SOURCE) else {}


def _picked() -> None:
    ss = st.session_state
    ss[LANG], ss[CHOSEN] = ss[_PICKER], True
    ctx = compat.run_context()
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
    # Screen readers pick their voice from <html lang>; Streamlit's page says "en" whatever it
    # shows. The same script puts the few words Streamlit's own widgets draw into the language.
    words = json.dumps({"lang": ss[LANG], "words": streamlit_words()}, ensure_ascii=False)
    st.sidebar.html(f"<script>window.cnnvizLanguage = {words};</script>{_SCRIPT}", unsafe_allow_javascript=True)


# What Streamlit 1.67's own widgets write in English: the script below looks for these words
# (``{size}``, ``{n}``: what Streamlit fills in).
STREAMLIT_WORDS = (
    N_("Drag and drop a file here"),
    N_("Drag and drop files here"),
    N_("Upload"),
    N_("{size} per file"),
    N_("Take Photo"),
    N_("Clear photo"),
    N_("No results"),
    N_("Choose an option"),
    N_("Running..."),
    N_("Stop"),
    N_("{n} more"),  # the top bar's overflow menu
    N_("View {n} more"),  # the phone's page menu
    N_("View less"),
)


def streamlit_words() -> dict[str, str]:
    """Streamlit's own English words, each with its text in the session's language."""
    return {english: _(english) for english in STREAMLIT_WORDS}


# Text nodes and placeholders of Streamlit's widgets whose whole text is one of the words;
# each node remembers its English, so switching back to English restores it. A
# MutationObserver does it again whenever Streamlit redraws. No data in it: the words come
# from window.cnnvizLanguage, set just before.
_SCRIPT = r"""<script>
(() => {
  document.documentElement.lang = window.cnnvizLanguage.lang;
  const fix = (root) => {
    const words = window.cnnvizLanguage.words;
    if (window.cnnvizLanguage.lang === 'en' && !window.cnnvizLanguageUsed) return;  // nothing to undo
    window.cnnvizLanguageUsed = true;
    const say = (english) => {
      if (english in words) return words[english];
      let m = /^(.+) per file$/.exec(english);
      if (m) return words['{size} per file'].replace('{size}', m[1]);
      m = /^(View )?(\d+) more$/.exec(english);
      return m ? words[m[1] ? 'View {n} more' : '{n} more'].replace('{n}', m[2]) : null;
    };
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.nodeValue !== node.cnnvizShown) node.cnnvizEnglish = node.nodeValue.trim();
      const shown = say(node.cnnvizEnglish);
      if (shown !== null && node.nodeValue !== shown) node.nodeValue = shown;
      node.cnnvizShown = node.nodeValue;
    }
    for (const el of root.querySelectorAll ? root.querySelectorAll('input[placeholder]') : []) {
      if (el.placeholder !== el.cnnvizShown) el.cnnvizEnglish = el.placeholder;
      const shown = say(el.cnnvizEnglish);
      if (shown !== null) el.placeholder = shown;
      el.cnnvizShown = el.placeholder;
    }
  };
  fix(document.body);
  if (window.cnnvizLanguageObserver) return;
  let queued = false;
  window.cnnvizLanguageObserver = new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; fix(document.body); });
  });
  window.cnnvizLanguageObserver.observe(document.body, {childList: true, subtree: true, characterData: true});
})();
</script>"""
