"""The lesson builder's edits: a view made a step, its default title, steps moved, changed, deleted.

Pure functions on :mod:`cnnviz.lessons.format`'s frozen dataclasses: each returns a new
``Lesson`` and leaves its argument as it was. The Lesson page (``pages/lesson.py``) and the
Share panel's "Add this view to the lesson" call them; nothing here knows Streamlit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from cnnviz.i18n import N_, _
from cnnviz.lessons.format import MAX_TITLE, PICK_IMAGES, Lesson, Question, Step, View

# Parameters that describe the presenter's screen, not the view: a student who follows a step
# must not be put into presenter mode or locked, nor into the teacher's language (a
# follower reads the class in their own).
SCREEN_PARAMS = ("present", "lock", "lang")
# A view's main choices, most telling first: what a default title names (in the teacher's
# language: a title made here is the teacher's own text once saved).
_MAIN = (
    ("layer", "{value}"),
    ("channel", N_("channel {value}")),
    ("target", N_("class {value}")),
    ("kernel", N_("{value} kernel")),
    ("function", "{value}"),
    ("eps", "ε {value}/255"),
)
# What a new question asks and offers until the teacher rewrites it. Saved in English, as
# message ids: each reader sees them in their own language, as a shipped lesson's words.
DEFAULT_PROMPTS = {
    "choice": N_("Which class will the network predict?"),
    "click": N_("Click the part of the image that mattered most."),
    "pick_image": N_("Which of these 4 images excites this channel most?"),
}
DEFAULT_ANSWERS = (N_("Answer 1"), N_("Answer 2"))


def view_of(page: str, params: Mapping[str, str]) -> View:
    """The view a step opens: ``page``'s url path and the link's parameters less the screen's own.

    Args:
        page: the page's url path ("" for Predict).
        params: the view's query parameters (``links.current_params()``).
    Returns:
        A View whose params hold str values only.
    """
    return View(page=page, params={k: str(v) for k, v in params.items() if k not in SCREEN_PARAMS})


def step_title(page_title: str, params: Mapping[str, str]) -> str:
    """A step's default title: the page's title and the view's main choices.

    ``("Feature maps", {"layer": "blocks.3", "channel": "12"})`` → ``"Feature maps: blocks.3,
    channel 12"``; a page with none of those choices names its image (``"Predict: chelsea"``,
    an uploaded photo as "your photo"); else the page's title alone.

    Args:
        page_title: the page's title.
        params: the view's link parameters.

    Returns:
        The title, at most ``MAX_TITLE`` characters.
    """
    parts = [_(fmt).format(value=params[name]) for name, fmt in _MAIN if params.get(name)]
    if not parts and params.get("image"):
        image = params["image"]
        parts = [_("your photo") if image.startswith("upload:") else image]
    title = f"{page_title}: {', '.join(parts)}" if parts else page_title
    return title if len(title) <= MAX_TITLE else title[: MAX_TITLE - 1] + "…"


def add_step(lesson: Lesson, step: Step) -> Lesson:
    """A lesson with one more step.

    Args:
        lesson: the lesson (not changed: lessons are immutable).
        step: the step to append.

    Returns:
        The new Lesson.
    """
    return replace(lesson, steps=(*lesson.steps, step))


def move_step(lesson: Lesson, index: int, delta: int) -> Lesson:
    """A lesson with one step moved.

    Args:
        lesson: the lesson (not changed: lessons are immutable).
        index: the step's position.
        delta: places to move it (clamped to the ends).

    Returns:
        The new Lesson.
    """
    steps = list(lesson.steps)
    to = max(0, min(len(steps) - 1, index + delta))
    steps.insert(to, steps.pop(index))
    return replace(lesson, steps=tuple(steps))


def delete_step(lesson: Lesson, index: int) -> Lesson:
    """A lesson without one step.

    Args:
        lesson: the lesson (not changed: lessons are immutable).
        index: the step's position.

    Returns:
        The new Lesson.
    """
    return replace(lesson, steps=lesson.steps[:index] + lesson.steps[index + 1 :])


def edit_step(lesson: Lesson, index: int, **changes) -> Lesson:
    """A lesson with one step's fields replaced.

    Args:
        lesson: the lesson (not changed: lessons are immutable).
        index: the step's position.
        **changes: ``title=``, ``note=``, ``keep_own_photo=``, ``question=``.

    Returns:
        The new Lesson.
    """
    steps = list(lesson.steps)
    steps[index] = replace(steps[index], **changes)
    return replace(lesson, steps=tuple(steps))


def default_question(kind: str, step: Step, gallery: list[str]) -> Question:
    """A question to start editing from, suited to a step's view.

    Args:
        kind: "choice" (two answers to rewrite; a draft is kept only while it is a valid
            lesson), "click" (none), or "pick_image" (the step's own gallery image first, when
            it has one, then the gallery's first others, ``PICK_IMAGES`` in all).
        step: the step.
        gallery: the gallery's image names.

    Returns:
        The Question.
    """
    options: tuple[str, ...] = ()
    if kind == "choice":
        options = DEFAULT_ANSWERS
    elif kind == "pick_image":
        own = step.view.params.get("image", "")
        first = [own] if own in gallery else []
        options = tuple((first + [g for g in gallery if g != own])[:PICK_IMAGES])
    return Question(kind=kind, prompt=DEFAULT_PROMPTS[kind], options=options)


def file_name(title: str) -> str:
    """A file name for a lesson: its title's letters and digits joined by "-", ".json".

    Args:
        title: the lesson's title.

    Returns:
        The file name ("lesson.json" for a title without letters or digits).
    """
    words = "".join(c.lower() if c.isalnum() else " " for c in title).split()
    return ("-".join(words)[:60].strip("-") or "lesson") + ".json"
