"""Lessons: a teacher's sequence of views, and the class that follows it.

A lesson is a title and up to 100 steps; each step is a view of the app (a page and its
link parameters, as in ``cnnviz.serving.links``), a plain-text title and note, and optionally a
question for the class. ``format`` reads, checks and writes the small JSON file a lesson
is saved as (docs/LESSONS.md) and lists the lessons the project ships (``shipped/``);
``store`` keeps the live class sessions (code, current step, followers, answers) and the
builders' drafts in one SQLite file that every app process on the machine shares. No
Streamlit here: the pages and ``cnnviz/ui`` build the teacher's and the students' side on it.
"""
