"""Pictures whole at every width, in real Chromium: on every page, at 390, 1280 (sidebar open,
collapsed, and open again), 1440 and 1920 px, every picture (``st.image``, the clickable
pictures, component frames) is drawn whole inside its frame, column and page, and no two
overlap; clickable pictures still pick the tile under the pointer after each resize; on a
phone the Network diagram keeps tiles a thumb can tap and labels that can be read."""

from __future__ import annotations

import re

import pytest

from testing.browser import PICTURE, click_picture, goto_page, no_exception, open_app, wait_idle
from testing.helpers import nav_pages

NAV = [title for _, title in nav_pages()]
STATES = ("1280", "1280, sidebar collapsed", "1280, sidebar open again", "1440", "1920", "390")
WIDTH = {"1440": 1440, "1920": 1920, "390": 390}

# Every picture on the page: its drawn box, the part of it no ancestor cuts off (scroll boxes
# that scroll that way do not cut: the rest is reachable), its frame and column, and for a
# component frame whether its document is taller or wider than the frame.
_PICTURES = """
(pictureSel) => {
  const up = (e) => e.parentElement || (e.getRootNode && e.getRootNode().host) || null;
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  const mainBox = main.getBoundingClientRect();
  const all = [...document.querySelectorAll('[data-testid="stMain"] [data-testid="stImage"] img, [data-testid="stMain"] iframe')];
  for (const host of document.querySelectorAll('[data-testid="stMain"] [data-testid="stBidiComponentIsolated"]'))
    for (const p of host.shadowRoot ? host.shadowRoot.querySelectorAll(pictureSel) : []) all.push(p.querySelector('img'));
  const out = [];
  for (const el of all) {
    const b = el.getBoundingClientRect();
    if (b.width < 2 || b.height < 2) continue;
    if (el.closest('[data-testid="stExpanderDetails"]') && !el.closest('details[open]')) continue;
    let v = {left: b.left, top: b.top, right: b.right, bottom: b.bottom};
    let shown = {left: b.left, right: b.right};  // what a sideways scroll box shows at once
    for (let a = up(el); a && a !== main && a !== document.body; a = up(a)) {
      if (!(a instanceof Element)) continue;
      const cs = getComputedStyle(a), r = a.getBoundingClientRect();
      const scrollsX = /auto|scroll/.test(cs.overflowX) && a.scrollWidth > a.clientWidth;
      const scrollsY = /auto|scroll/.test(cs.overflowY) && a.scrollHeight > a.clientHeight;
      if (cs.overflowX !== 'visible' && !scrollsX) { v.left = Math.max(v.left, r.left); v.right = Math.min(v.right, r.right); }
      if (cs.overflowX !== 'visible') { shown.left = Math.max(shown.left, r.left); shown.right = Math.min(shown.right, r.right); }
      if (cs.overflowY !== 'visible' && !scrollsY) { v.top = Math.max(v.top, r.top); v.bottom = Math.min(v.bottom, r.bottom); }
    }
    let frame = null, doc = null;
    if (el.tagName === 'IFRAME') {
      try { const d = el.contentDocument.documentElement;
            doc = {w: d.scrollWidth, h: d.scrollHeight, fw: el.clientWidth, fh: el.clientHeight}; } catch (e) {}
    } else {
      const f = el.closest('[data-testid="stImage"]') || up(el.closest('[data-testid="cnnvizPicture"]'));
      const host = f && (f.closest('[data-testid="stElementContainer"]') || (f.getRootNode().host || f).closest('[data-testid="stElementContainer"]'));
      const fr = host ? host.getBoundingClientRect() : null;
      frame = fr && {left: fr.left, top: fr.top, right: fr.right, bottom: fr.bottom};
    }
    let host = el; while (host.getRootNode() !== document) host = host.getRootNode().host;
    const col = host.closest('[data-testid="stColumn"]');
    const c = col ? col.getBoundingClientRect() : mainBox;
    const name = (el.tagName === 'IFRAME' ? 'iframe ' + (el.title || '') : (el.closest('[data-testid="cnnvizPicture"]') ? 'clickable ' : 'image ') + (el.alt || '')).slice(0, 60);
    out.push({name, box: {left: b.left, top: b.top, right: b.right, bottom: b.bottom}, seen: v, shown, frame, doc,
              col: {left: c.left, right: c.right}, main: {left: mainBox.left, right: mainBox.right},
              ratio: el.naturalWidth ? [b.width / b.height, el.naturalWidth / el.naturalHeight] : null,
              scrolls: !!(el.closest('.scroll') && el.closest('.scroll').scrollWidth > el.closest('.scroll').clientWidth)});
  }
  return out;
}
"""


