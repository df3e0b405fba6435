"""Issue 24, the teacher's side in real Chromium, on one server listening on every interface (so
the class's QR code names this machine's LAN address, as in a classroom).

A teacher builds a five-step lesson with a question (the reorder and the start by keyboard only),
starts the class, scans the QR code from the screen, moves the class, reloads; the Lesson page
and the teacher's bar fit a projector and a phone and pass axe. The class store is read directly
(the file the server uses: $CNNVIZ_CLASSES, tests/conftest.py), never through the page.
"""

from __future__ import annotations

import secrets
import time
import urllib.parse
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from cnnviz.lessons.format import Lesson, Question, Step, View, parse_lesson
from cnnviz.lessons.public_url import is_loopback
from cnnviz.lessons.store import ClassStore
from cnnviz.serving.owner_cookie import COOKIE
from testing.browser import decode_qr, no_exception, open_app, wait_idle

PROJECTOR = {"width": 1280, "height": 720}
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
# the five views of the lesson, in the order the teacher adds them
VIEWS = [
    "/?image=chelsea",
    "/convolution?kernel=Sobel+x",
    "/features?image=chelsea&layer=blocks.3&channel=12",
    "/filters?image=chelsea",
    "/gradcam?image=chelsea",
]


@pytest.fixture
def teacher(browser, lan_url):
    """A browser context with an owner token of its own (the cookie the server would set): (page, token)."""
    made = []

    def make(**opts):
        token = secrets.token_hex(16)
        ctx = browser.new_context(**({"viewport": PROJECTOR} | opts))
        ctx.add_cookies([{"name": COOKIE, "value": token, "url": lan_url, "httpOnly": True, "sameSite": "Strict"}])
        made.append(ctx)
        pg = ctx.new_page()
        pg.set_default_timeout(120_000)
        return pg, token

    yield make
    for ctx in made:
        ctx.close()


def _focused(pg) -> str:
    """The focused control's label: its text's last line (a button's icon is a line of its own)."""
    text = pg.evaluate("() => (document.activeElement?.innerText || document.activeElement?.ariaLabel || '')")
    return text.strip().split("\n")[-1].strip()


def _tab_to(pg, label: str, limit: int = 120) -> None:
    """Press Tab until the focused control's text is ``label`` (a keyboard user's way there)."""
    for _ in range(limit):
        pg.keyboard.press("Tab")
        if _focused(pg) == label:
            return
    raise AssertionError(f"Tab never reached {label!r}")


def _inside(pg, box: dict) -> bool:
    vw, vh = pg.viewport_size["width"], pg.viewport_size["height"]
    return box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= vw and box["y"] + box["height"] <= vh


def _view_of(url: str) -> tuple[str, dict[str, str]]:
    parts = urllib.parse.urlsplit(url)
    return parts.path.strip("/"), dict(urllib.parse.parse_qsl(parts.query))


