"""Issue 24, the students' side through AppTest: a bad class code in a link gets one sentence,
a step that lets students keep their own photo keeps it (and the next step, which does not,
shows the teacher's), and the class's code stays in the follower's URL."""

from __future__ import annotations

import secrets
from pathlib import Path

from streamlit.testing.v1 import AppTest

from cnnviz.gallery import sample_bytes
from cnnviz.lessons.format import Lesson, Step, View
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
