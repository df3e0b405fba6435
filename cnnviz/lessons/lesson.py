"""A lesson in memory: its steps, their views and questions, and the limits a file must keep.

Plain frozen dataclasses (``cnnviz.lessons.format`` reads and writes them as JSON) and the
table of the app's pages and link parameters a view may name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from cnnviz.errors import CnnvizError

FORMAT, VERSION = "cnnviz-lesson", 1
MAX_BYTES = 256 * 1024
MAX_STEPS = 100
MAX_TITLE = 120  # a step's or the lesson's title: one line on the projector
MAX_NOTE = 2000  # what a teacher says at one step, not a chapter
MAX_PROMPT = 300
MAX_OPTION = 80
MAX_OPTIONS = 6
MAX_PARAMS = 20  # the busiest page keeps 7 parameters, plus the 5 global ones
MAX_PROBLEMS = 50  # a file wrong everywhere: the first ones are enough to act on
QUESTION_KINDS = ("choice", "click", "pick_image")
PICK_IMAGES = 4

# Every page's link parameters (README, "Links"): the url_path (as app.py's st.navigation
# names it; "" is Predict) -> the names its links.page(...) call declares. A unit test reads
# app.py and the pages and fails when this table is out of date.
PAGE_PARAMS: dict[str, tuple[str, ...]] = {
    "": (),
    "preprocessing": ("row", "col", "variant"),
    "network": ("layer", "channel", "row", "col", "norm"),
    "model": (),
    "features": ("layer", "channel", "row", "col", "sort", "norm"),
    "filters": ("layer", "mode", "channel", "norm"),
    "channel": ("layer", "channel"),
    "compare-models": ("a", "a_weights", "b", "b_weights", "depth"),
    "convolution": ("kernel", "size", "cells", "stride", "padding", "row", "col"),
    "activations": ("source", "function", "slope", "channel", "temperature"),
    "pooling": ("source", "layer", "channel", "kernel", "stride"),
    "train": (  # cnnviz/ui/train_widgets.py's form_params()
        "dataset",
        "size",
        "grey",
        "arch",
        "blocks",
        "width",
        "kernel",
        "act",
        "pool",
        "bn",
        "dropout",
        "flip",
        "rotate",
        "shift",
        "brightness",
        "epochs",
        "batch",
        "lr",
        "opt",
    ),
    "gradcam": ("layer", "target", "alpha", "cmap", "signed", "sweep"),
    "compare": ("target",),
    "adversarial": ("eps",),
}
# The sidebar's parameters, on every page (cnnviz/ui/links.py, GLOBAL_NAMES).
GLOBAL_PARAMS = ("model", "weights", "image", "present", "lock", "lang")
PAGES: tuple[str, ...] = tuple(PAGE_PARAMS)
# Pages of the app that a step may not show: the lesson builder itself, and Live (each
# student's own camera, not the lesson's image; a class pushed there would pass its cap).
NOT_VIEWS = ("lesson", "live")


class LessonError(CnnvizError):
    """A lesson that cannot be used; ``str(e)`` is one sentence, ``problems`` all of them."""

    def __init__(self, message: str, problems: tuple[str, ...] = ()):
        super().__init__(message)
        self.problems = problems or (message,)


@dataclass(frozen=True)
class View:
    """One view of the app, i.e. a link: a page's url_path ("" = Predict) and its query
    parameters, name -> value as text, exactly as in the URL."""

    page: str
    params: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "params", dict(self.params))


@dataclass(frozen=True)
class Question:
    """A question a step asks the class.

    ``kind``: "choice" (``options``: 2..6 answer labels), "click" (the student clicks the
    picture; ``options`` empty; answers are "x,y" in 0..1) or "pick_image" (``options``: 4
    images as the ``image=`` link value: a gallery name or ``upload:<sha256>``).
    """

    kind: Literal["choice", "click", "pick_image"]
    prompt: str
    options: tuple[str, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "options", tuple(self.options))


@dataclass(frozen=True, kw_only=True)
class Step:
    """One step: a view with a plain-text title and note, maybe a question (keywords only:
    ``note`` has a default and ``view`` not, so the contract's order cannot be positional)."""

    title: str
    note: str = ""
    view: View
    keep_own_photo: bool = False  # a follower with their own photo keeps it on this step
    question: Question | None = None


@dataclass(frozen=True)
class Lesson:
    title: str
    steps: tuple[Step, ...]

    def __post_init__(self):
        object.__setattr__(self, "steps", tuple(self.steps))