def test_a_teacher_builds_a_five_step_lesson_starts_the_class_and_moves_it(teacher, lan_url):
    pg, token = teacher()
    store = ClassStore()
    began = time.monotonic()
    for n, view in enumerate(VIEWS, 1):
        open_app(pg, lan_url + view)
        pg.get_by_role("button", name="Add this view to the lesson").click()
        wait_idle(pg)
        pg.get_by_text(f"Added as step {n} of your lesson").first.wait_for()
    open_app(pg, lan_url + "/lesson")
    no_exception(pg)
    assert pg.get_by_role("heading", name="Steps (5)").count() == 1
    # a question on the first step (the Predict view): multiple choice, two answers typed
    first = pg.locator(".st-key-lesson_card_0")
    first.get_by_text("Multiple choice", exact=True).click()
    wait_idle(pg)
    first.get_by_role("textbox", name="Question", exact=True).fill("Which class will the network say?")
    first.get_by_role("textbox", name="Question", exact=True).press("Tab")
    wait_idle(pg)
    first.get_by_role("textbox", name="Answers, one per line (2 to 6)").fill("tabby cat\ntiger cat\nlynx")
    pg.get_by_role("heading", name="Build a lesson").click()  # the text area commits when it loses focus
    wait_idle(pg)
    lesson = store.load_draft(token)
    assert lesson.steps[0].question == Question(
        "choice", "Which class will the network say?", ("tabby cat", "tiger cat", "lynx")
    )

    # keyboard only: from the lesson's title, Tab to step 1's "Down" and press Enter
    pg.get_by_label("Lesson title").focus()
    _tab_to(pg, "Down")
    pg.keyboard.press("Enter")
    wait_idle(pg)
    moved = store.load_draft(token)
    assert [s.view.page for s in moved.steps] == ["convolution", "", "features", "filters", "gradcam"]
    assert moved.steps[1] == lesson.steps[0]

    pg.get_by_label("Lesson title").focus()
    _tab_to(pg, "Start the class")
    pg.keyboard.press("Enter")
    dialog = pg.get_by_role("dialog")
    qr = dialog.locator('[data-testid="stImage"] img')
    qr.wait_for()
    wait_idle(pg)
    built_s = time.monotonic() - began
    print(f"\nfive steps, a question, a reorder and the start: {built_s:.0f} s (2 busy cores)")
    assert built_s < 300

    (cls,) = store.classes_of(token)
    assert cls.lesson == moved and cls.step == 0
    pg.wait_for_timeout(500)
    assert _inside(pg, dialog.bounding_box()) and _inside(pg, qr.bounding_box()), (
        dialog.bounding_box(),
        qr.bounding_box(),
    )
    (text,) = decode_qr(qr.screenshot())
    join = urllib.parse.urlsplit(text)
    assert not is_loopback(join.hostname) and join.port == urllib.parse.urlsplit(lan_url).port
    assert (join.path, urllib.parse.parse_qs(join.query)) == ("/", {"class": [cls.code]})
    assert dialog.get_by_text(cls.code, exact=True).is_visible()
    assert dialog.locator("code").inner_text().strip() == text

    pg.keyboard.press("Escape")
    wait_idle(pg)
    page, params = _view_of(pg.url)  # step 1's view
    assert page == "convolution" and params["kernel"] == "Sobel x" == moved.steps[0].view.params["kernel"]
    bar = pg.locator(".st-key-lesson_bar")
    assert bar.get_by_text("Step 1 of 5").count() == 1 and bar.get_by_text(f"Code {cls.code}").count() == 1

    bar.get_by_role("button", name="Next").click()
    wait_idle(pg)
    pg.wait_for_url(lambda u: _view_of(u)[0] == "")
    assert store.state(cls.code).step == 1
    assert _view_of(pg.url)[1]["image"] == "chelsea"
    bar.get_by_text("Step 2 of 5").wait_for()
    no_exception(pg)

    pg.reload()  # the teacher's browser finds the running class again
    pg.locator(".st-key-lesson_bar").get_by_text("Step 2 of 5").wait_for()
    wait_idle(pg)
    bar.get_by_role("button", name="Next").click()
    wait_idle(pg)
    pg.wait_for_url(lambda u: _view_of(u)[0] == "features")
    assert store.state(cls.code).step == 2 and _view_of(pg.url)[1]["channel"] == "12"

    # the lesson saved as a file is the lesson built
    open_app(pg, lan_url + "/lesson")
    with pg.expect_download() as got:
        pg.get_by_role("button", name="Save as a file").click()
    assert parse_lesson(Path(got.value.path()).read_bytes()) == moved


def _lesson() -> Lesson:
    note = "Each tile is one channel.\nBright places: where the filter found its pattern. " * 3
    views = [
        ("features", {"image": "chelsea", "layer": "blocks.3", "channel": "12"}, note, None),
        ("", {"image": "chelsea"}, "", Question("choice", "What will it say?", ("tabby cat", "tiger cat"))),
        ("gradcam", {"image": "chelsea"}, "Where did it look?", None),
    ]
    return Lesson(
        "Inside a CNN",
        tuple(Step(title=f"{p or 'Predict'}: the cat", note=n, view=View(p, v), question=q) for p, v, n, q in views),
    )


# The top of the main area's first picture below the bar (a photo, a clickable picture, a chart).
_FIRST_PICTURE = """() => {
  const all = [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stImage"] img, [data-testid="stMain"] [data-testid="stVegaLiteChart"]')];
  for (const host of document.querySelectorAll('[data-testid="stMain"] [data-testid="stBidiComponentIsolated"]'))
    if (host.shadowRoot) all.push(...host.shadowRoot.querySelectorAll('[data-testid="cnnvizPicture"] img'));
  const tops = all.map(e => e.getBoundingClientRect()).filter(r => r.width > 40 && r.height > 20).map(r => r.top);
  return tops.length ? Math.min(...tops) : null;
}"""
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "lesson"  # screenshots to look at (git-ignored)


@pytest.fixture(autouse=True)
def _shots_folder():
    SHOTS.mkdir(parents=True, exist_ok=True)


def _collapse_sidebar(pg) -> None:
    pg.locator('[data-testid="stSidebar"]').hover()
    pg.locator('[data-testid="stSidebarCollapseButton"] button').click()
    pg.wait_for_function(
        "() => document.querySelector('[data-testid=stSidebar]').getAttribute('data-collapsed') === 'true'"
    )
    pg.wait_for_timeout(600)


