"""Issue 24: the lesson file. Round trips, every bad file of the catalogue gets its sentence,
and the table of pages and parameters a view may name is read back from app.py and the
pages themselves (so it cannot go stale)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from cnnviz.lessons import format as lf
from cnnviz.lessons.format import Lesson, LessonError, Question, Step, View
from cnnviz.ui import train_widgets
from testing.catalogue import BAD_LESSONS, lesson_json
from testing.helpers import nav_pages

ROOT = Path(__file__).resolve().parents[2]


def _calls(tree: ast.AST, attr: str, owner: str) -> list[ast.Call]:
    return [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == attr
        and isinstance(n.func.value, ast.Name)
        and n.func.value.id == owner
    ]


def app_pages() -> dict[str, str]:
    """url_path -> page file, from the menu's st.Page(...) calls ("" for the default page)."""
    return {url: file for (file, _), (url, _) in zip(nav_pages(), nav_pages(url=True), strict=True)}


def declared_params(page_file: str) -> tuple[str, ...]:
    """The parameter names a page's links.page(...) call declares."""
    tree = ast.parse((ROOT / page_file).read_text())
    (call,) = _calls(tree, "page", "links")
    names: list[str] = []
    for k in call.keywords:
        if k.arg is not None:
            names.append(k.arg)
        else:  # links.page(**tw.form_params()): the Train form's parameters, from that function
            assert ast.unparse(k.value) == "tw.form_params()", ast.unparse(k.value)
            names += list(train_widgets.form_params())
    return tuple(names)


def test_pages_are_the_apps_pages_less_the_lesson_builder():
    paths = app_pages()
    assert len(paths) >= 15
    assert set(lf.PAGES) == set(paths) - set(lf.NOT_VIEWS)


@pytest.mark.parametrize("path", sorted(lf.PAGE_PARAMS))
def test_each_pages_parameters_are_what_the_page_declares(path):
    assert lf.PAGE_PARAMS[path] == declared_params(app_pages()[path])


def test_global_parameters_are_the_sidebars():
    tree = ast.parse((ROOT / "cnnviz/ui/links.py").read_text())
    (names,) = [
        ast.literal_eval(n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Assign) and any(getattr(t, "id", None) == "GLOBAL_NAMES" for t in n.targets)
    ]
    assert names == lf.GLOBAL_PARAMS


def _lesson() -> Lesson:
    return Lesson(
        "Why the network said it — «é» 猫",
        (
            Step(title="Predict", note="Line one.\nLine two <b>not bold</b> *not italic*", view=View("", {})),
            Step(
                title="Where it looked",
                view=View("gradcam", {"model": "efficientnet_lite0", "image": "chelsea", "layer": "blocks.6"}),
                keep_own_photo=True,
                question=Question("click", "Click the part that mattered most."),
            ),
            Step(
                title="Which one?",
                view=View("channel", {"layer": "blocks.2", "channel": "5"}),
                question=Question("pick_image", "Which excites it most?", ("chelsea", "coffee", "rocket", "astronaut")),
            ),
            Step(title="Guess", view=View(""), question=Question("choice", "Which class?", ("tabby", "tiger cat"))),
        ),
    )


def test_dump_then_parse_gives_the_same_lesson_and_the_documented_fields():
    lesson = _lesson()
    data = lf.dump_lesson(lesson)
    assert lf.parse_lesson(data) == lesson
    assert lf.lesson_problems(data) == []
    doc = json.loads(data)
    assert list(doc) == ["format", "version", "title", "steps"]
    assert (doc["format"], doc["version"]) == ("cnnviz-lesson", 1)
    assert doc["steps"][1] == {
        "title": "Where it looked",
        "note": "",
        "view": {"page": "gradcam", "params": {"model": "efficientnet_lite0", "image": "chelsea", "layer": "blocks.6"}},
        "keep_own_photo": True,
        "question": {"kind": "click", "prompt": "Click the part that mattered most.", "options": []},
    }
    assert "question" not in doc["steps"][0]  # no question: the field is left out


