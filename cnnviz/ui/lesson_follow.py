"""The students' side of a class: join by code, follow the teacher, explore on one's own.

- Joining: ``?class=CODE`` on any page (the teacher's link or QR code), or the "Join a class"
  box (:func:`join_box`, on the Lesson page). An unknown or expired code gets one sentence.
- Following: this process's class watcher (``lesson_push``) reruns the session as soon as its
  class moves, straight on the new step's page and view; a fragment also polls the class (``ClassStore.state``, one SQLite read) every
  :data:`FALLBACK_S` seconds (every :data:`POLL_S` when this Streamlit cannot be pushed to) and
  heartbeats (``ClassStore.follow``) every :data:`BEAT_S`. When the class's revision moves to
  another step, the run opens that step's view with
  ``st.switch_page(page, query_params=...)``: ``links.begin`` then applies the view's global
  parameters (model, weights, image) and the page's own ``links.page`` its layer, channel,
  class... exactly as for a link someone opened. A reveal (same step, new revision) reruns the
  app so the question panel shows it.
- The code stays in the URL while the student follows (``links.current_params`` writes it), so
  a reload follows again, at the class's current step; on one's own, ``own=1`` beside it keeps a
  reload on one's own, with "Back to the teacher".
- "Explore on my own" stops the poll and keeps the view; "Back to the teacher" opens the class's
  current step.
- On a step with ``keep_own_photo``, a student whose image is their own upload or camera shot
  (not one a step applied) keeps it: the step's ``image`` is left out.
"""

from __future__ import annotations

import re
import time

import streamlit as st

from cnnviz.i18n import N_, _
from cnnviz.lessons.format import LessonError, Step
from cnnviz.lessons.store import ClassGone, ClassState
from cnnviz.ui import compat, lesson_questions, selection, state
from cnnviz.ui.lesson_push import Watcher
from cnnviz.ui.lesson_store import class_store
from cnnviz.ui.owner import owner_token

POLL_S = 1.0  # without a push, a new step shows within this plus one page run: the 2 s
FALLBACK_S = 5.0  # with pushes, the poll only heartbeats and catches a push that was lost
BEAT_S = 5.0  # the store counts followers seen within 15 s
CLASS_PARAM = "class"
OWN_PARAM = "own"  # "1": this tab explores on its own (a reload stays so)
_CODE_RE = re.compile(r"[A-Za-z0-9]{3,12}")
NOT_A_CODE = N_("That is not a class code: a class code is a few letters and digits, such as K7F3Q.")

# url_path -> page file, as the menu's st.Page list names them (a test checks it against cnnviz/ui/menu.py)
_PAGE_FILES = {"": "home", "compare": "explanations", "compare-models": "compare_models"}


def page_file(url_path: str) -> str:
    """The page script of the app page at ``url_path`` ("" is Predict)."""
    return f"pages/{_PAGE_FILES.get(url_path, url_path)}.py"


def clean_code(raw: object) -> str | None:
    """A typed or linked class code, upper-cased without spaces, or None if it cannot be one."""
    code = re.sub(r"[\s-]", "", str(raw or "")).upper()
    return code if _CODE_RE.fullmatch(code) else None


def following() -> str | None:
    """The code of the class this session follows now (None: none, or exploring on its own)."""
    ss = st.session_state
    return None if ss.get(state.FOLLOW_OWN) else ss.get(state.FOLLOW_CODE)


def own_photo() -> bool:
    """True when the session's image is the student's own (an upload or a camera shot that no
    step of the class applied)."""
    ss = st.session_state
    mine = ss.get(state.IMAGE_SOURCE) in (state.SOURCE_UPLOAD, state.SOURCE_CAMERA)
    return mine and (ss.get(state.IMAGE_REF) is None or ss.get(state.IMAGE_REF) != ss.get(state.FOLLOW_IMAGE))


def view_params(step: Step, code: str, keep_photo: bool) -> dict[str, str]:
    """The query parameters that open ``step``'s view for a follower of class ``code``."""
    # a lesson file's lang= (written by hand) is left out: a follower reads in their own language
    params = {k: str(v) for k, v in step.view.params.items() if k != "lang"}
    if step.keep_own_photo and keep_photo:
        params.pop("image", None)
    params[CLASS_PARAM] = code
    return params


