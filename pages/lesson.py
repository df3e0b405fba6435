"""Lesson: build a sequence of views with notes and questions, save or open it, start a class."""

import streamlit as st

from cnnviz.ui import lesson_bar, lesson_builder, lesson_follow, lesson_store, links

links.page()
st.title("Build a lesson")
lesson = lesson_store.draft()
problems = lesson_builder.lesson_problems_of(lesson)
teaching = lesson_store.teaching()

lesson_builder.lesson_title(lesson)
steps_col, side = st.columns([2.2, 1], gap="large")
with side:
    lesson_follow.join_box()  # students: a class code typed in
    st.subheader("Teach it")
    lesson_bar.start_button(lesson, problems, teaching)
    lesson_builder.save_button(lesson, problems)
    st.subheader("Open a lesson")
    lesson_builder.start_from_shipped(lesson)
    lesson_builder.load_file(lesson)
with steps_col:
    st.subheader(f"Steps ({len(lesson.steps)})")
    lesson_builder.steps(lesson)