def test_optional_fields_take_their_defaults():
    lesson = lf.parse_lesson(lesson_json(steps=[{"title": "Only", "view": {"page": "model"}}]))
    assert lesson.steps == (Step(title="Only", view=View("model", {})),)
    assert lesson.steps[0].note == "" and lesson.steps[0].question is None and not lesson.steps[0].keep_own_photo


def test_a_gallery_prefix_on_an_image_is_the_plain_link_value():
    data = lesson_json(
        steps=[
            {
                "title": "t",
                "view": {"page": "", "params": {"image": "gallery:chelsea"}},
                "question": {
                    "kind": "pick_image",
                    "prompt": "p",
                    "options": ["gallery:coffee", "rocket", "retina", "upload:" + "ab" * 32],
                },
            }
        ]
    )
    step = lf.parse_lesson(data).steps[0]
    assert step.view.params == {"image": "chelsea"}
    assert step.question.options == ("coffee", "rocket", "retina", "upload:" + "ab" * 32)


@pytest.mark.parametrize("case", list(BAD_LESSONS))
def test_every_bad_lesson_file_gets_one_sentence(case):
    data, words = BAD_LESSONS[case]
    problems = lf.lesson_problems(data)
    assert len(problems) == 1, problems
    (p,) = problems
    assert words in p, (words, p)
    assert p.endswith(".") and "\n" not in p and "Traceback" not in p
    assert "<" not in p and "script" not in p  # nothing of the file's markup is repeated
    with pytest.raises(LessonError) as e:
        lf.parse_lesson(data)
    assert str(e.value) == p and e.value.problems == (p,)


def test_several_problems_each_get_a_sentence_and_the_error_counts_them():
    steps = [
        {"title": "", "view": {"page": "gradcam", "params": {"bogus": "1"}}},
        {"title": "ok", "note": 5, "view": {"page": "nowhere"}},
    ]
    problems = lf.lesson_problems(lesson_json(title="x" * 500, steps=steps))
    assert problems == [
        "The lesson: the title has 500 characters; at most 120 are allowed.",
        "Step 1: the title is empty.",
        "Step 1: the page `gradcam` has no link parameter `bogus`.",
        "Step 2: the note must be text.",
        f"Step 2: `nowhere` is not a page of this app (a view names one of: {lf._PAGE_LIST}).",
    ]
    with pytest.raises(
        LessonError,
        match=r"^The lesson: the title has 500 characters; at most 120 are allowed \(and 4 more problems\)\.$",
    ):
        lf.parse_lesson(lesson_json(title="x" * 500, steps=steps))


def test_a_file_wrong_everywhere_lists_fifty_problems_then_a_count():
    steps = [{"title": "", "view": {"page": "", "params": {}}}] * 100
    problems = lf.lesson_problems(lesson_json(steps=steps))
    assert len(problems) == 51
    assert problems[49] == "Step 50: the title is empty."
    assert problems[50] == "… and 50 more problems."


def test_limits_are_inclusive():
    ok = lesson_json(
        title="T" * 120,
        steps=[{"title": "s" * 120, "note": "n" * 2000, "view": {"page": "features", "params": {"layer": "l" * 200}}}]
        * 100,
    )
    assert len(ok) < lf.MAX_BYTES
    assert lf.lesson_problems(ok) == []


def test_the_example_in_the_docs_is_a_valid_lesson():
    text = (ROOT / "docs/LESSONS.md").read_text()
    example = text.split("```json\n", 1)[1].split("```", 1)[0]
    lesson = lf.parse_lesson(example.encode())
    assert [s.question.kind for s in lesson.steps] == ["choice", "click"]
    documented = text.split("The page parameters a view may name", 1)[1]
    for page, names in lf.PAGE_PARAMS.items():
        for name in names:
            assert f"`{name}`" in documented, (page, name)