def _open_phone(pg, url: str) -> None:
    """Open ``url`` on a phone: its page menu is in the sidebar (a cold server first lists pages/
    there, without "Predict": wait for the app's own menu)."""
    pg.goto(url)
    pg.locator('[data-testid="stSidebarNavLink"]:has-text("Predict")').first.wait_for(state="attached")
    wait_idle(pg)
    pg.wait_for_timeout(500)
    wait_idle(pg)


def _blocking(pg) -> list[str]:
    """axe's serious and critical violations on the page: "rule: n nodes"."""
    found = Axe().run(pg).response["violations"]
    return [
        f"{v['id']}: {len(v['nodes'])} nodes, e.g. {v['nodes'][0]['target']}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("present", [False, True], ids=["normal", "presenter"])
def test_the_bar_keeps_the_steps_picture_above_a_projectors_fold(teacher, lan_url, present):
    """The teacher's bar at 1280×720, sidebar open and collapsed: the step's first picture starts
    above the fold, the note is folded (its first words show), the step's line is large; axe passes."""
    pg, token = teacher()
    store = ClassStore()
    code = store.open_class(_lesson(), teacher=token)
    open_app(pg, lan_url + "/features?image=chelsea&layer=blocks.3&channel=12" + ("&present=1" if present else ""))
    bar = pg.locator(".st-key-lesson_bar")
    bar.get_by_text("Step 1 of 3").wait_for()
    pg.wait_for_function(_FIRST_PICTURE)
    wait_idle(pg)
    for sidebar in ("open", "collapsed"):
        if sidebar == "collapsed":
            _collapse_sidebar(pg)
        top = pg.evaluate(_FIRST_PICTURE)
        name = SHOTS / f"bar_{'presenter' if present else 'normal'}_{sidebar}_1280x720.png"
        pg.screenshot(path=str(name))
        print(
            f"\nbar {name}: first picture at {top:.0f} px, bar bottom {bar.bounding_box()['y'] + bar.bounding_box()['height']:.0f}"
        )
        assert top < 720 - 120, f"{name}: the step's picture starts at {top} px"  # at least 120 px of it show
        for label in ("Previous", "Next", "Show the class's QR code", "End the class"):
            button = bar.get_by_role("button", name=label)
            assert button.is_visible() and _inside(pg, button.bounding_box()), label
    step_px = pg.evaluate(
        "() => parseFloat(getComputedStyle(document.querySelector('.st-key-lesson_step p')).fontSize)"
    )
    assert step_px >= (24 if present else 19), step_px  # presenter mode: legible from the back of the room
    note = bar.locator('[data-testid="stExpanderDetails"]')
    assert not note.is_visible()  # folded: its first words only, in the label
    bar.get_by_text("Note: Each tile is one channel. Bright places", exact=False).click()
    note.get_by_text("Bright places", exact=False).first.wait_for()
    assert _blocking(pg) == []
    store.end(code, token)


def test_the_lesson_page_and_the_bar_on_a_phone_and_axe(teacher, lan_url):
    """The Lesson page with three steps at 1280×720 and 390×844 (nothing wider than the screen),
    and the bar on a phone; axe finds nothing serious on the Lesson page."""
    pg, token = teacher()
    store = ClassStore()
    store.save_draft(token, _lesson())
    open_app(pg, lan_url + "/lesson")
    pg.get_by_role("heading", name="Steps (3)").wait_for()
    no_exception(pg)
    pg.wait_for_timeout(700)
    wait_idle(pg)
    pg.screenshot(path=f"{SHOTS}/lesson_1280x720.png")
    assert _blocking(pg) == []
    _collapse_sidebar(pg)
    pg.screenshot(path=f"{SHOTS}/lesson_collapsed_1280x720.png")
    phone, phone_token = teacher(**PHONE)
    store.save_draft(phone_token, _lesson())
    _open_phone(phone, lan_url + "/lesson")
    phone.get_by_role("heading", name="Steps (3)").wait_for()
    wide = phone.evaluate("() => document.documentElement.scrollWidth")
    phone.screenshot(path=f"{SHOTS}/lesson_390x844.png", full_page=True)
    assert wide <= 390, f"the Lesson page is {wide} px wide on a 390 px phone"
    assert _blocking(phone) == []
    code = store.open_class(_lesson(), teacher=phone_token)
    _open_phone(phone, lan_url + "/?image=chelsea")
    phone.locator(".st-key-lesson_bar").get_by_text("Step 1 of 3").wait_for()
    phone.screenshot(path=f"{SHOTS}/bar_390x844.png")
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
    store.end(code, phone_token)
