"""Leading a class: every view as a link, presenter mode, and lessons the class follows.

``links`` turns a page's choices into query parameters and back, refusing bad or hostile
values; ``public_url`` is the address students can open (the base of every link and QR
code); ``presenter`` sizes what a projector shows. A lesson is a title and up to 100 steps;
each step is a view of the app (a page and its link parameters, as in
``cnnviz.lessons.links``), a plain-text title and note, and optionally a question for the
class. ``format`` reads and writes the small JSON file a lesson is saved as (docs/LESSONS.md;
``checker`` words its problems) and lists the lessons the project ships (``shipped/``);
``store`` keeps the live class sessions (``codes``, current step, followers, ``answers``)
and ``drafts`` the builders' drafts in one SQLite file (``db``) that every app process on
the machine shares. No Streamlit here: the pages and ``cnnviz/ui`` build the teacher's and
the students' side on it.
"""
