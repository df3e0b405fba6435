"""The teacher's bar: the class this browser teaches, on every page, above the page's view.

app.py calls :func:`render` before the page runs. A teaching session sees the lesson's title,
"Step k of n", the step's note, Previous / Next (which move the class and open the step's view
here), how many students follow, the class code, the QR code again, and "End the class".
The Lesson page's :func:`start_button` opens the class and shows its code, join link and QR.
"""

from __future__ import annotations

import html

import streamlit as st

from cnnviz.a11y import alt_text
from cnnviz.errors import CnnvizError
from cnnviz.i18n import _, ngettext
from cnnviz.lessons.format import Lesson, LessonError
from cnnviz.lessons.store import ClassState
from cnnviz.ui import lesson_follow, lesson_questions, lesson_store, page_index, share, state
from cnnviz.ui.text import plain

FOLLOW_EVERY_S = 2  # the followers count's refresh: one small SQLite query per teacher
NOTE_PEEK = 90  # characters of the note shown while it is folded
# Fixed CSS, no data in it. The class code as large as a projector allows; the bar a thin band
# whose step line reads from the back of the room in presenter mode.
_CSS = """
<style>
.cnnviz-class-code { font-size: 4.5rem; font-weight: 700; letter-spacing: 0.12em; line-height: 1.1; margin: 0; }
.st-key-lesson_bar { padding: 0.4rem 0.8rem; gap: 0.3rem; }
.st-key-lesson_bar [data-testid="stVerticalBlock"] { gap: 0.2rem; }
.st-key-lesson_bar .st-key-lesson_step p { font-size: 1.15rem; line-height: 1.3; margin: 0; }
/* Streamlit pulls a text up by 1rem to eat its paragraph's margin: both go */
.st-key-lesson_bar [data-testid="stMarkdownContainer"] { margin-bottom: 0; }
.st-key-lesson_bar [data-testid="stMarkdownContainer"] p { margin: 0; }
/* the controls keep one size in presenter mode (its larger root font is for the step's line) */
.st-key-lesson_bar button p, .st-key-lesson_meta p { white-space: nowrap; font-size: 16px; }
.st-key-lesson_bar button { padding: 4px 10px; min-height: 40px; }
.st-key-lesson_bar .st-key-lesson_qr button p, .st-key-lesson_bar [data-testid="stPopover"] button [data-testid="stMarkdownContainer"] {
  position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap;
}
.st-key-lesson_bar [data-testid="stExpander"] summary { padding-top: 0.15rem; padding-bottom: 0.15rem; }
.st-key-lesson_bar summary p { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; font-size: 16px; }
.st-key-lesson_meta p { line-height: 1.25; }
/* the controls take the width their labels need, the step's line the rest (the row wraps on a phone) */
.st-key-lesson_bar [data-testid="stHorizontalBlock"] > [data-testid="stColumn"] {
  flex: 0 0 auto !important; width: auto !important; min-width: 0;
}
.st-key-lesson_bar [data-testid="stHorizontalBlock"] > [data-testid="stColumn"]:first-child {
  flex: 1 1 0 !important; min-width: min(100%, 14rem);
}
</style>
"""


def _join_url(code: str) -> tuple[str, str | None]:
    """The join link (``?class=CODE`` on the app's public address) and why students may not
    reach it (None: they can)."""
    base = share.link_base(page_index.current_path())
    return share.view_url("", {"class": code}, base), base.warning


def _class_dialog(code: str) -> None:
    """The class code, join link and QR code, in a dialog titled in the reader's language."""
    st.dialog(_("Join the class"), width="large")(_class_dialog_body)(code)


def _class_dialog_body(code: str) -> None:
    st.html(share.QR_CSS + _CSS)
    url, warning = _join_url(code)
    picture, text = st.columns([1, 1], vertical_alignment="center")
    try:
        picture.image(share.qr_png(url, 12), alt=alt_text.qr(url))
    except CnnvizError as e:  # a public address longer than a QR code holds
        picture.warning(str(e))
    with text:
        st.markdown(_("Class code"))
        st.html(f'<p class="cnnviz-class-code">{html.escape(code)}</p>')
        st.caption(_("Scan the code, open the link, or type the code on the Lesson page."))
        if warning:
            st.warning(warning, icon=":material/wifi_off:")
        st.code(url, language=None, wrap_lines=True)


@st.fragment(run_every=FOLLOW_EVERY_S)
def _followers(code: str) -> None:
    try:
        n = lesson_store.class_store().followers(code)
    except LessonError:  # ended or expired meanwhile: the next full run forgets the class
        n = 0
    following = ngettext("**{n}** following", "**{n}** following", n).format(n=n)
    st.markdown(f":material/group: {following}  \n" + _("Code **{code}**").format(code=plain(code)))


