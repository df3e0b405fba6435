"""Every screen of the room, in real Chromium on one server: the projector (1280×720, normal and
presenter mode), a phone (390×844, touch), and the QR dialog a class scans.

The server listens on every interface, as `make run` starts it, so that the QR code's address
(this machine's LAN address, not localhost) is opened for real.
"""

from __future__ import annotations

import re
import urllib.parse
import urllib.request

import pytest

from cnnviz.lessons.public_url import is_loopback
from testing.browser import decode_qr, no_exception, wait_idle
from testing.helpers import nav_pages

# (URL path, menu title) of the pages that show a picture: the Lesson page shows none (its own
# screens are checked in test_lesson_teach_browser.py)
# Live's picture is a camera's, and these browsers have none (test_live_browser.py gives one a
# fake camera and looks at the page at these sizes).
PAGES = [(path, title) for path, title in nav_pages(url=True) if path not in ("lesson", "live")]
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}
PROJECTOR = {"viewport": {"width": 1280, "height": 720}}


@pytest.fixture
def screen(browser, request):
    """A fresh browser context of the size given by the test's ``size`` parameter."""
    contexts = []

    def make(opts):
        ctx = browser.new_context(**opts)
        contexts.append(ctx)
        pg = ctx.new_page()
        pg.set_default_timeout(120_000)
        return pg

    yield make
    for ctx in contexts:
        ctx.close()


# The top of the main area's first picture: a photo or map, a clickable picture, a chart or a diagram.
_FIRST_PICTURE = """() => {
  const sel = ['[data-testid="stImage"] img', 'iframe', '[data-testid="stVegaLiteChart"]',
               '[data-testid="stGraphVizChart"]'].map(s => '[data-testid="stMain"] ' + s).join(', ');
  const all = [...document.querySelectorAll(sel)];
  // clickable pictures (cnnviz.ui.clickable) live in a component's shadow root
  for (const host of document.querySelectorAll('[data-testid="stMain"] [data-testid="stBidiComponentIsolated"]'))
    if (host.shadowRoot) all.push(...host.shadowRoot.querySelectorAll('[data-testid="cnnvizPicture"] img'));
  let best = null;
  for (const el of all) {
    const r = el.getBoundingClientRect();
    if (r.width < 40 || r.height < 20) continue;
    if (!best || r.top < best.top) best = {top: r.top, bottom: r.bottom};
  }
  return best;
}"""


def _open(pg, url: str) -> None:
    """Open ``url`` and wait until its first picture is drawn and the script is idle.

    The app's own page menu is in the top bar, or on a narrow screen in the sidebar; on a cold
    server the sidebar first lists pages/ (no "Predict" there): wait for the app's own menu."""
    pg.goto(url)
    pg.locator('[data-testid="stTopNavSection"], [data-testid="stSidebarNavLink"]:has-text("Predict")').first.wait_for(
        state="attached"
    )
    wait_idle(pg)
    pg.wait_for_function(_FIRST_PICTURE, timeout=120_000)
    pg.wait_for_timeout(500)  # charts and frames lay themselves out after the script ends
    wait_idle(pg)


def test_every_page_shows_its_first_picture_above_a_projectors_fold(lan_url, screen):
    pg = screen(PROJECTOR)
    found, late = [], []
    for path, title in PAGES:
        for present in (False, True):
            _open(pg, f"{lan_url}/{path}" + ("?present=1" if present else ""))
            no_exception(pg)
            box = pg.evaluate(_FIRST_PICTURE)
            found.append(f"{title:16s} {'presenter' if present else 'normal':9s} top {box['top']:4.0f}")
            if box["top"] >= 720:
                late.append(found[-1])
    print("\nfirst picture at 1280×720:\n" + "\n".join(found))
    assert not late, late


# Every control in ``root`` a finger can hit, with its box: buttons, links, radio options, toggles
# and checkboxes (their label is the target), sliders (their track), select boxes.
_TARGETS = """(root) => {
  const out = [];
  const scope = document.querySelector(root);
  const add = (el, name) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0 || r.right <= 0) return;  // hidden, or in a closed sidebar
    out.push({name, w: r.width, h: r.height});
  };
  for (const el of scope.querySelectorAll('button, a[href]')) add(el, el.tagName + ' ' + (el.innerText || el.getAttribute('aria-label') || '').trim().slice(0, 30));
  for (const el of scope.querySelectorAll('[data-testid="stRadio"] label, [data-testid="stCheckbox"] label')) add(el, 'option ' + el.innerText.trim().slice(0, 30));
  for (const el of scope.querySelectorAll('[data-testid="stSlider"] [role="group"]')) add(el, 'slider ' + el.getAttribute('aria-label'));
  for (const el of scope.querySelectorAll('[data-baseweb="select"]')) add(el, 'select');
  return out;
}"""