def _push(sid: str, cs: ClassState | None) -> bool:
    """The watcher's rerun of follower ``sid``: straight on ``cs``'s step and view (with the
    step's image: :func:`follow_moves` switches again for a student keeping their own photo),
    or (None) its own page."""
    if cs is None:
        return compat.rerun_session(sid)
    step = cs.lesson.steps[cs.step]
    return compat.rerun_session(sid, page_file(step.view.page), view_params(step, cs.code, keep_photo=False))


@st.cache_resource
def watcher() -> Watcher:
    """This process's class watcher (its thread starts with the first follower)."""
    return Watcher(class_store(), _push)


def poll_every() -> float:
    """Seconds between a follower's polls: a slow fallback when moves are pushed."""
    return FALLBACK_S if compat.can_rerun() else POLL_S


def answer_hidden() -> bool:
    """Whether this run's page must keep the model's answer out of sight (and of its alt texts):
    the session follows a class whose current step asks a question not yet revealed."""
    return bool(st.session_state.get(state.FOLLOW_HIDE))


def join(code: str, own: bool = False) -> str | None:
    """Follow class ``code``: the next run opens its current step (``own``: join it exploring
    on one's own, as a reload of such a tab does). Returns None, or the one sentence saying why
    not (an unknown or expired code, too many wrong codes, a full class)."""
    try:
        class_store().join(code, owner_token())
    except LessonError as e:
        return str(e)
    ss = st.session_state
    ss[state.FOLLOW_CODE], ss[state.FOLLOW_OWN] = code, own
    ss[state.FOLLOW_SEEN], ss[state.FOLLOW_STEP] = None, None
    ss[state.FOLLOW_BEAT] = time.monotonic()
    return None


def _open_step(cs: ClassState, url_path: str | None = None) -> None:
    """Open the class's current step: a page switch (nothing after this call runs), unless
    this run is already on the step's page with its view's parameters (``url_path``: this
    run's page), as the watcher's push starts it."""
    ss = st.session_state
    step = cs.lesson.steps[cs.step]
    params = view_params(step, cs.code, own_photo())
    if "lang" in st.query_params:  # the follower's own language stays in their address
        params["lang"] = st.query_params["lang"]
    ss[state.FOLLOW_SEEN], ss[state.FOLLOW_STEP] = cs.revision, cs.step
    if "image" in params:
        ss[state.FOLLOW_IMAGE] = params["image"]
    selection.forget_query(step.view.page)  # the step's layer/channel apply even if seen before
    if step.view.page != url_path or st.query_params.to_dict() != params:
        st.switch_page(page_file(step.view.page), query_params=params)
    st.query_params.from_dict(params)  # the browser's address bar learns the pushed query too


def _heartbeat(code: str) -> None:
    ss = st.session_state
    now = time.monotonic()
    if now - ss.get(state.FOLLOW_BEAT, 0.0) >= BEAT_S:
        ss[state.FOLLOW_BEAT] = now
        class_store().follow(code, owner_token())


def _unwatch() -> None:
    sid = compat.session_id()
    if sid is not None:
        watcher().forget(sid)


def _leave(message: str) -> None:
    _unwatch()
    ss = st.session_state
    ss[state.FOLLOW_CODE] = None
    ss[state.FOLLOW_ENDED] = message


def _poll() -> None:
    """The fragment's run: heartbeat, and follow the class when its revision moved."""
    code = following()
    if code is None:
        return
    ss = st.session_state
    try:
        _heartbeat(code)
        cs = class_store().state(code)
    except LessonError as e:
        _leave(str(e))
        st.rerun(scope="app")
    if cs.revision == ss.get(state.FOLLOW_SEEN):
        return
    if cs.step == ss.get(state.FOLLOW_STEP):
        ss[state.FOLLOW_SEEN] = cs.revision  # a reveal: the question panel redraws with the app
        st.rerun(scope="app")
    _open_step(cs)


def _explore() -> None:
    st.session_state[state.FOLLOW_OWN] = True


def _back() -> None:
    ss = st.session_state
    ss[state.FOLLOW_OWN], ss[state.FOLLOW_SEEN], ss[state.FOLLOW_STEP] = False, None, None


def join_from_link(notice) -> None:
    """``?class=CODE`` in the URL: follow that class (unless this session already does)."""
    raw = st.query_params.get(CLASS_PARAM)
    if raw is None:
        return
    code = clean_code(raw)
    if code is None:
        notice.warning(_(NOT_A_CODE), icon=":material/groups:")
    elif code != st.session_state.get(state.FOLLOW_CODE) and (why := join(code, st.query_params.get(OWN_PARAM) == "1")):
        notice.warning(why, icon=":material/groups:")


