"""What the pages' text alternatives need from the session (cnnviz.a11y computes the texts).

Charts need nothing here: every chart builder puts a ``description`` computed from its data
into its spec (:mod:`cnnviz.a11y.chart_text`), and Streamlit makes it the chart's accessible
name (passing ``alt=`` as well would only override it, with a warning in the log).
"""

from __future__ import annotations

import streamlit as st

from cnnviz.i18n import _
from cnnviz.inputs.gallery import SAMPLES
from cnnviz.ui import state


def photo_name() -> str:
    """The current photo's name as the sidebar shows it (a gallery title or the file's name)."""
    name = st.session_state.get(state.IMAGE_NAME)
    if not name:
        return _("image")
    return _(SAMPLES[name].title) if name in SAMPLES else str(name)[:80]