def picture_problems(pics: list[dict], tol: float = 1.5) -> list[str]:
    """What is cut, squashed, outside its frame, column or page, or on top of another picture."""
    problems = []
    for p in pics:
        b, v, n = p["box"], p["seen"], p["name"]
        cut = max(v["left"] - b["left"], b["right"] - v["right"], v["top"] - b["top"], b["bottom"] - v["bottom"])
        if cut > tol:
            problems.append(f"{n}: {cut:.0f} px cut off")
        if p["ratio"] and abs(p["ratio"][0] / p["ratio"][1] - 1) > 0.02 + 2 / (b["right"] - b["left"]):
            problems.append(f"{n}: drawn {p['ratio'][0]:.3f} wide per high, the picture is {p['ratio'][1]:.3f}")
        if p["doc"] and (p["doc"]["h"] > p["doc"]["fh"] + 2 or p["doc"]["w"] > p["doc"]["fw"] + 2):
            problems.append(f"{n}: its frame {p['doc']['fw']}×{p['doc']['fh']} cuts {p['doc']['w']}×{p['doc']['h']}")
        f = p["frame"]
        if f and not p["scrolls"] and (v["left"] < f["left"] - tol or v["right"] > f["right"] + tol):
            problems.append(f"{n}: wider than its frame")
        if f and (v["top"] < f["top"] - tol or v["bottom"] > f["bottom"] + tol):
            problems.append(f"{n}: {v['bottom'] - f['bottom']:.0f} px below its frame's bottom")
        x = p.get("shown", v)  # a picture in a sideways scroll box: the box must fit
        for box, what in ((p["col"], "its column"), (p["main"], "the page")):
            if x["left"] < box["left"] - tol or x["right"] > box["right"] + tol:
                problems.append(
                    f"{n}: outside {what} ({x['left']:.0f}..{x['right']:.0f} in {box['left']:.0f}..{box['right']:.0f})"
                )
    for i, a in enumerate(pics):
        for b in pics[i + 1 :]:
            dx = min(a["seen"]["right"], b["seen"]["right"]) - max(a["seen"]["left"], b["seen"]["left"])
            dy = min(a["seen"]["bottom"], b["seen"]["bottom"]) - max(a["seen"]["top"], b["seen"]["top"])
            if dx > tol and dy > tol:
                problems.append(f"{a['name']} overlaps {b['name']} by {dx:.0f}×{dy:.0f} px")
    return problems


def test_picture_problems_finds_cuts_overlaps_and_squashes():
    box = {"left": 0, "top": 0, "right": 100, "bottom": 50}
    ok = {"name": "a", "box": box, "seen": box, "frame": box, "doc": None, "col": {"left": 0, "right": 100},
          "main": {"left": 0, "right": 500}, "ratio": [2.0, 2.0], "scrolls": False}  # fmt: skip
    assert picture_problems([ok]) == []
    assert picture_problems([{**ok, "seen": {**box, "bottom": 30}}]) == ["a: 20 px cut off"]
    assert picture_problems([{**ok, "frame": {**box, "bottom": 40}}]) == ["a: 10 px below its frame's bottom"]
    assert picture_problems([{**ok, "ratio": [2.6, 2.0]}]) == ["a: drawn 2.600 wide per high, the picture is 2.000"]
    moved = {"left": 90, "top": 40, "right": 190, "bottom": 90}
    assert picture_problems([ok, {**ok, "name": "b", "box": moved, "seen": moved, "frame": moved,
                                  "col": {"left": 0, "right": 500}}]) == ["a overlaps b by 10×10 px"]  # fmt: skip
    wide = {"left": -200, "top": 0, "right": 100, "bottom": 50}  # scrolled sideways in a box at 0..100
    assert picture_problems([{**ok, "box": wide, "seen": wide, "shown": box, "scrolls": True}]) == []
    assert picture_problems([{**ok, "box": wide, "seen": wide}]) == [
        "a: wider than its frame",
        "a: outside its column (-200..100 in 0..100)",
        "a: outside the page (-200..100 in 0..500)",
    ]
    assert picture_problems([{**ok, "doc": {"w": 100, "h": 90, "fw": 100, "fh": 50}}]) == [
        "a: its frame 100×50 cuts 100×90"
    ]


def _set(page, state: str) -> None:
    """Bring the window to ``state`` (one of STATES, in that order)."""
    sidebar = page.locator('[data-testid="stSidebar"]')
    if state in WIDTH:
        page.set_viewport_size({"width": WIDTH[state], "height": 844 if state == "390" else 900})
    elif state == "1280":
        page.set_viewport_size({"width": 1280, "height": 720})
        page.wait_for_timeout(700)  # coming from a phone's width, Streamlit may open the sidebar itself
        if sidebar.get_attribute("data-collapsed") == "true":
            page.locator('[data-testid="stExpandSidebarButton"]').click()
    elif state.endswith("collapsed"):
        sidebar.hover()
        page.locator('[data-testid="stSidebarCollapseButton"] button').click()
        page.wait_for_function(
            "() => document.querySelector('[data-testid=stSidebar]').getAttribute('data-collapsed') === 'true'"
        )
    else:
        page.locator('[data-testid="stExpandSidebarButton"]').click()
        page.wait_for_function(
            "() => document.querySelector('[data-testid=stSidebar]').getAttribute('data-collapsed') === 'false'"
        )
    page.wait_for_timeout(700)  # the sidebar's animation, then the pictures' new layout


