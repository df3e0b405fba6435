"""Every page renders for the default model and photo, and leaves only plain data in the
session (no tensors, no models: those are shared through the resource cache)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from testing.helpers import nav_pages

ROOT = Path(__file__).resolve().parents[2]
PAGES = [path for path, _ in nav_pages()]
PLAIN = (str, bytes, int, float, bool, type(None), np.ndarray, np.generic)


def _is_plain(value, depth: int = 0) -> bool:
    if isinstance(value, PLAIN):
        return True
    if depth < 4 and isinstance(value, (list, tuple, set, frozenset)):
        return all(_is_plain(v, depth + 1) for v in value)
    if depth < 4 and isinstance(value, dict):
        return all(_is_plain(k, depth + 1) and _is_plain(v, depth + 1) for k, v in value.items())
    # widget values: uploaded files and camera photos are byte holders
    return type(value).__name__ in {"UploadedFile", "DataFrame", "EditingState"} or hasattr(value, "getvalue")


def test_every_page_is_listed():
    assert "pages/home.py" in PAGES and len(PAGES) == len(set(PAGES))
    for p in PAGES:
        assert (ROOT / p).is_file(), p


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_and_keeps_only_plain_data(page):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, f"{page}: {at.exception}"
    assert not at.error, f"{page}: {[e.value for e in at.error]}"
    state = at.session_state._state._state  # SafeSessionState -> SessionState
    for key in state.filtered_state:
        value = at.session_state[key]
        assert _is_plain(value), f"{page}: session_state[{key!r}] holds a {type(value).__name__}"


# The Train page trains a model of its own and never uses the sidebar's; the Lesson page shows none.
@pytest.mark.parametrize("page", [p for p in PAGES if p not in ("pages/train.py", "pages/lesson.py")])
def test_random_weights_are_marked_on_every_page(page):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["weights_choice"] = "random"
    at.run()
    at.switch_page(page).run()
    assert not at.exception, f"{page}: {at.exception}"
    assert any("Random weights" in w.value for w in at.warning), f"{page}: no random-weights warning"


def test_trained_weights_carry_no_random_warning():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    assert not any("Random weights" in w.value for w in at.warning)
