"""CNN Explorer: the entry point. Shared sidebar + navigation over the pages."""

from cnnviz.ui import first_frame

# A fresh server still importing torch: the menu and the page's name, the run ends here (the
# imports below need torch; the session runs again when they are done).
first_frame.until_warm()

from pathlib import Path

import streamlit as st

from cnnviz.serving import page_activity
from cnnviz.ui import (
    compat,
    history,
    language,
    lesson_bar,
    lesson_follow,
    links,
    menu,
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

theme.apply()
history.one_entry_per_view()  # a page-menu click and its view: one Back step
state.init_state()
language.begin()  # before the first word: the menu's titles are in the session's language

PAGES = menu.pages()


# The whole run counts as in flight (long jobs step between the class's clicks) and takes the
# student's turn: one run at a time per student however many tabs, heavy students in the
# class's pauses (fair_runs, page_activity). The sidebar is inside: it decodes the uploads.
with page_activity.page_run():
    nav = st.navigation(PAGES, position="top")
    with student_turn(student(), compat.session_id()):
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
