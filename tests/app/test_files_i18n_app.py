"""The Predict page's notices in the session's language (issue 30), with its numbers written
the language's way, and the same notices unchanged in English."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _session(lang: str | None, **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    if lang:
        at.query_params["lang"] = lang
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def test_out_of_its_world_in_german_with_german_numbers():
    at = _session("de", model_name="tinyvgg_mnist", gallery_choice="chelsea")
    (note,) = [w.value for w in at.warning if w.value.startswith("Außerhalb seiner Welt")]
    # "... weiter von ihrem Durchschnitt entfernt als 99,8 % von ihnen (Abstand 41,2; ... innerhalb von 9,6)"
    m = re.search(r"als (\d+,\d)\xa0% von ihnen \(Abstand (\d+,\d); .* innerhalb von (\d+,\d)\)", note)
    assert m, note
    english = _session(None, model_name="tinyvgg_mnist", gallery_choice="chelsea")
    (same,) = [w.value for w in english.warning if w.value.startswith("Out of its world")]
    # the same numbers, the English way: a point and no space before the percent sign
    assert f"than {m[1].replace(',', '.')}% of them (distance {m[2].replace(',', '.')};" in same


def test_random_weights_are_said_in_spanish():
    at = _session("es", weights_choice="random")
    assert any(w.value.startswith("Pesos aleatorios: esta red no ha sido entrenada.") for w in at.warning)
    assert not any("Random weights" in w.value for w in at.warning)