# Elements of the main area whose box passes the screen's right or left edge, unless an ancestor
# scrolls or clips them sideways (a picture scrolled on purpose).
_OVERFLOW = """() => {
  const w = document.documentElement.clientWidth, out = [];
  for (const el of document.querySelectorAll('[data-testid="stMain"] *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || (r.right <= w + 1 && r.left >= -1)) continue;
    let clipped = false;
    for (let a = el.parentElement; a && a.dataset.testid !== 'stMain'; a = a.parentElement)
      if (getComputedStyle(a).overflowX !== 'visible') { clipped = true; break; }
    if (!clipped) out.push(`${el.tagName}.${el.className.toString().slice(0, 30)} ${r.left.toFixed(0)}..${r.right.toFixed(0)}`);
  }
  return out;
}"""

PHONE_PAGES = ["Predict", "Feature maps", "Grad-CAM", "Convolution", "Activations", "Pooling"]


def _small(targets: list[dict]) -> list[str]:
    return [f"{t['name']} {t['w']:.1f}×{t['h']:.1f}" for t in targets if t["w"] < 24 or t["h"] < 24]


def test_a_phone_menu_closes_after_a_page_is_picked_and_pages_fit(lan_url, screen):
    """390×844 with touch, the desktop user agent (Streamlit closes the menu by itself only for a
    mobile one): the menu opens over the page and closes once a page is tapped; the pages a
    student uses on a phone have every control at least 24×24 px (WCAG 2.5.8), and no page is
    wider than the phone."""
    pg = screen(PHONE)
    _open(pg, lan_url)
    sidebar = pg.locator('[data-testid="stSidebar"]')
    assert sidebar.bounding_box()["x"] + sidebar.bounding_box()["width"] <= 0  # starts closed
    problems = {}
    for title in PHONE_PAGES:
        pg.locator('[data-testid="stExpandSidebarButton"]').tap()
        pg.wait_for_function("document.querySelector('[data-testid=stSidebar]').getBoundingClientRect().left >= 0")
        box = sidebar.bounding_box()
        assert box["width"] > 0.7 * 390  # open: over most of the page
        if title == PHONE_PAGES[0]:
            pg.wait_for_timeout(400)  # its slide-in
            if small := _small(pg.evaluate(_TARGETS, '[data-testid="stSidebar"]')):
                problems["sidebar"] = small
        link = pg.locator('[data-testid="stSidebarNavLink"]').filter(has=pg.get_by_text(title, exact=True))
        if not link.count():  # the menu shows 10 pages, then "View 5 more"
            pg.locator('[data-testid="stSidebar"]').get_by_text(re.compile(r"^View \d+ more$")).tap()
        link.first.tap()
        wait_idle(pg)
        pg.wait_for_function(_FIRST_PICTURE, timeout=120_000)
        wait_idle(pg)
        pg.wait_for_timeout(400)  # the sidebar's slide-out
        box = sidebar.bounding_box()
        assert box["x"] + box["width"] <= 0, f"the menu stayed open after tapping {title}"
        no_exception(pg)
        overflow = pg.evaluate(_OVERFLOW)
        small = _small(pg.evaluate(_TARGETS, '[data-testid="stMain"]'))
        if overflow or small:
            problems[title] = {"wider than the screen": overflow, "targets under 24 px": small}
    for path, title in PAGES:  # every other page fits the phone's width too
        if title not in PHONE_PAGES:
            _open(pg, f"{lan_url}/{path}")
            if overflow := pg.evaluate(_OVERFLOW):
                problems[title] = {"wider than the screen": overflow}
    assert not problems, problems


ANDROID = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"


def test_a_phone_menu_closes_once_with_a_mobile_user_agent(lan_url, screen):
    """Streamlit closes the menu itself for a mobile user agent; the app's own closing must not
    open it again."""
    pg = screen({**PHONE, "user_agent": ANDROID})
    _open(pg, lan_url)
    pg.locator('[data-testid="stExpandSidebarButton"]').tap()
    pg.wait_for_function("document.querySelector('[data-testid=stSidebar]').getBoundingClientRect().left >= 0")
    pg.locator('[data-testid="stSidebarNavLink"]').filter(has=pg.get_by_text("Feature maps", exact=True)).tap()
    wait_idle(pg)
    pg.wait_for_function(_FIRST_PICTURE, timeout=120_000)
    pg.wait_for_timeout(600)
    box = pg.locator('[data-testid="stSidebar"]').bounding_box()
    assert box["x"] + box["width"] <= 0 and "/features" in pg.url


# Each colour scale: its two labels and strip, and the strip's colours at its two ends.
_SCALES = """() => [...document.querySelectorAll('.cnnviz-scale')].map(row => {
  const box = (s) => row.querySelector(s).getBoundingClientRect();
  const strip = row.querySelector('.cnnviz-scale-strip');
  const ends = [...getComputedStyle(strip).backgroundImage.matchAll(/rgb\\((\\d+), (\\d+), (\\d+)\\)/g)]
    .map(m => [+m[1], +m[2], +m[3]]);
  const b = (r) => ({left: r.left, right: r.right, mid: (r.top + r.bottom) / 2});
  return {low: b(box('.cnnviz-scale-low')), strip: b(box('.cnnviz-scale-strip')), high: b(box('.cnnviz-scale-high')),
          lowText: row.querySelector('.cnnviz-scale-low').innerText, first: ends[0], last: ends[ends.length - 1],
          label: strip.getAttribute('aria-label')};
})"""


