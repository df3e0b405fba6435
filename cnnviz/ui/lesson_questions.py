"""Ask the class: the followers' answer panel and the presenter's live counts and reveal.

``student_panel(store, cs, student)`` (in the follower's bar) and ``teacher_panel(store, cs)``
(in the teacher's bar) draw the current step's question (``cnnviz.lessons.questions`` computes).
The model's own answer, and its reveal, are ``cnnviz.ui.lesson_answer``'s.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from cnnviz import render
from cnnviz.a11y import alt_questions
from cnnviz.errors import CnnvizError
from cnnviz.hotspots import Grid
from cnnviz.i18n import N_, _, ngettext
from cnnviz.lessons import questions as Q
from cnnviz.lessons.format import LessonError, Question, Step
from cnnviz.lessons.store import ClassState, ClassStore
from cnnviz.ui import lesson_answer, loaders, present, state
from cnnviz.ui.charts import HALO, INK
from cnnviz.ui.clickable import clicked
from cnnviz.ui.owner import owner_token
from cnnviz.ui.text import plain

POLL_S = 2.0  # the presenter's counts refresh
CELLS = 6  # the keyboard's grid over the click picture: 36 parts, each named by row and column
ALREADY = N_("You have already answered.")
THANKS = N_("Your answer is in. Watch the teacher's screen for the class's answers.")


# ---------------------------------------------------------------- the follower's side
def _send(store: ClassStore, cs: ClassState, student: str, value: str) -> None:
    try:
        ok = store.answer(cs.code, student, cs.step, value)
    except LessonError as e:  # the class moved on, or the answer was revealed meanwhile
        st.session_state[state.ASK_ERROR] = str(e)
        return
    answered = dict(st.session_state.get(state.ASK_ANSWERED) or {})
    answered[(cs.code, cs.step)] = value if ok else ""
    st.session_state[state.ASK_ANSWERED] = answered


def _submit_choice(store: ClassStore, cs: ClassState, student: str, key: str, values: tuple[str, ...]) -> None:
    picked = st.session_state.get(key)
    if isinstance(picked, int) and 0 <= picked < len(values):
        _send(store, cs, student, values[picked])


def _submit_point(store: ClassStore, cs: ClassState, student: str) -> None:
    point = (st.session_state.get(state.ASK_POINT) or {}).get((cs.code, cs.step))
    if point is not None:
        _send(store, cs, student, Q.click_value(*point))


def student_panel(store: ClassStore, cs: ClassState, student: str) -> None:
    """The current step's question on a follower's device: answer once, then the reveal."""
    step = cs.lesson.steps[cs.step]
    q = step.question
    if q is None:
        return
    st.markdown(f"**{plain(_(q.prompt), 300)}**")  # not a heading: the bar comes before the page's h1
    sent = (st.session_state.get(state.ASK_ANSWERED) or {}).get((cs.code, cs.step))
    error = st.session_state.pop(state.ASK_ERROR, None)
    if error:
        st.warning(error)
    try:
        if cs.revealed:
            lesson_answer.reveal(step, q)
        elif sent is not None:
            st.info(_(THANKS) if sent else _(ALREADY), icon=":material/how_to_vote:")
        elif q.kind == "click":
            _click_form(store, cs, student, step)
        else:
            _choice_form(store, cs, student, step, q)
    except CnnvizError as e:
        st.error(str(e))


def _choice_form(store: ClassStore, cs: ClassState, student: str, step: Step, q: Question) -> None:
    key = f"ask_choice_{cs.code}_{cs.step}"
    labels = option_labels(q)
    if q.kind == "pick_image":
        for i, (col, ref) in enumerate(zip(st.columns(len(q.options)), q.options, strict=True)):
            data = lesson_answer.question_image(ref)[0]
            col.image(
                render.photo_bytes(loaders.decoded_image(data, ref)),
                caption=labels[i],
                alt=alt_questions.choice_image(i, len(q.options), ref),
            )
    with st.form(f"ask_form_{cs.code}_{cs.step}", border=False):
        # the options' indices are the values: a change of language keeps the choice
        st.radio(
            _("Your answer"),
            range(len(labels)),
            index=None,
            key=key,
            format_func={i: plain(label) for i, label in enumerate(labels)}.get,
        )  # options are data, not markup
        st.form_submit_button(
            _("Send my answer"), on_click=_submit_choice, args=(store, cs, student, key, q.options), type="primary"
        )


def _click_form(store: ClassStore, cs: ClassState, student: str, step: Step) -> None:
    crop = lesson_answer.step_crop(step)
    w, h = crop.size
    pic = np.asarray(crop.convert("RGB"))
    points = dict(st.session_state.get(state.ASK_POINT) or {})
    point = points.get((cs.code, cs.step))
    if point is not None:  # the chosen point, drawn as a small box
        x, y = int(point[0] * w), int(point[1] * h)
        pic = render.draw_box(pic, y - 4, x - 4, 9, 9, color=(255, 0, 255), thickness=3)
    template = _("row {row}, column {col} of the picture")
    grid = Grid(CELLS, CELLS, (-(-h // CELLS), -(-w // CELLS)), template=template)
    hit = clicked(
        pic,
        f"ask_click_{cs.code}_{cs.step}",
        alt=alt_questions.click_target(w, h),
        hotspots=grid,
        width=min(448, 2 * w),
        pixelated=False,
    )
    if hit is not None:
        points[(cs.code, cs.step)] = ((hit[1] + 0.5) / w, (hit[0] + 0.5) / h)
        st.session_state[state.ASK_POINT] = points
        st.rerun()
    st.button(
        _("Send my answer"),
        key=f"ask_send_{cs.code}_{cs.step}",
        on_click=_submit_point,
        args=(store, cs, student),
        disabled=point is None,
        type="primary",
        help=_("Click the picture first"),
    )


# ---------------------------------------------------------------- the presenter's side
def counts_chart(prompt: str, labels: tuple[str, ...], counts: list[int], model: int | None = None) -> dict:
    """Vega-Lite: one bar per option with its count written beside it (the model's option
    marked "◀ model"), as ``st.vega_lite_chart`` takes it."""
    rows = [
        {"option": lab, "answers": n, "note": f"{n}" + ("  " + _("◀ model") if i == model else "")}
        for i, (lab, n) in enumerate(zip(labels, counts, strict=True))
    ]
    enc = {
        "y": {
            "field": "option",
            "type": "nominal",
            "sort": None,
            "title": None,
            "axis": {"labelLimit": 260, "labelFontSize": 15, "labelOverlap": False},
        },
        "x": {"field": "answers", "type": "quantitative", "title": _("answers"), "axis": {"tickMinStep": 1}},
    }
    text = {**enc, "text": {"field": "note", "type": "nominal"}}
    return {
        "description": alt_questions.counts(prompt, labels, counts, model),
        "data": {"values": rows},
        "height": {"step": 40},
        "layer": [
            {"mark": {"type": "bar", "color": "#1d4ed8"}, "encoding": enc},
            *(
                {"mark": {"type": "text", "align": "left", "dx": 4, "fontSize": 15, **s}, "encoding": text}
                for s in (HALO, INK)
            ),
        ],
    }


def _reveal_click(store: ClassStore, code: str) -> None:
    store.reveal(code, owner_token())


def teacher_panel(store: ClassStore, cs: ClassState) -> None:
    """The presenter's view of the current step's question: live counts (or the heat map of
    clicks), refreshed every :data:`POLL_S` s, and "Reveal the model's answer"."""
    if cs.lesson.steps[cs.step].question is None:
        return
    st.fragment(run_every=POLL_S)(_live)(store, cs.code)


def _answers(n: int) -> str:
    return ngettext("{n} answer", "{n} answers", n).format(n=n)


def option_labels(q: Question) -> tuple[str, ...]:
    """What the class reads for each option: a choice's own words (a shipped lesson's from the
    catalogue), or "Picture k" for a picture."""
    if q.kind == "pick_image":
        return tuple(_("Picture {k}").format(k=i + 1) for i in range(len(q.options)))
    return tuple(_(o) for o in q.options)


def _live(store: ClassStore, code: str) -> None:
    try:
        cs = store.state(code)
    except LessonError:  # ended meanwhile: the teacher's next full run forgets the class
        return
    step = cs.lesson.steps[cs.step]
    q = step.question
    if q is None:
        return
    st.markdown(f"**{plain(_(q.prompt), 300)}**")  # not a heading: the bar comes before the page's h1
    try:
        if q.kind == "click":
            answers = store.answers(code, cs.step)
            heat = Q.click_heat(answers)
            if cs.revealed:
                lesson_answer.reveal(step, q, heat)
            else:
                crop = lesson_answer.step_crop(step)
                st.image(lesson_answer.heat_picture(crop, heat), alt=alt_questions.clicks(heat), width=448)
            st.text(_answers(len(answers)))
        else:
            labels = option_labels(q)
            counts = Q.option_counts(q.options, store.tally(code, cs.step))
            model = None
            if cs.revealed:
                answer = lesson_answer.model_answer(step)
                model = Q.matching_option(q.options, answer.label) if q.kind == "choice" else Q.best_of(answer)
            st.vega_lite_chart(spec=present.chart(counts_chart(_(q.prompt), labels, counts, model)), width="stretch")
            st.text(_answers(sum(counts)))
            if cs.revealed:
                lesson_answer.reveal(step, q)
    except CnnvizError as e:
        st.error(str(e))
    if not cs.revealed:
        st.button(
            _("Reveal the model's answer"),
            key="ask_reveal",
            on_click=_reveal_click,
            args=(store, code),
            icon=":material/visibility:",
        )
