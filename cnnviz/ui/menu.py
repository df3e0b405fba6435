"""The app's menu: its pages in their groups, in the reader's language.

app.py draws it on every run; so does a fresh server's first frame (``cnnviz.ui.first_frame``),
which must know every page's address to draw the one a link opens. Nothing here imports torch.
"""

from __future__ import annotations

import copy

import streamlit as st

from cnnviz.i18n import N_, _, current
from cnnviz.ui import compat

# Predict's heading, drawn by the page and, while a fresh server imports torch, by the first frame
HOME_TITLE = N_("What does the network see?")
HOME_CAPTION = N_("Pick a model and a photo in the sidebar; every page looks inside the same pair.")


# (language, the app's main script) -> the menu as this process first built it in a script run
_BUILT: dict[tuple[str, str], dict[str, list[st.Page]]] = {}


def pages() -> dict[str, list[st.Page]]:
    """The menu for ``st.navigation``: group title -> its pages (call it after the run's
    language is settled: the titles are translated).

    Each process builds each language's menu once: ``st.Page`` resolves its script's path (a
    stat of each folder on the way, and of the file), some 90 file-system calls per run for
    the 17 pages, each one a turn given up on the interpreter's lock while the class's other
    runs wait for it. A run gets copies: ``st.navigation`` marks the page it runs (and the
    default) on the objects it is given.

    Returns:
        The groups in menu order, each a list of ``st.Page``.
    """
    app = compat.main_script_path()
    if app is None:  # outside a run st.Page keeps none of its path: nothing worth keeping
        return _build()
    key = (current(), app)
    built = _BUILT.get(key)
    if built is None:
        built = _BUILT[key] = _build()
    return {group: [copy.copy(p) for p in ps] for group, ps in built.items()}


def _build() -> dict[str, list[st.Page]]:
    return {
        _("Explore"): [
            st.Page("pages/home.py", title=_("Predict"), icon=":material/label:", default=True),
            st.Page(
                "pages/preprocessing.py", title=_("Preprocessing"), icon=":material/tune:", url_path="preprocessing"
            ),
            st.Page("pages/live.py", title=_("Live"), icon=":material/videocam:", url_path="live"),
            st.Page("pages/lesson.py", title=_("Lesson"), icon=":material/co_present:", url_path="lesson"),
        ],
        _("Inside the network"): [
            st.Page("pages/network.py", title=_("Network"), icon=":material/lan:", url_path="network"),
            st.Page("pages/model.py", url_path="model", title=_("Model"), icon=":material/account_tree:"),
            st.Page("pages/features.py", url_path="features", title=_("Feature maps"), icon=":material/grid_view:"),
            st.Page("pages/filters.py", url_path="filters", title=_("Filters"), icon=":material/blur_on:"),
            st.Page("pages/channel.py", title=_("Channel"), icon=":material/center_focus_strong:", url_path="channel"),
            st.Page(
                "pages/compare_models.py", title=_("Compare models"), icon=":material/join:", url_path="compare-models"
            ),
        ],
        _("How a CNN computes"): [
            st.Page("pages/convolution.py", url_path="convolution", title=_("Convolution"), icon=":material/filter_3:"),
            st.Page(
                "pages/activations.py", url_path="activations", title=_("Activations"), icon=":material/show_chart:"
            ),
            st.Page("pages/pooling.py", url_path="pooling", title=_("Pooling"), icon=":material/compress:"),
        ],
        _("Your own CNN"): [
            st.Page("pages/train.py", url_path="train", title=_("Train"), icon=":material/model_training:"),
        ],
        _("Why it said that"): [
            st.Page(
                "pages/gradcam.py", url_path="gradcam", title=_("Grad-CAM"), icon=":material/local_fire_department:"
            ),
            st.Page("pages/explanations.py", url_path="compare", title=_("Compare methods"), icon=":material/compare:"),
            st.Page(
                "pages/adversarial.py",
                url_path="adversarial",
                title=_("Fool the network"),
                icon=":material/theater_comedy:",
            ),
        ],
    }
