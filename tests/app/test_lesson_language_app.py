"""A class in several languages through AppTest: each follower reads a ready-made lesson's
step in their own language (the link's lang=), whatever the teacher's; a teacher's own text
reads as typed in every language."""

from __future__ import annotations

import secrets
from pathlib import Path

from streamlit.testing.v1 import AppTest

from cnnviz.lessons.format import Lesson, Step, View, shipped_lessons
from cnnviz.lessons.store import ClassStore
from cnnviz.ui import state

APP = str(Path(__file__).resolve().parents[2] / "app.py")
SHIPPED = shipped_lessons()["What a convolution does"].steps[0]
# the shipped step's words on the Predict page (a light page), and a teacher's own step
LESSON = Lesson(
    "What a convolution does",
    (
        Step(title=SHIPPED.title, note=SHIPPED.note, view=View("", {"model": "efficientnet_lite0"})),
        Step(title="Mein eigener Schritt", view=View("", {"model": "efficientnet_lite0"})),
    ),
)


def _session(owner: str, query: dict[str, str]) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state[state.OWNER] = owner
    at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    return at


def test_each_follower_reads_the_step_in_their_own_language():
    store = ClassStore()
    teacher = secrets.token_hex(16)
    code = store.open_class(LESSON, teacher)
    seen = {}
    for lang in ("de", "es", "en"):
        at = _session(secrets.token_hex(16), {"class": code, **({"lang": lang} if lang != "en" else {})})
        seen[lang] = [t.value for t in at.text]
    assert seen["de"][0] == f"Du folgst der Klasse {code}: Schritt 1 von 2: Ein Kernel gleitet über das Foto"
    assert seen["es"][0] == f"Siguiendo la clase {code}: paso 1 de 2: Un kernel se desliza sobre la foto"
    assert seen["en"][0] == f"Following class {code}: step 1 of 2: A kernel slides over the photo"
    assert seen["de"][1].startswith("Eine Faltung schiebt ein kleines Gitter aus Gewichten")  # the note
    assert seen["en"][1] == SHIPPED.note
    store.move(code, teacher, 1)
    at = _session(secrets.token_hex(16), {"class": code, "lang": "es"})
    assert at.text[0].value.endswith("paso 2 de 2: Mein eigener Schritt")  # a teacher's own words as typed


def test_the_teacher_s_bar_follows_the_teacher_s_language():
    store = ClassStore()
    teacher = secrets.token_hex(16)
    store.open_class(LESSON, teacher)
    at = _session(teacher, {"lang": "de"})
    bar = [m.value for m in at.markdown if "Schritt 1 von 2" in m.value]
    assert bar == ["**Schritt 1 von 2: Ein Kernel gleitet über das Foto** · Was eine Faltung macht"]
    assert at.button(key="lesson_next").label == "Weiter"
