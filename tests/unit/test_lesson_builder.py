"""Issue 24: the lesson builder's edits (cnnviz.lessons.builder), each checked by hand, and each
result a lesson the file format takes back unchanged."""

from __future__ import annotations

import pytest

from cnnviz.inputs.gallery import SAMPLES
from cnnviz.lessons import builder
from cnnviz.lessons.format import Lesson, Step, View, dump_lesson, parse_lesson


def _lesson(*titles: str) -> Lesson:
    return Lesson("L", tuple(Step(title=t, view=View("features", {"channel": str(i)})) for i, t in enumerate(titles)))


def _titles(lesson: Lesson) -> list[str]:
    return [s.title for s in lesson.steps]


@pytest.mark.parametrize(
    ("page", "params", "title"),
    [
        (
            "Feature maps",
            {"model": "m", "image": "chelsea", "layer": "blocks.3", "channel": "12"},
            "Feature maps: blocks.3, channel 12",
        ),
        ("Grad-CAM", {"image": "chelsea", "layer": "head.act", "target": "282"}, "Grad-CAM: head.act, class 282"),
        ("Convolution", {"kernel": "Sobel x", "stride": "1"}, "Convolution: Sobel x kernel"),
        ("Fool the network", {"eps": "4"}, "Fool the network: ε 4/255"),
        ("Predict", {"model": "m", "image": "chelsea"}, "Predict: chelsea"),
        ("Predict", {"image": "upload:" + "ab" * 32}, "Predict: your photo"),
        ("Model", {"model": "m"}, "Model"),
    ],
)
def test_a_default_title_names_the_page_and_its_main_choices(page, params, title):
    assert builder.step_title(page, params) == title


def test_a_default_title_is_cut_to_the_formats_limit():
    title = builder.step_title("Feature maps", {"layer": "x" * 300})
    assert len(title) == 120 and title.endswith("…") and title.startswith("Feature maps: xxx")


def test_a_view_leaves_the_presenters_screen_out():
    view = builder.view_of("features", {"model": "m", "channel": "3", "present": "1", "lock": "1"})
    assert view == View("features", {"model": "m", "channel": "3"})


def test_steps_move_within_the_ends_and_the_original_stays():
    lesson = _lesson("a", "b", "c", "d")
    assert _titles(builder.move_step(lesson, 2, -1)) == ["a", "c", "b", "d"]
    assert _titles(builder.move_step(lesson, 0, 1)) == ["b", "a", "c", "d"]
    assert _titles(builder.move_step(lesson, 0, -1)) == ["a", "b", "c", "d"]  # already first
    assert _titles(builder.move_step(lesson, 3, 5)) == ["a", "b", "c", "d"]  # already last
    assert _titles(lesson) == ["a", "b", "c", "d"]


def test_steps_are_added_deleted_and_edited():
    lesson = _lesson("a", "b", "c")
    assert _titles(builder.delete_step(lesson, 1)) == ["a", "c"]
    assert _titles(builder.delete_step(lesson, 2)) == ["a", "b"]
    added = builder.add_step(lesson, Step(title="d", view=View("", {})))
    assert _titles(added) == ["a", "b", "c", "d"] and added.steps[3].view.page == ""
    edited = builder.edit_step(lesson, 1, note="look here", keep_own_photo=True)
    assert edited.steps[1] == Step(title="b", note="look here", keep_own_photo=True, view=lesson.steps[1].view)
    assert edited.steps[0] is lesson.steps[0] and lesson.steps[1].note == ""


@pytest.mark.parametrize("kind", ["choice", "click", "pick_image"])
def test_a_default_question_is_valid_and_round_trips(kind):
    gallery = list(SAMPLES)
    own = gallery[3]
    step = Step(title="s", view=View("", {"image": own}))
    q = builder.default_question(kind, step, gallery)
    assert q.kind == kind and q.prompt
    if kind == "choice":
        assert q.options == ("Answer 1", "Answer 2")
    elif kind == "pick_image":  # the step's own picture first, then the gallery's first others
        assert q.options == (own, *[g for g in gallery if g != own][:3])
    else:
        assert q.options == ()
    lesson = builder.edit_step(Lesson("L", (step,)), 0, question=q)
    assert parse_lesson(dump_lesson(lesson)) == lesson


@pytest.mark.parametrize(
    ("title", "name"),
    [("Inside a CNN: input → classes", "inside-a-cnn-input-classes.json"), ("", "lesson.json"), ("???", "lesson.json")],
)
def test_a_lesson_file_is_named_after_its_title(title, name):
    assert builder.file_name(title) == name
