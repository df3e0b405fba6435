"""Issue 24, the teacher's side through AppTest: views added from the Share panel, the Lesson
page's edits (title, note, reorder, delete, a question), lesson files opened (bad ones get
sentences), a ready-made lesson, and a class started, moved and found again after a reload.

Every edit is checked in the class store itself (the draft lives there, under the browser's
owner token), not in the widgets that made it."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.lessons.format import Lesson, Question, Step, View, dump_lesson, parse_lesson, shipped_lessons
from cnnviz.lessons.store import ClassStore

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def token() -> str:
    return secrets.token_hex(16)  # a browser of its own: its own draft and classes


def _session(token: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["owner_token"] = token
    at.run()
    assert not at.exception, at.exception
    return at


def _draft(token: str) -> Lesson | None:
    return ClassStore().load_draft(token)  # $CNNVIZ_CLASSES: the file the app uses (tests/conftest.py)


def _button(at: AppTest, prefix: str, i: int | None = None):
    """The builder's button whose key is ``lesson_<prefix>_<revision>[_<i>]`` (keys carry the revision)."""
    found = [
        b
        for b in at.button
        if b.key and b.key.startswith(f"lesson_{prefix}_") and (i is None or b.key.endswith(f"_{i}"))
    ]
    assert len(found) == 1, [b.key for b in at.button]
    return found[0]


def _widget(elements, label: str, i: int):
    return [w for w in elements if w.label == label][i]


def _add_views(at: AppTest) -> None:
    for page, n in (("pages/convolution.py", 1), ("pages/home.py", 2)):
        at.switch_page(page).run()
        at.button(key="lesson_added").click().run()
        assert not at.exception, at.exception
        assert [s.value for s in at.success] == [f"Added as step {n} of your lesson (the Lesson page)."]


def test_views_added_from_two_pages_are_edited_reordered_and_deleted(token):
    at = _session(token)
    _add_views(at)
    lesson = _draft(token)
    assert [s.view.page for s in lesson.steps] == ["convolution", ""]
    assert lesson.steps[1].title == "Predict: grace_hopper"  # the page's title and its image
    assert lesson.steps[1].view.params == {
        "model": "efficientnet_lite0",
        "weights": "pretrained",
        "image": "grace_hopper",
    }
    assert lesson.steps[0].title.startswith("Convolution: ") and lesson.steps[0].view.params["kernel"]

    at.switch_page("pages/lesson.py").run()
    assert not at.exception and not at.error
    assert [w.value for w in at.text_input if w.label == "Title"] == [s.title for s in lesson.steps]
    _widget(at.text_input, "Title", 0).set_value("Slide a filter").run()
    _widget(at.text_area, "Note for the class (plain text)", 1).set_value(
        "Look at the top class.\n# not a heading"
    ).run()
    _widget(at.toggle, "Students keep their own photo", 1).set_value(True).run()
    assert not at.exception
    lesson = _draft(token)
    assert lesson.steps[0].title == "Slide a filter"
    assert lesson.steps[1].note == "Look at the top class.\n# not a heading" and lesson.steps[1].keep_own_photo

    _button(at, "down", 0).click().run()  # reorder: step 1 goes down
    lesson = _draft(token)
    assert [s.title for s in lesson.steps] == ["Predict: grace_hopper", "Slide a filter"]
    # the widgets follow the steps, not their old places
    assert [w.value for w in at.text_input if w.label == "Title"] == ["Predict: grace_hopper", "Slide a filter"]
    assert (
        _widget(at.text_area, "Note for the class (plain text)", 0).value == "Look at the top class.\n# not a heading"
    )

    _widget(at.radio, "Ask the class", 0).set_value("choice").run()  # a question on the Predict step
    _widget(at.text_input, "Question", 0).set_value("What will it say?").run()
    _widget(at.text_area, "Answers, one per line (2 to 6)", 0).set_value("military uniform\nsuit\n\nbow tie").run()
    assert not at.exception
    q = _draft(token).steps[0].question
    assert q == Question(kind="choice", prompt="What will it say?", options=("military uniform", "suit", "bow tie"))

    _widget(at.text_area, "Answers, one per line (2 to 6)", 0).set_value("only one").run()  # not a valid lesson
    assert _draft(token).steps[0].question == q  # not kept, and the page says why
    assert any("Not kept" in w.value and "2" in w.value for w in at.warning), [w.value for w in at.warning]

    _button(at, "del", 1).click().run()
    lesson = _draft(token)
    assert [s.title for s in lesson.steps] == ["Predict: grace_hopper"] and lesson.steps[0].question == q
    assert parse_lesson(dump_lesson(lesson)) == lesson
    assert not at.exception and not at.error

    _button(at, "go", 0).click().run()  # "Open": the step's view in this browser
    assert not at.exception
    assert dict(at.query_params) == lesson.steps[0].view.params
    assert any(h.value == "What does the network see?" for h in at.title)  # the Predict page


