"""The shipped lessons' words reach the catalogue: Babel's extraction method for lesson files."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from cnnviz import i18n
from cnnviz.lessons import extract as X
from cnnviz.lessons.format import SHIPPED, parse_lesson

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted(SHIPPED.glob("*.json"))
METHOD = "cnnviz.lessons.extract:extract_lessons"


def _texts(path: Path) -> list[str]:
    """What a reader of the lesson sees, read through the app's own parser (not the extractor's walk)."""
    lesson = parse_lesson(path.read_bytes())
    out = [lesson.title]
    for step in lesson.steps:
        out += [step.title] + ([step.note] if step.note else [])
        q = step.question
        if q is not None:
            out.append(q.prompt)
            if q.kind == "choice":
                out += list(q.options)
    return out


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_shipped_text_is_extracted_in_order_at_its_line(path):
    found = list(extract(METHOD, io.BytesIO(path.read_bytes())))
    assert [m for _line, m, _notes, _ctx in found] == _texts(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    for lineno, message, notes, _ctx in found:
        assert json.dumps(message, ensure_ascii=False)[:60] in lines[lineno - 1]
        assert notes  # each message says to the translator what it is


def test_picture_options_are_keys_and_class_names_say_so():
    """A pick_image question's options are gallery names (never words); a choice's are extracted with a note."""
    lesson = {
        "title": "T",
        "steps": [
            {"title": "A", "question": {"kind": "pick_image", "prompt": "Which?", "options": ["chelsea", "coffee"]}},
            {
                "title": "B",
                "note": "",
                "question": {"kind": "choice", "prompt": "Class?", "options": ["moped", "tabby"]},
            },
        ],
    }
    got = list(X.extract_lessons(io.BytesIO(json.dumps(lesson).encode()), (), (), {}))
    assert [m for _l, _f, m, _n in got] == ["T", "A", "Which?", "B", "Class?", "moped", "tabby"]
    assert got[-1][3] == [X.CLASS_NAME_NOTE]


def test_babel_cfg_sends_the_shipped_lessons_to_the_method():
    """Through babel.cfg, as ``pybabel extract -F babel.cfg`` reads it: every shipped text, none twice
    from another method (the [extractors] name: a module:function in a section name would be split)."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    assert ("cnnviz/lessons/shipped/*.json", METHOD) in method_map
    found = {
        m
        for name, _l, m, _c, _x in extract_from_dir(ROOT, method_map, options_map, keywords=DEFAULT_KEYWORDS)
        if name.startswith("cnnviz/lessons/shipped/")
    }
    assert found == {t for p in FILES for t in _texts(p)}


@pytest.mark.parametrize("lang", ["es", "de"])
def test_a_shipped_lesson_reads_in_each_language(lang):
    """Each shipped title and note is translated (a class name as it is); English stays the file's."""
    texts = {t for p in FILES for t in _texts(p)}
    names = {o for p in FILES for s in parse_lesson(p.read_bytes()).steps if s.question for o in s.question.options}
    with i18n.use(lang):
        same = sorted(t for t in texts - names if i18n._(t) == t)
        assert not same, f"{len(same)} shipped texts untranslated in {lang}: {same[:3]}"
        assert all(i18n._(n) == n for n in names)
    assert all(i18n._(t) == t for t in texts)  # no language chosen: the file's own English
