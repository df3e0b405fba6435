"""Projector check in real Chromium at 1280×720: on every page no picture, chart or table
overlaps another, runs outside its column or the page, or is cut by its own box."""

from __future__ import annotations

from pathlib import Path

import pytest

from testing.browser import goto_page, no_exception, open_app, wait_idle
from testing.helpers import nav_pages

ROOT = Path(__file__).resolve().parents[2]
NAV = [title for _, title in nav_pages()]
SHOTS = ROOT / "artifacts" / "screenshots"

# What a student reads off the page: pictures, charts, tables, diagrams, clickable pictures.
FIGURES = ", ".join(
    [
        '[data-testid="stImage"] img',
        '[data-testid="stVegaLiteChart"]',
        '[data-testid="stDataFrame"]',
        '[data-testid="stTable"]',
        '[data-testid="stGraphVizChart"]',
        '[data-testid="stIFrame"]',
        "iframe",
        '[data-testid="stMarkdownContainer"] table',
    ]
)

# For each figure: its box, its column's box (if any), whether its content is wider than its box.
_BOXES = """
(sel) => {
  // content wider than its own box: a markdown table's wrapper, a data frame's scroller
  const cutInside = (el) => {
    const inner = el.tagName === 'TABLE' ? el.parentElement : el.querySelector('.dvn-scroller');
    return !!inner && inner.scrollWidth > inner.clientWidth + 2;
  };
  const out = [];
  const main = document.querySelector('[data-testid="stMainBlockContainer"]').getBoundingClientRect();
  for (const el of document.querySelectorAll(sel)) {
    // the part a student can see: clipped by every scrolling ancestor (a diagram in a scroll box)
    const b = el.getBoundingClientRect();
    let r = {left: b.left, top: b.top, right: b.right, bottom: b.bottom};
    // (the page's own scrolling, stMain, is not a clip: a figure below the fold is still checked)
    const stop = document.querySelector('[data-testid="stMainBlockContainer"]');
    for (let a = el.parentElement; a && a !== stop && a !== document.body; a = a.parentElement) {
      const cs = getComputedStyle(a);
      if (cs.overflowX !== 'visible' && cs.overflowX !== 'clip' || cs.overflowY !== 'visible' && cs.overflowY !== 'clip') {
        const ar = a.getBoundingClientRect();
        r = {left: Math.max(r.left, ar.left), top: Math.max(r.top, ar.top),
             right: Math.min(r.right, ar.right), bottom: Math.min(r.bottom, ar.bottom)};
      }
    }
    r.width = r.right - r.left; r.height = r.bottom - r.top;
    if (r.width < 2 || r.height < 2) continue;
    if (el.closest('[data-testid="stExpanderDetails"]') && !el.closest('details[open]')) continue;
    const col = el.closest('[data-testid="stColumn"]');
    const c = col ? col.getBoundingClientRect() : null;
    const tid = (el.closest('[data-testid]') || el).getAttribute('data-testid');
    const name = (tid || el.tagName) + ' ' + (el.getAttribute('alt') || el.getAttribute('title') || '').slice(0, 40);
    out.push({name, x: r.left, y: r.top, w: r.width, h: r.height,
              col: c && {x: c.left, w: c.width},
              main: {x: main.left, w: main.width},
              cut: cutInside(el)});
  }
  return out;
}
"""


def layout_problems(boxes: list[dict]) -> list[str]:
    """Overlaps between figures, figures outside their column or the page, cut tables."""
    problems = []
    tol = 2.0  # px: borders and sub-pixel rounding
    for b in boxes:
        if b["cut"]:
            problems.append(f"{b['name']} is wider than its box (cut)")
        for box, what in ((b["col"], "its column"), (b["main"], "the page")):
            if box and (b["x"] < box["x"] - tol or b["x"] + b["w"] > box["x"] + box["w"] + tol):
                problems.append(
                    f"{b['name']} runs outside {what} "
                    f"(x {b['x']:.0f}..{b['x'] + b['w']:.0f}, {what} {box['x']:.0f}..{box['x'] + box['w']:.0f})"
                )
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            dx = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
            dy = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
            if dx > tol and dy > tol:
                # a picture inside another figure (an iframe's own img) is one figure, not two
                inside = all(
                    p["x"] - tol <= q["x"]
                    and q["x"] + q["w"] <= p["x"] + p["w"] + tol
                    and p["y"] - tol <= q["y"]
                    and q["y"] + q["h"] <= p["y"] + p["h"] + tol
                    for p, q in ((a, b),)
                ) and a["name"].startswith(("iframe", "stIFrame"))
                if not inside:
                    problems.append(f"{a['name']} overlaps {b['name']} by {dx:.0f}×{dy:.0f} px")
    return problems


def test_layout_problems_finds_overlaps():
    page = {"x": 0, "w": 1000}
    a = {"name": "a", "x": 0, "y": 0, "w": 100, "h": 100, "col": None, "main": page, "cut": False}
    b = {**a, "name": "b", "x": 50, "y": 50}
    c = {**a, "name": "c", "x": 950}
    assert layout_problems([a, {**b, "x": 101}]) == []
    assert layout_problems([a, b]) == ["a overlaps b by 50×50 px"]
    assert layout_problems([c]) == ["c runs outside the page (x 950..1050, the page 0..1000)"]


@pytest.fixture
def projector(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    pg = ctx.new_page()
    pg.set_default_timeout(120_000)
    yield pg
    ctx.close()


def test_no_page_overlaps_or_cuts_at_1280x720(projector, app_url):
    page = projector
    open_app(page, app_url)
    found = {}
    for title in NAV:
        goto_page(page, title)
        no_exception(page)
        page.wait_for_timeout(500)  # charts lay themselves out after the script ends
        wait_idle(page)
        boxes = page.evaluate(_BOXES, FIGURES)
        problems = layout_problems(boxes)
        if problems:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"layout_{title.replace(' ', '_')}.png"), full_page=True)
            found[title] = problems
    assert not found, found


def test_training_live_view_has_no_overlap_at_1280x720(projector, app_url):
    page = projector
    open_app(page, app_url)
    goto_page(page, "Train")
    page.get_by_role("button", name="Train", exact=True).click()
    # the live view: the loss and accuracy curves beside the first-layer filters, while it trains
    page.get_by_text("First-layer filters, redrawn as they learn").wait_for(timeout=180_000)
    page.wait_for_function(
        """() => document.querySelectorAll('[data-testid="stVegaLiteChart"]').length >= 3""", timeout=180_000
    )
    page.wait_for_timeout(800)
    problems = layout_problems(page.evaluate(_BOXES, FIGURES))
    stop = page.locator('[data-testid="stMain"]').get_by_role("button", name="Stop", exact=True)
    if stop.is_enabled():
        stop.click()
    if problems:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / "layout_training.png"), full_page=True)
    assert not problems, problems
