"""The teacher's lesson and class in this session: the shared class store, the draft being built,
the class this browser teaches.

The draft lives in the class store under this browser's owner token (``save_draft``), not in
the session: a reload, a restart of the browser or another tab finds the same lesson. The class
this session teaches is found again the same way (``classes_of``), once per session.
"""

from __future__ import annotations

import streamlit as st

from cnnviz.i18n import N_
from cnnviz.lessons import builder
from cnnviz.lessons.format import Lesson, Step
from cnnviz.lessons.store import ClassGone, ClassState, ClassStore
from cnnviz.ui import page_index, state
from cnnviz.ui.owner import owner_token

UNTITLED = N_("My lesson")  # saved in English, shown in each reader's language (a message id)


@st.cache_resource
def class_store() -> ClassStore:
    """The class store every session of this process uses (one SQLite file shared by every
    process: ``$CNNVIZ_CLASSES``)."""
    return ClassStore()


def draft() -> Lesson:
    """This browser's lesson being built (an untitled one without steps at first)."""
    return class_store().load_draft(owner_token()) or Lesson(title=UNTITLED, steps=())


def keep(lesson: Lesson) -> None:
    """Keep ``lesson`` as this browser's draft (one field edited: the builder's widgets stay)."""
    class_store().save_draft(owner_token(), lesson)


def save(lesson: Lesson) -> None:
    """Keep ``lesson`` as this browser's draft; the builder's widgets start afresh from it."""
    keep(lesson)
    st.session_state[state.LESSON_REV] = st.session_state.get(state.LESSON_REV, 0) + 1


def add_view(page: str, params: dict[str, str]) -> int:
    """Append the view ``page`` + ``params`` to the draft, titled after the page and its main
    choices. Returns the new step's number (1-based)."""
    lesson = draft()
    step = Step(
        title=builder.step_title(page_index.title(page), params),
        view=builder.view_of(page, params),
    )
    save(builder.add_step(lesson, step))
    return len(lesson.steps) + 1


def teaching() -> ClassState | None:
    """The class this browser teaches, or None. A new session (a reload) looks for a running
    class of this browser once; an ended or expired one is forgotten."""
    ss = st.session_state
    store = class_store()
    if state.LESSON_TEACHING not in ss:
        running = store.classes_of(owner_token())
        ss[state.LESSON_TEACHING] = max(running, key=lambda c: c.expires_at).code if running else None
    code = ss[state.LESSON_TEACHING]
    if code is None:
        return None
    try:
        return store.state(code)
    except ClassGone:
        ss[state.LESSON_TEACHING] = None
        return None


def start(lesson: Lesson) -> ClassState:
    """Open a class on ``lesson`` taught by this browser; the QR dialog shows on the next run."""
    store = class_store()
    code = store.open_class(lesson, teacher=owner_token())
    st.session_state[state.LESSON_TEACHING] = code
    st.session_state[state.LESSON_SHOW_QR] = True
    return store.state(code)


def move(cls: ClassState, step: int) -> ClassState:
    """Move the class to ``step`` (0-based)."""
    return class_store().move(cls.code, owner_token(), step)


def end(cls: ClassState) -> None:
    """End the class: its code stops working for everyone."""
    class_store().end(cls.code, owner_token())
    st.session_state[state.LESSON_TEACHING] = None


def go_to(step: Step) -> None:
    """Open ``step``'s view in this browser (ends this run)."""
    page_index.go(step.view.page, step.view.params)
