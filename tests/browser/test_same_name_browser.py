"""Issue 10's must-show in real Chromium: three browsers (each its own owner cookie) train a
tiny model on one server; two save under the same name at once, a third tries to take
both names. The second save is refused with a free name suggested, neither model is lost
or changed, the third can neither replace nor see them, and both load and predict.

(Nothing in the app deletes a model; replacing one by saving over its name is the only
way to destroy it from a browser, and that is what the third tries.)"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from pathlib import Path

from safetensors import safe_open

from cnnviz.models import usermodels
from testing.browser import goto_page, no_exception, open_app, wait_idle

SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"

TAKEN = re.compile(r"The name '([\w-]+)' is already taken; save under another, e.g. '([\w-]+)'\.")


def _owner(page) -> str:
    # Set by the server on the page's websocket (HttpOnly: scripts cannot see it), so it is
    # there once the page has loaded.
    return next(c["value"] for c in page.context.cookies() if c["name"] == "cnnviz_owner")


def _train_smallest(page, url: str, size_step: int) -> None:
    """Shapes (the default dataset), one epoch, the smallest image size (16 px), or the
    next ``size_step`` sizes up: the two savers train at different sizes so their models
    differ (a training is seeded: same settings, same weights) and a sidecar paired with
    the other's weights would show."""
    open_app(page, url)
    goto_page(page, "Train")
    for label in ("Image size", "Epochs"):
        slider = page.get_by_role("slider", name=label)
        slider.focus()
        slider.press("Home")
        wait_idle(page)
    slider = page.get_by_role("slider", name="Image size")
    for _ in range(size_step):
        slider.focus()
        slider.press("ArrowRight")
        wait_idle(page)
    page.get_by_role("button", name="Train", exact=True).click()


def _save(page, name: str) -> None:
    box = page.get_by_label("Name")
    box.fill(name)
    box.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Save", exact=True).click()


def _answer(page) -> str:
    """After a Save click: 'saved' or the refusal's text."""
    wait_idle(page)  # the click's run, not what an earlier run left on the page
    page.locator('[data-testid="stAlertContentSuccess"], [data-testid="stAlertContentError"]').filter(
        has_text=re.compile("Saved as|already taken")
    ).first.wait_for(timeout=60_000)
    wait_idle(page)
    no_exception(page)
    err = page.locator('[data-testid="stAlertContentError"]').filter(has_text="already taken")
    return err.first.inner_text() if err.count() else "saved"


def _files(folder: Path, name: str) -> tuple[str, dict, int]:
    """(sha256 of the weights, the sidecar, the classifier's input features in the
    weights) of the saved model ``name``."""
    weights = folder / f"{name}.safetensors"
    with safe_open(str(weights), "np") as f:
        shapes = [f.get_slice(k).get_shape() for k in f.keys()]  # noqa: SIM118 (no __iter__)
    (features,) = [shape[1] for shape in shapes if len(shape) == 2]  # the preset has one linear layer
    return hashlib.sha256(weights.read_bytes()).hexdigest(), json.loads((folder / f"{name}.json").read_text()), features


def _models_matching(page, text: str) -> list[str]:
    """The sidebar Model picker's options after typing ``text`` into it (a long list is
    virtualised: filtering first means no option is missed for being off screen)."""
    box = page.get_by_role("combobox", name="Model")
    box.click()
    page.keyboard.type(text)
    page.wait_for_timeout(300)
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    wait_idle(page)
    return [o for o in options if o.strip() != "No results"]


def test_two_save_one_name_a_third_cannot_take_either(app_url, browser):
    folder = Path(os.environ["CNNVIZ_USER_MODELS"])
    name = f"race_{uuid.uuid4().hex[:6]}"  # the shared server keeps other tests' models
    ctxs = [browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(3)]
    try:
        a, b, c = pages = [ctx.new_page() for ctx in ctxs]
        for p in pages:
            p.set_default_timeout(60_000)
            _train_smallest(p, app_url, size_step=1 if p is b else 0)  # the server queues them (cnnviz.serving.jobs)
        for p in pages:
            p.get_by_text("5 · Results").wait_for(timeout=300_000)
            wait_idle(p)
            no_exception(p)
        owners = [_owner(p) for p in pages]
        assert len(set(owners)) == 3  # three browsers, three owners

        # A and B save the same name: both clicks are sent before either answer is read.
        for p in (a, b):
            box = p.get_by_label("Name")
            box.fill(name)
            box.press("Enter")
            wait_idle(p)
        a.get_by_role("button", name="Save", exact=True).click()
        b.get_by_role("button", name="Save", exact=True).click()
        answers = [_answer(a), _answer(b)]
        assert sorted(x == "saved" for x in answers) == [False, True], answers
        loser = a if answers[0] != "saved" else b
        winner = b if loser is a else a
        m = TAKEN.search(answers[0] if loser is a else answers[1])
        assert m and m.group(1) == name
        suggestion = m.group(2)
        assert suggestion != name and not (folder / f"{suggestion}.json").exists()
        _save(loser, suggestion)  # the suggested name is free: the loser keeps its model too
        assert _answer(loser) == "saved"

        before = {n: _files(folder, n) for n in (name, suggestion)}
        assert before[name][1]["owner"] == usermodels.owner_id(_owner(winner))
        assert before[suggestion][1]["owner"] == usermodels.owner_id(_owner(loser))
        # Each sidecar sits with its own saver's weights: A trained at 16 px, B at 28. The
        # preset (4 conv blocks of 8, 8, 16, 16 channels, a 2×2 pool after every second)
        # feeds 16 × (size/4)² features to its one linear layer.
        for n in (name, suggestion):
            size = 28 if (winner if n == name else loser) is b else 16
            assert before[n][1]["preprocess"]["size"] == size, n
            assert before[n][2] == 16 * (size // 4) ** 2, n
        # C tries both names: refused each time, nothing on disk changes.
        for taken in (name, suggestion):
            _save(c, taken)
            refusal = _answer(c)
            assert TAKEN.search(refusal) and TAKEN.search(refusal).group(1) == taken, refusal
        assert {n: _files(folder, n) for n in (name, suggestion)} == before
        assert not list(folder.glob(f".{name}*")), "a refused save left a temporary file"

        # Private by default: C's picker lists neither; A and B each see only their own.
        open_app(c, app_url)
        assert _models_matching(c, name) == []  # "name" also matches "name_2"
        for p, own, other in ((winner, name, suggestion), (loser, suggestion, name)):
            open_app(p, app_url)
            assert f"{own} (yours)" in _models_matching(p, own)
            assert not [o for o in _models_matching(p, other) if o.startswith(f"{other} (")]
            # ... and it loads and predicts on the Predict page
            p.get_by_role("combobox", name="Model").click()
            p.keyboard.type(own)
            p.get_by_role("option", name=f"{own} (yours)").click()
            wait_idle(p)
            no_exception(p)
            main = p.locator('[data-testid="stMain"]')
            main.get_by_text("forward pass").first.wait_for()
            text = main.inner_text()
            assert re.search(r"\b(circle|square|triangle|star) — \d", text), text[:600]
    except Exception:  # what each browser showed, for the failure's report
        SHOTS.mkdir(parents=True, exist_ok=True)
        for who, ctx in zip("abc", ctxs, strict=True):
            for pg in ctx.pages:
                pg.screenshot(path=str(SHOTS / f"same_name_{who}.png"), full_page=True)
        raise
    finally:
        for ctx in ctxs:
            ctx.close()
