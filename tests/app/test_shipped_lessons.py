"""Issue 24: the four shipped lessons open, step by step, as a follower's browser opens them.

Each lesson is walked in one session (a follower's), every step's view opened as a link to
its page: no exception, no "Part of this link could not be used" message, and the view the
page writes back to the URL holds every parameter of the step with the same value (so no
layer, channel or class was reset for this model). Offline: EfficientNet-Lite0 and the
gallery photos.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.lessons.format import shipped_lessons
from testing.helpers import nav_pages

APP = str(Path(__file__).resolve().parents[2] / "app.py")
FILES = {url: file for (file, _), (url, _) in zip(nav_pages(), nav_pages(url=True), strict=True)}
LESSONS = shipped_lessons()


def test_the_four_lessons_of_the_issue_ship_each_with_a_question():
    assert set(LESSONS) == {
        "What a convolution does",
        "Inside a CNN, from the input to the classes",
        "Why the network said it",
        "Fooling the network",
    }
    for title, lesson in LESSONS.items():
        assert 4 <= len(lesson.steps) <= 8, title
        assert any(s.question for s in lesson.steps), title
        for s in lesson.steps:
            assert s.view.params.get("model") == "efficientnet_lite0", (title, s.title)  # offline
            assert "image" in s.view.params, (title, s.title)  # every follower sees the same photo
    kinds = {s.question.kind for lesson in LESSONS.values() for s in lesson.steps if s.question}
    assert kinds == {"choice", "click", "pick_image"}


def test_a_parameter_set_on_a_page_is_set_on_each_of_its_steps():
    """A follower's session keeps what the last link set: a Grad-CAM step without ``alpha``
    after one with ``alpha=0`` would show its map hidden too. The class (``target``) is left
    out: the page goes back to the top class for a new photo (a student's own, say)."""
    for title, lesson in LESSONS.items():
        for page in {s.view.page for s in lesson.steps}:
            steps = [s for s in lesson.steps if s.view.page == page]
            names = set().union(*(s.view.params for s in steps)) - {"target"}
            for s in steps:
                assert names <= set(s.view.params), (title, s.title, names - set(s.view.params))


@pytest.mark.parametrize("title", sorted(LESSONS))
def test_every_step_opens_without_a_link_problem(title):
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    assert not at.exception, at.exception
    for n, step in enumerate(LESSONS[title].steps, 1):
        at.query_params.clear()
        at.query_params.update(step.view.params)
        at.switch_page(FILES[step.view.page]).run()
        where = f"{title}, step {n} ({step.title})"
        assert not at.exception, (where, at.exception)
        problems = [w.value for w in at.warning if "link" in w.value]
        assert not problems, (where, problems)
        shown = {k: at.query_params.get(k) for k in step.view.params}
        assert shown == dict(step.view.params), where
