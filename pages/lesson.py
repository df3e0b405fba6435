"""Lesson: build a sequence of views with notes and questions, save or open it, start a class."""

import streamlit as st

from cnnviz.i18n import _
from cnnviz.ui import lesson_bar, lesson_builder, lesson_follow, lesson_store, links

links.page()
st.title(_("Build a lesson"))
lesson = lesson_store.draft()
problems = lesson_builder.lesson_problems_of(lesson)
teaching = lesson_store.teaching()

lesson_builder.lesson_title(lesson)
steps_col, side = st.columns([2.2, 1], gap="large")
with side:
    lesson_follow.join_box()  # students: a class code typed in
    st.subheader(_("Teach it"))
    lesson_bar.start_button(lesson, problems, teaching)
    lesson_builder.save_button(lesson, problems)
    st.subheader(_("Open a lesson"))
    lesson_builder.start_from_shipped(lesson)
    lesson_builder.load_file(lesson)
with steps_col:
    st.subheader(_("Steps ({n})").format(n=len(lesson.steps)))
    lesson_builder.steps(lesson)
