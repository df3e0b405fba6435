"""The lesson file: a small JSON document (docs/LESSONS.md), read and checked here.

A lesson file comes from anyone (a colleague's email, a USB stick): everything in it is
untrusted text. ``lesson_problems`` lists every problem as one sentence (the CLI prints
them, the app shows them), without repeating a value that could be long or hostile
(``cnnviz.lessons.links.shown``). A view may only name a page of this app and the parameters that
page keeps in its links (``PAGE_PARAMS``, pinned against the pages by a test); the values
are checked as text here and by the page's own link parser when the step is opened, as
any link's are.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

from cnnviz.i18n import _, ngettext, pgettext
from cnnviz.inputs.gallery import SAMPLES
from cnnviz.lessons import links
from cnnviz.lessons.checker import Check, bad_char, count
from cnnviz.lessons.lesson import (
    FORMAT,
    GLOBAL_PARAMS,
    MAX_BYTES,
    MAX_NOTE,
    MAX_OPTION,
    MAX_OPTIONS,
    MAX_PARAMS,
    MAX_PROBLEMS,
    MAX_PROMPT,
    MAX_STEPS,
    MAX_TITLE,
    NOT_VIEWS,
    PAGE_PARAMS,
    PAGES,
    PICK_IMAGES,
    QUESTION_KINDS,
    VERSION,
    Lesson,
    LessonError,
    Question,
    Step,
    View,
)

__all__ = [  # the dataclasses and limits of cnnviz.lessons.lesson, read and written here
    "FORMAT",
    "GLOBAL_PARAMS",
    "MAX_BYTES",
    "MAX_STEPS",
    "NOT_VIEWS",
    "PAGES",
    "PAGE_PARAMS",
    "Lesson",
    "LessonError",
    "Question",
    "Step",
    "VERSION",
    "View",
    "dump_lesson",
    "lesson_problems",
    "parse_lesson",
    "shipped_lessons",
    "too_large",
]

_PAGE_LIST = ", ".join(p or '""' for p in PAGES)

_STEP_KEYS = ("title", "note", "view", "keep_own_photo", "question")
_TOP_KEYS = ("format", "version", "title", "steps")


def _image(chk: Check, where: str, raw: str) -> str:
    """An image reference as the ``image=`` link value ("gallery:" in front is allowed)."""
    if not isinstance(raw, str):
        chk.add(where, _("an image must be named as text (a gallery name, or upload: and its SHA-256)"))
        return ""
    try:
        kind, name = links.image_ref(raw.removeprefix("gallery:"), SAMPLES)
    except links.LinkValueError as e:
        chk.add(where, str(e))
        return ""
    return name if kind == "gallery" else links.UPLOAD_PREFIX + name


def _view(chk: Check, where: str, obj: object) -> View | None:
    if not isinstance(obj, dict):
        chk.add(where, _('the view must be an object with "page" and "params"'))
        return None
    chk.keys(where, obj, ("page", "params"))
    page, params = obj.get("page"), obj.get("params", {})
    if page not in PAGES:
        shown = links.shown(page) if isinstance(page, str) else pgettext("a page name not shown", "that")
        chk.add(
            where,
            _("{page} is not a page of this app (a view names one of: {pages})").format(page=shown, pages=_PAGE_LIST),
        )
        return None
    if not isinstance(params, dict):
        chk.add(where, _("the view's params must be an object of name: text pairs"))
        return None
    if len(params) > MAX_PARAMS:
        has = ngettext(
            "the view has {n} parameter; at most {limit} are allowed",
            "the view has {n} parameters; at most {limit} are allowed",
            len(params),
        )
        chk.add(where, has.format(n=count(len(params)), limit=MAX_PARAMS))
        return None
    allowed = GLOBAL_PARAMS + PAGE_PARAMS[page]
    ok = {}
    for name, value in params.items():
        page_name = _("the page {page}").format(page=links.shown(page)) if page else _("the Predict page")
        if name not in allowed:
            chk.add(where, _("{page} has no link parameter {name}").format(page=page_name, name=links.shown(name)))
        elif not isinstance(value, str):
            chk.add(where, _("the value of {name} must be text, as in a link").format(name=name))
        elif len(value) > links.MAX_VALUE_LEN or any(bad_char(c, False) for c in value) or not value.strip():
            chk.add(where, _("the value of {name} is empty, too long or has control characters").format(name=name))
        elif name == "image":
            ok[name] = _image(chk, where, value) or value
        else:
            ok[name] = value
    return View(page, ok)


def _question(chk: Check, where: str, obj: object) -> Question | None:
    if obj is None:
        return None
    if not isinstance(obj, dict):
        chk.add(where, _('the question must be an object with "kind", "prompt" and "options"'))
        return None
    chk.keys(where, obj, ("kind", "prompt", "options"))
    kind = obj.get("kind")
    if kind not in QUESTION_KINDS:
        chk.add(where, _("the question's kind must be one of {kinds}").format(kinds=", ".join(QUESTION_KINDS)))
        return None
    prompt = chk.text(where, "question's prompt", obj.get("prompt"), MAX_PROMPT, lines=True)
    options = obj.get("options", [])
    if not isinstance(options, list):
        chk.add(where, _("the question's options must be a list"))
        return None
    want = {"choice": (2, MAX_OPTIONS), "click": (0, 0), "pick_image": (PICK_IMAGES, PICK_IMAGES)}[kind]
    if not want[0] <= len(options) <= want[1]:
        if want[0] != want[1]:
            why = _("a {kind} question has {low} to {high} options, not {n}")
        else:
            why = _("a {kind} question has {low} options, not {n}")
        chk.add(where, why.format(kind=kind, low=want[0], high=want[1], n=len(options)))
        return None
    if kind == "choice":
        opts = [chk.text(where, "option", o, MAX_OPTION) for o in options]
    else:
        opts = [_image(chk, where, o) for o in options]
    if len(set(opts)) < len(opts) and all(opts):
        chk.add(where, _("the question's options must differ from one another"))
    return Question(kind, prompt, tuple(opts))


def _step(chk: Check, n: int, obj: object) -> Step | None:
    where = _("Step {n}").format(n=n)
    if not isinstance(obj, dict):
        chk.add(where, _("a step must be an object with a title and a view"))
        return None
    chk.keys(where, obj, _STEP_KEYS)
    title = chk.text(where, "title", obj.get("title"), MAX_TITLE)
    note = chk.text(where, "note", obj.get("note", ""), MAX_NOTE, lines=True, empty=True)
    view = _view(chk, where, obj.get("view"))
    keep = obj.get("keep_own_photo", False)
    if not isinstance(keep, bool):
        chk.add(where, _("keep_own_photo must be true or false"))
    question = _question(chk, where, obj.get("question"))
    if view is None:
        return None
    return Step(title=title, note=note, view=view, keep_own_photo=keep is True, question=question)


def too_large(size: int) -> str:
    """The sentence for a lesson file over ``MAX_BYTES``.

    Args:
        size: the file's size in bytes.

    Returns:
        One translated sentence with its size (in KB, rounded up) and the limit in KB.
    """
    return _("The file has {size} KB; a lesson file may have at most {limit} KB.").format(
        size=count(-(-size // 1024)), limit=MAX_BYTES // 1024
    )


def _decode(chk: Check, data: bytes) -> object:
    if not isinstance(data, bytes | bytearray):
        chk.problems.append(_("The file must be given as bytes."))
        return None
    if len(data) > MAX_BYTES:
        chk.problems.append(too_large(len(data)))
        return None
    try:
        text = bytes(data).decode("utf-8-sig")
    except UnicodeDecodeError:
        chk.problems.append(_("The file is not text (UTF-8), so it is not a lesson file."))
        return None
    if "\x00" in text:
        chk.problems.append(_("The file has NUL characters, so it is not a lesson file."))
        return None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as e:  # its msg is the decoder's own fixed words, never the file's text
        chk.problems.append(
            _("The file is not valid JSON ({why} at line {line}, column {column}).").format(
                why=e.msg, line=e.lineno, column=e.colno
            )
        )
    except (ValueError, RecursionError):
        chk.problems.append(_("The file is not a lesson's JSON (nested too deeply, or NaN/Infinity)."))
    return None


def _no_constant(name: str):
    raise ValueError(name)


def _lesson(data: bytes) -> tuple[Lesson | None, list[str]]:
    chk = Check()
    obj = _decode(chk, data)
    if chk.problems:
        return None, chk.problems
    where = _("The lesson")
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        chk.problems.append(
            _('The file is not a CNN Explorer lesson (its "format" must be "{format}").').format(format=FORMAT)
        )
        return None, chk.problems
    chk.keys(where, obj, _TOP_KEYS)
    if obj.get("version") != VERSION:
        chk.add(where, _("its version must be {v} (this app reads version {v} lesson files)").format(v=VERSION))
    title = chk.text(where, "title", obj.get("title"), MAX_TITLE)
    steps = obj.get("steps")
    if not isinstance(steps, list) or not steps:
        chk.add(where, _("it needs a list of at least one step"))
        return None, chk.problems
    if len(steps) > MAX_STEPS:
        chk.add(where, _("it has {n} steps; at most {limit} are allowed").format(n=count(len(steps)), limit=MAX_STEPS))
        return None, chk.problems
    parsed = [_step(chk, i + 1, s) for i, s in enumerate(steps)]
    if chk.problems:
        return None, chk.problems
    return Lesson(title, tuple(parsed)), []


def lesson_problems(data: bytes) -> list[str]:
    """Every problem of a lesson file, one sentence each.

    Args:
        data: the file's bytes.

    Returns:
        At most ``MAX_PROBLEMS`` sentences, then one saying how many more there are;
        [] for a valid lesson.
    """
    problems = _lesson(data)[1]
    if len(problems) > MAX_PROBLEMS:
        more = len(problems) - MAX_PROBLEMS
        more_text = ngettext("… and {n} more problem.", "… and {n} more problems.", more).format(n=count(more))
        problems = problems[:MAX_PROBLEMS] + [more_text]
    return problems


def parse_lesson(data: bytes) -> Lesson:
    """The lesson in a file's bytes.

    Args:
        data: the file's bytes.

    Returns:
        The :class:`Lesson`.

    Raises:
        LessonError: not a valid lesson file; its message is the first problem and how many
            more there are, its ``.problems`` holds them all.
    """
    lesson, problems = _lesson(data)
    if lesson is None:
        if len(problems) > 1:
            n = len(problems) - 1
            more = ngettext("{problem} (and {n} more problem).", "{problem} (and {n} more problems).", n)
            raise LessonError(more.format(problem=problems[0].rstrip("."), n=count(n)), tuple(problems))
        raise LessonError(problems[0], tuple(problems))
    return lesson


def _step_json(s: Step) -> dict:
    out = {"title": s.title, "note": s.note, "view": {"page": s.view.page, "params": dict(s.view.params)}}
    out["keep_own_photo"] = s.keep_own_photo
    if s.question is not None:
        q = s.question
        out["question"] = {"kind": q.kind, "prompt": q.prompt, "options": list(q.options)}
    return out


def dump_lesson(lesson: Lesson) -> bytes:
    """The lesson as its JSON file.

    It does not check limits: ``lesson_problems(dump_lesson(lesson))`` does.

    Args:
        lesson: the lesson to write.

    Returns:
        The file's bytes: UTF-8, indented, ending in a newline; ``parse_lesson`` reads it
        back equal.
    """
    obj = {"format": FORMAT, "version": VERSION, "title": lesson.title, "steps": [_step_json(s) for s in lesson.steps]}
    return json.dumps(obj, ensure_ascii=False, indent=2).encode("utf-8") + b"\n"


SHIPPED = Path(__file__).parent / "shipped"


@functools.cache
def _shipped() -> tuple[tuple[str, Lesson], ...]:
    out = []
    for path in sorted(SHIPPED.glob("*.json")):
        lesson = parse_lesson(path.read_bytes())  # a shipped file that does not parse is a bug: tests load them all
        out.append((lesson.title, lesson))
    return tuple(out)


def shipped_lessons() -> dict[str, Lesson]:
    """The lessons the project ships (``cnnviz/lessons/shipped/*.json``).

    Returns:
        Title -> lesson, in the files' name order.
    """
    return dict(_shipped())
