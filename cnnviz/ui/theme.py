"""The page frame for a projector (1280×720): little empty header, a compact title.

Streamlit leaves ~6 rem above the first element and draws titles at 2.75 rem: at 720 px that
pushed every page's main picture to the fold. Our own static CSS, no data in it.
"""

from __future__ import annotations

import streamlit as st

_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding: 3.6rem 2.5rem 2rem 2.5rem; }
[data-testid="stMainBlockContainer"] h1 { font-size: 2.1rem; padding-top: 0.25rem; padding-bottom: 0.25rem; }
[data-testid="stMainBlockContainer"] h2 { font-size: 1.55rem; }
[data-testid="stSidebarHeader"] { height: 1.5rem; min-height: 1.5rem; padding-top: 0.5rem; }
[data-testid="stSidebarUserContent"] { padding-top: 0.5rem; }
</style>
"""


def apply() -> None:
    """Call once per run, before the page draws."""
    st.html(_CSS)
