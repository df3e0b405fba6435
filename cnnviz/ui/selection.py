"""A page's starting selection from the URL (``?layer=…&channel=…&row=…&col=…``, names in
README), applied once per link so the student's later choices on the page are not undone."""

from __future__ import annotations

import streamlit as st

from cnnviz.inside.catalogue import LayerInfo
from cnnviz.ui import state


def fresh_query(page: str, names: tuple[str, ...]) -> dict[str, str]:
    """The query parameters among ``names`` that this session has not applied on ``page``
    yet ({} when none, or when they are the ones applied last time)."""
    got = {n: st.query_params[n] for n in names if n in st.query_params}
    seen = st.session_state.setdefault(state.QUERY_APPLIED, {})
    if not got or seen.get(page) == got:
        return {}
    seen[page] = got
    return got


def forget_query(page: str) -> None:
    """Let the next link to ``page`` apply again, even with the same values (call before
    ``st.switch_page``)."""
    st.session_state.setdefault(state.QUERY_APPLIED, {}).pop(page, None)


def as_int(value: str | None, lo: int, hi: int) -> int | None:
    """``value`` as an int in lo..hi, else None."""
    try:
        v = int(str(value))
    except ValueError:
        return None
    return v if lo <= v <= hi else None


def select_layer(layers: list[LayerInfo], name: str, key: str) -> bool:
    """Preset the layer picker ``key`` (and its block picker) on layer ``name``; False if unknown."""
    for la in layers:
        if la.name == name:
            st.session_state[key] = la.name
            st.session_state[key + "_block"] = la.group
            return True
    return False
