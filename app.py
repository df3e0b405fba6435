"""CNN Explorer: the entry point. Shared sidebar + navigation over the pages."""

from pathlib import Path

import streamlit as st

from cnnviz.i18n import _
from cnnviz.serving import page_activity
from cnnviz.ui import (
    compat,
    history,
    language,
    lesson_bar,
    lesson_follow,
    links,
    menu_semantics,
    replica,
    session_end,
    state,
    theme,
    upload_limits,
    upload_names,
)
from cnnviz.ui.fair_runs import student_turn
from cnnviz.ui.owner import student
from cnnviz.ui.process import keep_imports_out_of_gc, preload_pages, send_pictures_without_delay, torch_threads
from cnnviz.ui.share import presenter_style
from cnnviz.ui.sidebar import render_sidebar

keep_imports_out_of_gc()
torch_threads()
preload_pages(Path(__file__).parent / "pages")
send_pictures_without_delay()
compat.remember_resized_pictures()  # once per process
compat.remember_chart_data()  # once per process
upload_limits.install()  # once per process: caps on uploads held by Streamlit (incl. URLs filled without a widget)
upload_names.install()  # once per process: a NUL in an upload's name broke its session's every run
session_end.watch()  # what this session holds is given back when it ends

st.set_page_config(page_title="CNN Explorer", page_icon=":material/search:", layout="wide")  # i18n: not UI (a name)
theme.apply()
history.one_entry_per_view()  # a page-menu click and its view: one Back step
state.init_state()
language.begin()  # before the first word: the menu's titles are in the session's language

PAGES = {
    _("Explore"): [
        st.Page("pages/home.py", title=_("Predict"), icon=":material/label:", default=True),
        st.Page("pages/preprocessing.py", title=_("Preprocessing"), icon=":material/tune:", url_path="preprocessing"),
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
        st.Page("pages/activations.py", url_path="activations", title=_("Activations"), icon=":material/show_chart:"),
        st.Page("pages/pooling.py", url_path="pooling", title=_("Pooling"), icon=":material/compress:"),
    ],
    _("Your own CNN"): [
        st.Page("pages/train.py", url_path="train", title=_("Train"), icon=":material/model_training:"),
    ],
    _("Why it said that"): [
        st.Page("pages/gradcam.py", url_path="gradcam", title=_("Grad-CAM"), icon=":material/local_fire_department:"),
        st.Page("pages/explanations.py", url_path="compare", title=_("Compare methods"), icon=":material/compare:"),
        st.Page(
            "pages/adversarial.py",
            url_path="adversarial",
            title=_("Fool the network"),
            icon=":material/theater_comedy:",
        ),
    ],
}

# The whole run counts as in flight (long jobs step between the class's clicks) and takes the
# student's turn: one run at a time per student however many tabs, heavy students in the
# class's pauses (fair_runs, page_activity). The sidebar is inside: it decodes the uploads.
with page_activity.page_run():
    nav = st.navigation(PAGES, position="top")
    with student_turn(student()):
        lesson_follow.follow_moves(nav.url_path)  # a follower's class moved: its new step, before anything draws
        links.begin(nav.url_path)  # a link's model/image/... into the session before the sidebar draws
        language.picker()
        render_sidebar()
        share = st.sidebar.container()
        menu_semantics.repair()  # after the sidebar's own widgets: its empty element sits at the very bottom
        notice = st.container()  # the top of the main area: a message about an unusable link
        replica.notices(notice, nav.url_path, student())  # the server restarted; trainings it interrupted
        presenter_style()
        lesson_bar.render(notice, nav, PAGES)  # the class this browser teaches (or follows), above the page
        try:
            nav.run()
        except links.PageEnd:  # links.stop(): the page ended early, its view still goes into the URL
            pass
        finally:
            links.end(notice, share)  # the view into the URL, the Share panel
        lesson_follow.page_shown()  # a pushed run's place goes to the next follower