BAD_FILES = [
    (b"{not json", "JSON"),
    (json.dumps({"format": "cnnviz-lesson", "version": 1, "title": "T", "steps": []}).encode(), "step"),
    (
        json.dumps(
            {
                "format": "cnnviz-lesson",
                "version": 1,
                "title": "T",
                "steps": [{"title": "x", "view": {"page": "admin", "params": {}}}],
            }
        ).encode(),
        "admin",
    ),
]


def test_a_bad_lesson_file_gets_sentences_and_a_good_one_opens(token):
    at = _session(token)
    at.switch_page("pages/lesson.py").run()
    for data, phrase in BAD_FILES:
        at.file_uploader(key="lesson_upload").upload("bad.json", data, "application/json").run()
        assert not at.exception, at.exception
        (error,) = at.error
        assert error.value.startswith("bad\\.json is not a lesson this app can open:") and phrase in error.value
        assert "Traceback" not in error.value
    good = Lesson("A good one", (Step(title="one", view=View("filters", {"channel": "3"})),))
    at.file_uploader(key="lesson_upload").upload("good.json", dump_lesson(good), "application/json").run()
    assert not at.error
    _button(at, "open_file").click().run()
    assert _draft(token) == good
    assert [w.value for w in at.text_input if w.label == "Title"] == ["one"]


def test_a_ready_made_lesson_is_a_start(token):
    shipped = shipped_lessons()
    assert len(shipped) >= 4, list(shipped)
    at = _session(token)
    at.switch_page("pages/lesson.py").run()
    name = list(shipped)[1]
    at.selectbox(key="lesson_shipped").set_value(name).run()
    _button(at, "use_shipped").click().run()
    assert not at.exception
    assert _draft(token) == shipped[name]
    assert at.text_input[0].value == shipped[name].title


def test_a_class_starts_moves_and_is_found_again_after_a_reload(token):
    at = _session(token)
    _add_views(at)
    at.switch_page("pages/lesson.py").run()
    at.button(key="lesson_start").click().run()
    assert not at.exception, at.exception
    store = ClassStore()
    (cls,) = store.classes_of(token)
    assert cls.step == 0 and cls.lesson == _draft(token)
    assert at.session_state["lesson_teaching"] == cls.code
    # step 1's view opened, with the class's code and QR dialog over it
    assert at.query_params["kernel"] == cls.lesson.steps[0].view.params["kernel"]
    assert any(m.value.endswith(f"following  \nCode **{cls.code}**") for m in at.markdown)
    assert any(m.value == "Class code" for m in at.markdown)  # the dialog

    at.button(key="lesson_next").click().run()
    assert not at.exception
    assert store.state(cls.code).step == 1
    assert at.query_params["image"] == "grace_hopper" and "kernel" not in at.query_params  # the Predict view
    assert any(m.value.startswith("**Step 2 of 2: Predict") for m in at.markdown)
    assert at.button(key="lesson_next").disabled and not at.button(key="lesson_prev").disabled

    again = _session(token)  # a reload: a new session of the same browser
    assert again.session_state["lesson_teaching"] == cls.code
    assert any(m.value.startswith("**Step 2 of 2: Predict") for m in again.markdown)
    again.button(key="lesson_prev").click().run()
    assert store.state(cls.code).step == 0

    stranger = _session(secrets.token_hex(16))  # another browser teaches nothing
    assert stranger.session_state["lesson_teaching"] is None
    assert not any(b.key == "lesson_next" for b in stranger.button)

    again.button(key="lesson_end").click().run()
    assert not at.exception and store.classes_of(token) == []
    assert not any(b.key == "lesson_next" for b in again.button)
