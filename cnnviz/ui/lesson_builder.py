"""The Lesson page's builder: the steps listed and edited, the lesson saved, loaded or started
from a ready-made one.

A ready-made lesson's words and the defaults the builder writes are kept in English (message
ids) and shown in the reader's language; a field the teacher edits is saved as they see it.

Every edit goes straight into the draft (``lesson_store.save``). Widget keys carry the draft's
revision (``state.LESSON_REV``), which grows whenever steps move, go or come: the widgets of
step 2 after a reorder are new widgets that start from the step now there, never from the
values typed into the old step 2.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import streamlit as st

from cnnviz.i18n import N_, _, ngettext
from cnnviz.inputs.gallery import SAMPLES
from cnnviz.lessons import builder
from cnnviz.lessons.format import (
    MAX_TITLE,
    PICK_IMAGES,
    Lesson,
    LessonError,
    Question,
    dump_lesson,
    lesson_problems,
    parse_lesson,
)
from cnnviz.lessons.format import shipped_lessons as _shipped
from cnnviz.ui import lesson_store, state
from cnnviz.ui.sidebar import SAMPLE_TITLES
from cnnviz.ui.text import plain

KIND_LABELS = {
    None: N_("No question"),
    "choice": N_("Multiple choice"),
    "click": N_("Click on the picture"),
    "pick_image": N_("Pick one of 4 pictures"),
}
HOW_TO_ADD = N_(
    "Open any page, set it up as you want the class to see it, then press **Add this view to the lesson** "
    "under *Share this view* in the sidebar. Each view becomes a step here."
)


@st.cache_resource
def shipped_lessons() -> dict[str, Lesson]:
    """The ready-made lessons (read once per process)."""
    return _shipped()


def _key(name: str, i: int | None = None) -> str:
    rev = st.session_state.get(state.LESSON_REV, 0)
    return f"lesson_{name}_{rev}" + ("" if i is None else f"_{i}")


def _keep(where: int | None, lesson: Lesson, *, afresh: bool = False) -> None:
    """Keep an edited draft; one the format refuses is not kept, and the builder says why beside
    step ``where`` (None: the lesson's title) on the next run.

    ``afresh``: the steps moved, came or went (new widget keys); else one field changed (the
    widgets stay, with the focus)."""
    try:
        (lesson_store.save if afresh else lesson_store.keep)(lesson)
    except LessonError as e:
        st.session_state[state.LESSON_REFUSED] = (where, _("Not kept: {why}").format(why=e))


def _apply(i: int, change: Callable[..., Lesson], *args) -> None:
    """A button's edit of step ``i``: ``change(draft, i, *args)`` kept; the widgets start afresh."""
    _keep(i, change(lesson_store.draft(), i, *args), afresh=True)


def _edit(i: int, field: str, key: str) -> None:
    """A field's widget changed: copy its value into step ``i``."""
    _keep(i, builder.edit_step(lesson_store.draft(), i, **{field: st.session_state[key]}))


def _edit_question(i: int, **changes) -> None:
    lesson = lesson_store.draft()
    q = lesson.steps[i].question
    if q is not None:
        _keep(i, builder.edit_step(lesson, i, question=replace(q, **changes)))


def _edit_title(key: str) -> None:
    _keep(None, replace(lesson_store.draft(), title=st.session_state[key]))


def _edit_prompt(i: int, key: str) -> None:
    _edit_question(i, prompt=st.session_state[key])


def _edit_answers(i: int, key: str) -> None:
    lines = (line.strip() for line in st.session_state[key].splitlines())
    _edit_question(i, options=tuple(line for line in lines if line))


def _edit_images(i: int, key: str) -> None:
    _edit_question(i, options=tuple(st.session_state[key]))


def _set_kind(i: int, key: str) -> None:
    kind = st.session_state[key]
    lesson = lesson_store.draft()
    question = None if kind is None else builder.default_question(kind, lesson.steps[i], list(SAMPLES))
    _keep(i, builder.edit_step(lesson, i, question=question), afresh=True)


def _refused(where: int | None) -> None:
    """The message of an edit that was not kept, beside what it edited (once)."""
    refused = st.session_state.get(state.LESSON_REFUSED)
    if refused is not None and refused[0] == where:
        del st.session_state[state.LESSON_REFUSED]
        st.warning(refused[1], icon=":material/edit_off:")


def lesson_title(lesson: Lesson) -> None:
    key = _key("title")
    st.text_input(
        _("Lesson title"),
        value=_(lesson.title),
        max_chars=MAX_TITLE,
        key=key,
        # a lesson without steps is not kept (the store drops it): its title would be lost
        disabled=not lesson.steps,
        help=None if lesson.steps else _("Add a step first: a lesson is kept once it has one."),
        on_change=_edit_title,
        args=(key,),
    )
    _refused(None)


def _question(i: int, q: Question | None) -> None:
    kinds = list(KIND_LABELS)
    kind_key = _key("kind", i)
    st.radio(
        _("Ask the class"),
        kinds,
        index=kinds.index(q.kind if q else None),
        format_func={k: _(v) for k, v in KIND_LABELS.items()}.get,
        horizontal=True,
        key=kind_key,
        on_change=_set_kind,
        args=(i, kind_key),
    )
    if q is None:
        return
    pkey = _key("prompt", i)
    st.text_input(
        _("Question"),
        value=_(q.prompt),
        max_chars=300,
        key=pkey,
        on_change=_edit_prompt,
        args=(i, pkey),
    )
    if q.kind == "choice":
        akey = _key("answers", i)
        st.text_area(
            _("Answers, one per line (2 to 6)"),
            value="\n".join(_(o) for o in q.options),
            height=110,
            key=akey,
            on_change=_edit_answers,
            args=(i, akey),
        )
    elif q.kind == "pick_image":
        ikey = _key("images", i)
        st.multiselect(
            _("The {n} pictures students choose from").format(n=PICK_IMAGES),
            list(SAMPLES),
            default=[o for o in q.options if o in SAMPLES],
            format_func={s: _(v) for s, v in SAMPLE_TITLES.items()}.get,
            max_selections=PICK_IMAGES,
            key=ikey,
            on_change=_edit_images,
            args=(i, ikey),
        )
    else:
        st.caption(_("Students click the picture of this view; you see where they clicked."))


def step_editor(lesson: Lesson, i: int) -> None:
    """Step ``i``'s card: its number and title, buttons to move/open/delete it, and its fields."""
    step, n = lesson.steps[i], len(lesson.steps)
    with st.container(border=True, key=f"lesson_card_{i}"):  # tests and CSS find step i by its key
        st.markdown(_("**Step {k}** · {title}").format(k=i + 1, title=plain(_(step.title))))
        row = st.container(horizontal=True, vertical_alignment="center", gap="small")
        row.button(
            _("Up"),
            key=_key("up", i),
            icon=":material/arrow_upward:",
            disabled=i == 0,
            on_click=_apply,
            args=(i, builder.move_step, -1),
        )
        row.button(
            _("Down"),
            key=_key("down", i),
            icon=":material/arrow_downward:",
            disabled=i == n - 1,
            on_click=_apply,
            args=(i, builder.move_step, 1),
        )
        if row.button(_("Open"), key=_key("go", i), icon=":material/open_in_new:"):
            lesson_store.go_to(step)
        row.button(
            _("Delete"),
            key=_key("del", i),
            icon=":material/delete:",
            on_click=_apply,
            args=(i, builder.delete_step),
        )
        tkey, nkey, pkey = _key("step_title", i), _key("note", i), _key("own", i)
        st.text_input(
            _("Title"), value=_(step.title), max_chars=MAX_TITLE, key=tkey, on_change=_edit, args=(i, "title", tkey)
        )
        st.text_area(
            _("Note for the class (plain text)"),
            value=_(step.note),
            max_chars=2000,
            height=80,
            key=nkey,
            on_change=_edit,
            args=(i, "note", nkey),
        )
        st.toggle(
            _("Students keep their own photo"),
            value=step.keep_own_photo,
            key=pkey,
            on_change=_edit,
            args=(i, "keep_own_photo", pkey),
            help=_("A student who has chosen a photo of their own sees this view on it."),
        )
        _question(i, step.question)
        _refused(i)


def steps(lesson: Lesson) -> None:
    if not lesson.steps:
        st.info(_(HOW_TO_ADD), icon=":material/playlist_add:")
        return
    st.caption(_(HOW_TO_ADD))
    for i in range(len(lesson.steps)):
        step_editor(lesson, i)


def lesson_problems_of(lesson: Lesson) -> list[str]:
    """Why ``lesson`` cannot be saved or taught yet, one sentence each ([]: it can)."""
    return lesson_problems(dump_lesson(lesson)) if lesson.steps else [_("Add at least one step.")]


def save_button(lesson: Lesson, problems: list[str]) -> None:
    st.download_button(
        _("Save as a file"),
        data=dump_lesson(lesson) if not problems else b"",
        file_name=builder.file_name(lesson.title),
        mime="application/json",
        icon=":material/download:",
        disabled=bool(problems),
        width="stretch",
        help=_("A small JSON file: load it here again, or share it with other teachers."),
    )


def load_file(lesson: Lesson) -> None:
    """The lesson-file uploader: the file's problems as sentences, or a button that opens it."""
    upload = st.file_uploader(_("Open a lesson file"), type=["json"], key=state.LESSON_UPLOAD)
    if upload is None:
        return
    data = upload.getvalue()
    try:
        loaded = parse_lesson(data)
    except LessonError:
        problems = lesson_problems(data) or [_("This file is not a lesson.")]
        st.error(
            _("{file} is not a lesson this app can open:").format(file=plain(upload.name))
            + "\n\n"
            + "\n".join(f"- {plain(p, 300)}" for p in problems),
            icon=":material/error:",
        )
        return
    n = len(loaded.steps)
    label = ngettext("Open “{title}” ({n} step)", "Open “{title}” ({n} steps)", n).format(title=_(loaded.title), n=n)
    if st.button(label, key=_key("open_file"), icon=":material/file_open:", width="stretch"):
        _replace(loaded)


def start_from_shipped(lesson: Lesson) -> None:
    shipped = shipped_lessons()
    if not shipped:
        return
    name = st.selectbox(_("Ready-made lessons"), list(shipped), key=state.LESSON_SHIPPED, format_func=_)
    if st.button(_("Start from this lesson"), key=_key("use_shipped"), icon=":material/auto_stories:", width="stretch"):
        _replace(shipped[name])
    if lesson.steps:
        n = len(lesson.steps)
        st.caption(
            ngettext(
                "Opening a lesson replaces your {n} step: save it first to keep it.",
                "Opening a lesson replaces your {n} steps: save them first to keep them.",
                n,
            ).format(n=n)
        )


def _replace(lesson: Lesson) -> None:
    lesson_store.save(lesson)
    st.rerun()