def _go(cls: ClassState, step: int) -> None:
    """Move the class to ``step`` and open its view here."""
    try:
        cls = lesson_store.move(cls, step)
    except LessonError as e:
        st.error(str(e))
        return
    lesson_store.go_to(cls.lesson.steps[cls.step])


def _note(text: str) -> None:
    """A plain-text note: its lines as typed, never markup."""
    st.markdown("  \n".join(plain(line, 2000) for line in text.splitlines()))


def _note_label(note: str) -> str:
    """The folded note's label: "Note: " and its start, so the bar stays one line high."""
    first = " ".join(note.split())
    return _("Note: {start}").format(start=first if len(first) <= NOTE_PEEK else first[: NOTE_PEEK - 1] + "…")


def _bar(cls: ClassState) -> None:
    lesson, k = cls.lesson, cls.step
    step, n = lesson.steps[k], len(lesson.steps)
    with st.container(border=True, key="lesson_bar"):
        info, prev, nxt, meta, qr, end = st.columns([5.2, 1.5, 1.1, 1.5, 0.6, 0.7], vertical_alignment="center")
        with info.container(key="lesson_step"):
            # a shipped lesson's words are in the catalogue; a teacher's own pass through unchanged
            line = _("**Step {k} of {n}: {title}** · {lesson}").format(
                k=k + 1, n=n, title=plain(_(step.title)), lesson=plain(_(lesson.title))
            )
            st.markdown(line)
            if step.note:  # folded beside the buttons: the bar stays as high as they are
                note = _(step.note)
                with st.expander(_note_label(note)):
                    _note(note)
        if prev.button(_("Previous"), key="lesson_prev", icon=":material/arrow_back:", disabled=k == 0):
            _go(cls, k - 1)
        if nxt.button(
            _("Next"), key="lesson_next", icon=":material/arrow_forward:", type="primary", disabled=k == n - 1
        ):
            _go(cls, k + 1)
        with meta.container(key="lesson_meta"):
            _followers(cls.code)  # and the code
        # icon-only on screen (CSS), their labels still name them for a screen reader
        if qr.button(
            _("Show the class's QR code"),
            key="lesson_qr",
            icon=":material/qr_code_2:",
            help=_("Show the class code and QR code"),
        ):
            _class_dialog(cls.code)
        with end.popover(_("End the class"), icon=":material/stop_circle:", help=_("End the class")):
            st.caption(_("Students stop following; the code stops working."))
            if st.button(_("End the class for everyone"), key="lesson_end", type="primary"):
                lesson_store.end(cls)
                st.rerun()
        if step.question is not None:
            lesson_questions.teacher_panel(lesson_store.class_store(), cls)


def render(notice, current=None, pages=None) -> None:
    """The lesson bar of this session, at the top of the main area (app.py, before the page).

    Args:
        notice: app.py's container at the top of the main area (messages).
        current: what ``st.navigation`` returned; pages: app.py's ``{section: [st.Page]}``.
    """
    if current is not None:
        page_index.remember(current, pages or {})
    st.session_state[state.FOLLOW_HIDE] = False  # the follower's bar says when a question hides the answer
    try:
        cls = lesson_store.teaching()
    except LessonError as e:  # the store refused (e.g. its file): the page still works
        notice.warning(str(e), icon=":material/co_present:")
        return
    if cls is None:
        lesson_follow.student_bar(notice)  # the students' side: the class this browser follows
        return
    st.html(_CSS)
    if st.session_state.pop(state.LESSON_SHOW_QR, False):
        _class_dialog(cls.code)
    _bar(cls)


def start_button(lesson: Lesson, problems: list[str], teaching: ClassState | None) -> None:
    """The Lesson page's "Start the class": opens a class on ``lesson``, shows its code and QR,
    and opens step 1 here. While this browser teaches a class, what it is instead."""
    if teaching is not None:
        st.success(
            _(
                "Your class {code} is running: step {k} of {n}. Changes here do not change it; "
                "to teach this lesson instead, end that class (End, in the bar)."
            ).format(code=teaching.code, k=teaching.step + 1, n=len(teaching.lesson.steps)),
            icon=":material/co_present:",
        )
        return
    if st.button(
        _("Start the class"),
        key="lesson_start",
        type="primary",
        icon=":material/co_present:",
        disabled=bool(problems),
        width="stretch",
    ):
        try:
            cls = lesson_store.start(lesson)
        except LessonError as e:
            st.error(str(e))
            return
        lesson_store.go_to(cls.lesson.steps[0])
    if problems:
        st.caption(problems[0])
