"""Issue 23: whose model a session may open is checked in one place, on every path.

Another browser's private model must not load on any page: not through a link
(``?model=...&present=1`` skipped the sidebar's check before), not through session state
that names it (a path that forgets the check), not through Compare models' ``a``/``b``.
The loader is spied on: a page that loads the model without the check fails here.
A link to it gets the same answer as a link to a name nobody uses, in the same time.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.lessons.links import NO_MODEL, PRIVATE_LINK
from cnnviz.models import model_cost, usermodels, zoo
from cnnviz.ui.owner import NOT_OPENABLE
from testing.helpers import nav_pages, save_digits_model

APP = str(Path(__file__).resolve().parents[2] / "app.py")
ALICE, BOB = "a7" * 16, "b8" * 16
# Pages that do not show the sidebar's model: Compare models has its own pickers, Train its own network.
OWN_MODELS = ("pages/compare_models.py", "pages/train.py", "pages/lesson.py")  # the Lesson page shows no model
PRIVATE, NOBODYS = "alice_gate_private", "alice_gate_nobody"  # the second is never saved


@pytest.fixture(scope="module")
def private_model(_isolated_user_models):
    folder = usermodels.user_models_dir()
    save_digits_model(folder, PRIVATE, "Alice's secret digits", owner=usermodels.owner_id(ALICE), shared=False)
    yield PRIVATE
    for suffix in (".json", ".safetensors"):
        (folder / f"{PRIVATE}{suffix}").unlink(missing_ok=True)


@pytest.fixture
def loads(monkeypatch):
    """Names every model load was asked for, wherever a page calls the loader from."""
    asked: list[str] = []
    real = zoo.load_model

    def spy(name, *args, **kwargs):
        asked.append(name)
        return real(name, *args, **kwargs)

    monkeypatch.setattr(zoo, "load_model", spy)
    monkeypatch.setattr(model_cost, "load_model", spy)  # the app's one load path (cnnviz.models.model_cost.load_shared)
    return asked


def _texts(at: AppTest) -> str:
    kinds = (at.markdown, at.caption, at.subheader, at.title, at.warning, at.error, at.info)
    return "\n".join(str(e.value) for kind in kinds for e in kind)


def _session(token: str, **state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["owner_token"] = token
    for k, v in state.items():
        at.session_state[k] = v
    return at


def _open_link(token: str, page: str, **query: str) -> AppTest:
    at = _session(token)
    at.run()
    at.query_params.clear()
    at.query_params.update(query)
    at.switch_page(page).run()
    assert not at.exception, (page, at.exception)
    return at


@pytest.mark.parametrize("page", [p for p, _ in nav_pages()])
def test_no_page_opens_a_private_model_from_a_presenter_link(private_model, loads, page):
    at = _open_link(BOB, page, model=PRIVATE, present="1", image="chelsea")
    assert PRIVATE not in loads, f"{page} loaded another browser's private model"
    assert at.session_state["model_name"] != PRIVATE
    assert PRIVATE_LINK in _texts(at), page  # said once, at the top
    assert at.session_state["gallery_choice"] == "chelsea"  # the rest of the link still applies


@pytest.mark.parametrize("page", [p for p, _ in nav_pages()])
def test_no_page_opens_a_private_model_named_in_the_session(private_model, loads, page):
    # No link check to rely on: presenter mode skips the sidebar's picker, and the session
    # names the model as a path that forgot the check would leave it. The loader's own
    # check must refuse it.
    at = _session(BOB, model_name=PRIVATE, link_present=True)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, (page, at.exception)
    assert PRIVATE not in loads, f"{page} loaded another browser's private model"
    if page not in OWN_MODELS:  # a page that shows the sidebar's model: the sentence instead
        assert any(e.value == NOT_OPENABLE for e in at.error), (page, [e.value for e in at.error])


def test_compare_models_refuses_it_in_either_column(private_model, loads):
    at = _open_link(BOB, "pages/compare_models.py", a=PRIVATE, b=NOBODYS)
    assert PRIVATE not in loads
    warning = " ".join(str(w.value) for w in at.warning)
    assert f"a `{PRIVATE}` {NO_MODEL}" in warning and f"b `{NOBODYS}` {NO_MODEL}" in warning
    assert at.session_state["cmp_model_a"] != PRIVATE


def test_the_owner_still_opens_it(private_model, loads):
    at = _open_link(ALICE, "pages/filters.py", model=PRIVATE, present="1")
    assert at.session_state["model_name"] == PRIVATE and not at.error
    assert PRIVATE_LINK not in _texts(at) and NO_MODEL not in _texts(at)


def test_a_private_name_and_an_unknown_one_get_the_same_answer_in_the_same_time(private_model, loads):
    """The name-existence oracle: Bob cannot tell Alice's private model from a name nobody
    uses, neither by what the page says nor by how long it takes (no load, no read that
    depends on which it is). Timed over many interleaved runs of the whole script."""
    answers: dict[str, set[str]] = {PRIVATE: set(), NOBODYS: set()}
    times: dict[str, list[float]] = {PRIVATE: [], NOBODYS: []}
    for i in range(24):
        for name in (PRIVATE, NOBODYS) if i % 2 else (NOBODYS, PRIVATE):
            at = _session(BOB)
            at.query_params.update({"model": name, "present": "1"})
            t0 = time.perf_counter()
            at.run()
            took = time.perf_counter() - t0
            if i >= 2:  # the first rounds warm up imports and the shared caches
                times[name].append(took)
            answers[name].add(" ".join(str(w.value) for w in at.warning).replace(f"`{name}`", "`NAME`"))
    assert PRIVATE not in loads
    assert answers[PRIVATE] == answers[NOBODYS] and len(answers[PRIVATE]) == 1, answers
    private, nobodys = statistics.median(times[PRIVATE]), statistics.median(times[NOBODYS])
    print(f"median run: private {private * 1000:.0f} ms, unknown {nobodys * 1000:.0f} ms")
    # Loading even the smallest model and predicting costs more than this margin; the two
    # runs otherwise do the same work, so only the machine's noise separates them.
    assert abs(private - nobodys) <= 0.25 * min(private, nobodys) + 0.03, (private, nobodys)