# every picture of the main area loaded (those of the clickable pictures, in their shadow roots, too)
_LOADED = """() => {
  const imgs = [...document.querySelectorAll('[data-testid="stMain"] img')];
  for (const h of document.querySelectorAll('[data-testid="stBidiComponentIsolated"]'))
    if (h.shadowRoot) imgs.push(...h.shadowRoot.querySelectorAll('img'));
  return imgs.every((i) => i.complete && i.naturalWidth > 0);
}"""


def _check(page, where: str, found: dict) -> None:
    page.wait_for_function(_LOADED)
    problems = picture_problems(page.evaluate(_PICTURES, PICTURE))
    if problems:
        found[where] = problems


def _diagram_click(page, presses: int) -> str:
    """On the Network page: walk the diagram's keyboard cursor ``presses`` tiles right, then click
    with the mouse in the middle of the tile it outlines; returns that tile's name."""
    pic = page.locator(PICTURE).first
    pic.focus()
    for _ in range(presses):
        page.keyboard.press("ArrowRight")
    cursor = pic.locator(".cursor")
    cursor.wait_for()
    name = pic.locator(".badge").inner_text()
    box = cursor.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    wait_idle(page)
    return name


def test_every_picture_is_whole_at_every_width(app_url, browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    found: dict[str, list[str]] = {}
    try:
        open_app(page, app_url)
        for title in NAV:
            _set(page, "1280")
            goto_page(page, title)
            no_exception(page)
            for i, state in enumerate(STATES):
                _set(page, state)
                _check(page, f"{title} at {state}", found)
                if title == "Feature maps":  # stem.act: 32 tiles, 8 per row; then the unit picker
                    channel = (10, 19, 5, 27, 12, 30)[i]
                    click_picture(page, 0, (channel % 8 + 0.5) / 8, (channel // 8 + 0.5) / 4)
                    page.get_by_text(f"Channel {channel}: 112×112", exact=False).wait_for()
                    click_picture(page, 1, (i * 11 + 5.5) / 112, (100 - i * 13 + 0.5) / 112)
                    page.get_by_text(f"Receptive field of unit ({100 - i * 13}, {i * 11 + 5})", exact=False).wait_for()
                elif title == "Network":
                    layer, channel = re.fullmatch(r"(\S+), channel (\d+)", _diagram_click(page, 1 + i)).groups()
                    page.get_by_role("heading", name=f"{layer} · channel {channel}").wait_for()
                if title in ("Feature maps", "Network"):
                    _check(page, f"{title} at {state}, after a click", found)
    finally:
        ctx.close()
    assert not found, found


@pytest.fixture
def phone(browser):
    ctx = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    pg = ctx.new_page()
    pg.set_default_timeout(120_000)
    yield pg
    ctx.close()


def test_the_network_diagram_on_a_phone(app_url, phone):
    """390×844, touch: the diagram scrolls sideways at its readable width; tiles are at least 24 px
    (WCAG 2.5.8) and labels at least their drawn 11 px; a tap picks the tile tapped."""
    page = phone
    page.goto(app_url + "/network")
    page.get_by_text("Value at (", exact=False).first.wait_for()
    wait_idle(page)
    pic = page.locator(PICTURE).first
    size = pic.locator("img").evaluate("i => [i.getBoundingClientRect().width, i.naturalWidth]")
    assert size[0] >= size[1]  # not shrunk: its 11-px labels stay 11 px
    scroller = pic.evaluate("p => { const s = p.closest('.scroll'); return [s.scrollWidth, s.clientWidth]; }")
    assert scroller[0] > scroller[1] + 100  # wider than the screen: it scrolls sideways
    assert (
        page.locator(".scroll ~ .note")
        .filter(visible=True)
        .first.inner_text()
        .startswith("Scroll the picture sideways")
    )
    pic.focus()
    for _ in range(5):  # a tile out of the first screen: the cursor scrolls it into view
        page.keyboard.press("ArrowRight")
    cursor = pic.locator(".cursor").bounding_box()
    assert cursor["width"] >= 24 and cursor["height"] >= 24, cursor
    assert cursor["x"] >= 0 and cursor["x"] + cursor["width"] <= 390
    name = pic.locator(".badge").inner_text()
    layer, channel = re.fullmatch(r"(\S+), channel (\d+)", name).groups()
    page.touchscreen.tap(cursor["x"] + cursor["width"] / 2, cursor["y"] + cursor["height"] / 2)
    wait_idle(page)
    page.get_by_role("heading", name=f"{layer} · channel {channel}").wait_for()
    no_exception(page)