def follow_moves(url_path: str) -> None:
    """A follower whose class moved to another step opens it at once (app.py, before the
    sidebar; ``url_path``: this run's page). A push runs the step's page already, so it only
    takes the step on; another run switches pages before drawing anything. A reveal or a
    class gone is left to :func:`student_bar`."""
    code = following()
    if code is None:
        return
    try:
        cs = class_store().state(code)
    except LessonError:
        return
    ss = st.session_state
    if cs.revision != ss.get(state.FOLLOW_SEEN) and cs.step != ss.get(state.FOLLOW_STEP):
        _open_step(cs, url_path)


def page_shown() -> None:
    """This run drew its whole page: if the class watcher pushed it, the next follower's turn
    (also when the student has just gone exploring on their own)."""
    if st.session_state.get(state.FOLLOW_CODE):
        watcher().finished(compat.session_id())


def student_bar(notice) -> None:
    """The follower's bar at the top of every page (``lesson_bar.render`` calls it): the step,
    its note, "Explore on my own" / "Back to the teacher", the question, and the poll.

    ``notice``: the main area's message container (app.py's), for a link's bad code.
    """
    join_from_link(notice)
    ss = st.session_state
    ended = ss.pop(state.FOLLOW_ENDED, None)
    if ended:
        notice.info(ended, icon=":material/groups:")
    code = ss.get(state.FOLLOW_CODE)
    if not code:
        return
    try:
        cs = class_store().state(code)
    except ClassGone as e:
        _leave(str(e))
        notice.info(str(e), icon=":material/groups:")
        return
    if ss.get(state.FOLLOW_OWN):
        _unwatch()
        with st.container(border=True, key="lesson_follow_bar"):
            left, right = st.columns([3, 1], vertical_alignment="center")
            left.text(
                _("Exploring on your own: class {code} is at step {k} of {n}.").format(
                    code=cs.code, k=cs.step + 1, n=len(cs.lesson.steps)
                )
            )
            right.button(_("Back to the teacher"), key=state.FOLLOW_BACK, on_click=_back, icon=":material/groups:")
        return
    if cs.revision != ss.get(state.FOLLOW_SEEN) and cs.step != ss.get(state.FOLLOW_STEP):
        _open_step(cs)  # a new follower, a reload, "Back to the teacher": the class's step
    ss[state.FOLLOW_SEEN], ss[state.FOLLOW_STEP] = cs.revision, cs.step
    sid = compat.session_id()
    if sid is not None and compat.can_rerun():
        watcher().watch(cs.code, sid, cs.revision, cs.step)  # the next move reruns this session
    step = cs.lesson.steps[cs.step]
    ss[state.FOLLOW_HIDE] = step.question is not None and not cs.revealed
    with st.container(border=True, key="lesson_follow_bar"):
        left, right = st.columns([3, 1], vertical_alignment="center")
        # the follower's own language: a shipped lesson's words from the catalogue, a teacher's as typed
        left.text(
            _("Following class {code}: step {k} of {n}: {title}").format(
                code=cs.code, k=cs.step + 1, n=len(cs.lesson.steps), title=_(step.title)
            )
        )
        right.button(_("Explore on my own"), key=state.FOLLOW_EXPLORE, on_click=_explore, icon=":material/explore:")
        if step.note:
            st.text(_(step.note))  # plain text: a note is never markup
        if step.question is not None:
            lesson_questions.student_panel(class_store(), cs, owner_token())
    st.fragment(run_every=poll_every())(_poll)()


def _join_typed() -> None:
    ss = st.session_state
    code = clean_code(ss.get(state.FOLLOW_TYPED))
    if code is None:
        ss[state.FOLLOW_JOIN_ERROR] = _(NOT_A_CODE)
        return
    ss[state.FOLLOW_JOIN_ERROR] = join(code)  # on success the run that follows opens the class's step


def join_box() -> None:
    """The "Join a class" box: a code typed in, then the class's current step opens."""
    st.subheader(_("Join a class"), anchor=False)
    with st.form("lesson_join", border=True):
        st.text_input(_("Class code"), key=state.FOLLOW_TYPED, max_chars=16, placeholder="K7F3Q")
        st.form_submit_button(_("Join a class"), on_click=_join_typed, icon=":material/groups:")
    error = st.session_state.get(state.FOLLOW_JOIN_ERROR)
    if error:
        st.error(error)