def _luminance(rgb) -> float:
    return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]


@pytest.mark.parametrize("opts", [PHONE, PROJECTOR], ids=["390x844", "1280x720"])
def test_colour_scales_read_low_to_high_at_every_width(lan_url, screen, opts):
    """Feature maps (viridis: min at the dark purple end), Grad-CAM (jet: 0 at the dark blue end)
    and the Network legend (diverging: negative at the blue end): the low label left of the strip,
    the high label right of it, all three on one line."""
    pg = screen(opts)
    seen = []
    for path, low_end in (("features", "dark"), ("gradcam", "dark"), ("network", "dark")):
        _open(pg, f"{lan_url}/{path}")
        scales = pg.evaluate(_SCALES)
        assert scales, f"no colour scale on {path}"
        for s in scales:
            assert s["low"]["right"] <= s["strip"]["left"] < s["strip"]["right"] <= s["high"]["left"], (path, s)
            assert abs(s["low"]["mid"] - s["strip"]["mid"]) < 6 and abs(s["high"]["mid"] - s["strip"]["mid"]) < 6
            first, last = s["first"], s["last"]
            if "(white)" in s["label"]:  # diverging: blue at the low end, white in the middle, red at the high end
                assert first[2] > first[0] and last[0] > last[2], (path, s)
            else:
                assert low_end == "dark" and _luminance(first) < _luminance(last), (path, s)
            seen.append(f"{path}: {s['label']}")
    print("\n" + "\n".join(seen))
    assert any("from min (dark purple) to max (yellow)" in x for x in seen)
    assert any("from negative (dark blue) through 0 (white) to positive (dark red)" in x for x in seen)


def _dialog_fits(pg) -> tuple[dict, dict]:
    vw, vh = pg.viewport_size["width"], pg.viewport_size["height"]
    dialog = pg.get_by_role("dialog")
    img = dialog.locator('[data-testid="stImage"] img')
    img.wait_for()
    pg.wait_for_timeout(500)
    d, q = dialog.bounding_box(), img.bounding_box()
    for what, b in (("dialog", d), ("QR code", q)):
        assert b["x"] >= 0 and b["y"] >= 0 and b["x"] + b["width"] <= vw and b["y"] + b["height"] <= vh, (
            f"the {what} runs off a {vw}×{vh} screen: {b}"
        )
    return d, q


@pytest.mark.parametrize("opts", [PROJECTOR, PHONE], ids=["1280x720", "390x844"])
def test_the_qr_dialog_fits_and_opens_on_the_servers_lan_address(lan_url, screen, opts):
    """Opened on localhost, the QR code (decoded from the screen) names this server's LAN address
    with the same port, page and view; that address really answers; no warning is shown."""
    pg = screen(opts)
    _open(pg, lan_url + "/features?image=chelsea&channel=3")
    if opts is PHONE:
        pg.locator('[data-testid="stExpandSidebarButton"]').tap()
        pg.wait_for_timeout(400)
    pg.get_by_role("button", name="Show the QR code").click()
    d, q = _dialog_fits(pg)
    print(f"\nQR dialog at {pg.viewport_size}: dialog {d}, code {q['width']:.0f} px")
    (text,) = decode_qr(pg.get_by_role("dialog").locator('[data-testid="stImage"] img').screenshot())
    shown, here = urllib.parse.urlsplit(text), urllib.parse.urlsplit(pg.url)
    assert not is_loopback(shown.hostname) and shown.port == here.port
    assert (shown.path, urllib.parse.parse_qs(shown.query)) == (here.path, urllib.parse.parse_qs(here.query))
    with urllib.request.urlopen(f"{shown.scheme}://{shown.netloc}/_stcore/health", timeout=10) as r:
        assert r.read().strip() == b"ok"  # students' devices on this network reach that address
    assert pg.get_by_role("dialog").get_by_text("Students cannot open this link").count() == 0
    assert pg.get_by_role("dialog").locator("code").inner_text().strip() == text


def test_the_qr_dialog_warns_when_students_cannot_reach_the_server(app_url, screen):
    """The shared test server listens on 127.0.0.1 only: the code keeps the address and says why,
    and still fits a projector."""
    pg = screen(PROJECTOR)
    _open(pg, app_url + "/features")
    pg.get_by_role("button", name="Show the QR code").click()
    _dialog_fits(pg)
    warning = pg.get_by_role("dialog").get_by_text("Students cannot open this link")
    assert warning.is_visible() and "--server.address 0.0.0.0" in warning.inner_text()
    (text,) = decode_qr(pg.get_by_role("dialog").locator('[data-testid="stImage"] img').screenshot())
    assert urllib.parse.urlsplit(text).hostname == "127.0.0.1"
