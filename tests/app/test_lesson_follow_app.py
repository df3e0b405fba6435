"""Issue 24, the students' side through AppTest: a bad class code in a link gets one sentence,
a step that lets students keep their own photo keeps it (and the next step, which does not,
shows the teacher's), and the class's code stays in the follower's URL."""

from __future__ import annotations

import secrets
from pathlib import Path

from streamlit.testing.v1 import AppTest

from cnnviz.inputs.gallery import sample_bytes
from cnnviz.lessons.format import Lesson, Question, Step, View
from cnnviz.lessons.store import ClassStore
from cnnviz.ui import state

APP = str(Path(__file__).resolve().parents[2] / "app.py")
M = {"model": "efficientnet_lite0"}
LESSON = Lesson(
    "Own photos",
    (
        Step(title="On your photo", view=View("", {**M, "image": "chelsea"}), keep_own_photo=True),
        Step(title="On the cat", view=View("", {**M, "image": "chelsea"})),
    ),
)


def _student(query: dict[str, str], **preset) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state[state.OWNER] = secrets.token_hex(16)
    for k, v in preset.items():
        at.session_state[k] = v
    for k, v in query.items():
        at.query_params[k] = v
    return at.run()


def test_an_unknown_code_gets_one_sentence():
    at = _student({"class": "ZZZZ22"})
    assert not at.exception, at.exception
    assert [w.value for w in at.warning] == [
        "There is no class with the code ZZZZ22 now: it has ended, or the code is mistyped."
    ]
    assert state.FOLLOW_CODE not in at.session_state  # nothing followed
    at = _student({"class": "<b>x</b>"})
    assert [w.value for w in at.warning] == [
        "That is not a class code: a class code is a few letters and digits, such as K7F3Q."
    ]


def test_own_photo_kept_where_the_step_allows():
    store = ClassStore()
    teacher = secrets.token_hex(16)
    code = store.open_class(LESSON, teacher)
    mine = sample_bytes("coffee")
    at = _student(
        {"class": code},
        **{state.IMAGE_SOURCE: state.SOURCE_UPLOAD, state.IMAGE_BYTES: mine, state.IMAGE_NAME: "mine.jpg"},
    )
    assert not at.exception, at.exception
    assert at.session_state[state.FOLLOW_CODE] == code
    assert at.session_state[state.IMAGE_BYTES] == mine  # step 1 keeps the student's own photo
    assert at.query_params["class"] == code  # a reload follows again
    store.move(code, teacher, 1)
    at.run()  # what the poll's rerun does when the revision moved
    assert not at.exception, at.exception
    assert at.session_state[state.IMAGE_BYTES] == sample_bytes("chelsea")  # step 2 shows the teacher's photo
    assert "step 2 of 2" in " ".join(t.value for t in at.text)


def test_a_reload_while_exploring_stays_on_one_s_own():
    store = ClassStore()
    teacher = secrets.token_hex(16)
    code = store.open_class(LESSON, teacher)
    at = _student({"class": code})
    at.button(key=state.FOLLOW_EXPLORE).click().run()
    assert not at.exception, at.exception
    assert at.query_params["class"] == code and at.query_params["own"] == "1"
    store.move(code, teacher, 1)
    reload = _student({"class": code, "own": "1"})  # a new session, as a reload opens
    assert not reload.exception, reload.exception
    assert reload.session_state[state.FOLLOW_OWN] is True
    bar = " ".join(t.value for t in reload.text)
    assert f"Exploring on your own: class {code} is at step 2 of 2." in bar
    assert "Following class" not in bar
    reload.button(key=state.FOLLOW_BACK).click().run()
    assert not reload.exception, reload.exception
    assert "Following class" in " ".join(t.value for t in reload.text)
    assert "own" not in reload.query_params


def test_an_open_question_hides_the_model_s_answer_until_the_reveal():
    store = ClassStore()
    teacher = secrets.token_hex(16)
    asked = Lesson(
        "Vote",
        (
            Step(
                title="Guess",
                view=View("", {**M, "image": "chelsea"}),
                question=Question("choice", "Which class?", ("tabby", "tiger cat", "Egyptian cat")),
            ),
        ),
    )
    code = store.open_class(asked, teacher)
    at = _student({"class": code})
    assert not at.exception, at.exception
    alts = [i.alt for el in at.get("image") for i in el.proto.imgs]
    assert not [h for h in at.header if "%" in h.value]  # no "label — 54.1%" heading
    assert not at.get("vega_lite_chart")  # no top-5 chart
    assert alts and not any("top guess" in a for a in alts), alts
    assert "hidden until your teacher reveals it" in " ".join(i.value for i in at.info)
    store.reveal(code, teacher)
    at.run()
    assert [h for h in at.header if "%" in h.value]
    assert at.get("vega_lite_chart")
