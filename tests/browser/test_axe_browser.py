"""axe-core on every page of the app, light and dark theme, projector and phone size, with an
uploaded photo: no serious or critical violation (WCAG 2.1 AA as axe checks it).

One server (the session's ``app_url``), one browser context per theme: the photo is uploaded
once and every page is then opened by its link, first at 1280×720, then at 390×844. axe is
put into every frame too, so the components' frames are checked with the page. The
moderate and minor counts are printed per page (``pytest -s``) and, with every rule's node
count, written to ``artifacts/axe/`` for before/after comparisons.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from axe_playwright_python.sync_playwright import Axe
from PIL import Image

from testing.browser import no_exception, open_app, upload_photo, wait_idle
from testing.helpers import nav_pages

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "artifacts" / "axe"
SIZES = ((1280, 720), (390, 844))
BLOCKING = ("serious", "critical")


def summarise(violations: list[dict]) -> dict[str, dict]:
    """{rule id: {"impact", "nodes", "first"}}: how many nodes break each rule, and the first."""
    return {
        v["id"]: {"impact": v["impact"], "nodes": len(v["nodes"]), "first": v["nodes"][0]["target"]}
        for v in violations
        if v["nodes"]
    }


def test_summarise_counts_every_node():
    inside = {"target": ['[data-testid="stBidiComponentIsolated"]', "img"]}  # a shadow root's node
    img = {"target": ['[data-testid="stImage"] img']}
    got = summarise(
        [
            {"id": "image-alt", "impact": "critical", "nodes": [inside, img]},
            {"id": "color-contrast", "impact": "serious", "nodes": []},
        ]
    )
    assert got == {"image-alt": {"impact": "critical", "nodes": 2, "first": inside["target"]}}


@pytest.fixture
def photo(tmp_path) -> Path:
    from skimage import data

    path = tmp_path / "chelsea.png"
    Image.fromarray(np.asarray(data.chelsea())).save(path)
    return path


def _open(page, url: str) -> None:
    page.goto(url)
    # the page menu is in the top bar at 1280 px and in the sidebar on a phone
    page.locator('[data-testid="stTopNavSection"], [data-testid="stSidebarNavLink"]').first.wait_for(timeout=120_000)
    wait_idle(page, 120_000)
    page.wait_for_timeout(700)  # charts and pictures lay themselves out after the script ends
    wait_idle(page, 120_000)


def run_axe(page) -> list[dict]:
    """axe's violations on the page and inside every frame (axe reaches a frame only where it
    has been put: with ``iframes: true``, its default, the page's run then asks each frame)."""
    axe = Axe()
    for frame in page.frames[1:]:
        frame.evaluate(axe.axe_script)
    return axe.run(page).response["violations"]


def _background_luminance(page) -> float:
    rgb = page.evaluate(
        """() => getComputedStyle(document.querySelector('[data-testid="stApp"]')).backgroundColor
              .match(/\\d+/g).slice(0, 3).map(Number)"""
    )
    return sum(rgb) / 3


def _after_clicks(page, app_url: str, image: str):
    """(name, summary) of the views a click opens: the Grad-CAM sweep, the faithfulness curves
    and table, a finished training's curves, confusion matrix and mistakes."""
    _open(page, f"{app_url}/gradcam?image={image}&sweep=1")
    yield "Grad-CAM sweep", summarise(run_axe(page))
    _open(page, f"{app_url}/compare?image={image}")
    page.get_by_role("button", name="Measure faithfulness").click()
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=180_000)
    wait_idle(page, 180_000)
    yield "Compare methods, faithfulness", summarise(run_axe(page))
    _open(page, f"{app_url}/train?image={image}")
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("Most confidently wrong").wait_for(timeout=300_000)
    wait_idle(page, 120_000)
    page.wait_for_timeout(700)
    yield "Train, results", summarise(run_axe(page))


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_no_serious_or_critical_axe_violation(browser, app_url, photo, scheme):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720}, color_scheme=scheme)
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    try:
        open_app(page, app_url)
        upload_photo(page, photo)
        image = parse_qs(urlparse(page.url).query).get("image", [""])[0]
        assert image.startswith("upload:"), f"the link does not carry the uploaded photo: {page.url}"
        report, failures = {}, {}
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            for path, title in nav_pages(url=True):
                _open(page, f"{app_url}/{path}?image={image}")
                no_exception(page)
                if scheme == "dark":
                    assert _background_luminance(page) < 80, f"{title}: the dark theme is not applied"
                found = summarise(run_axe(page))
                name = f"{title} {width}x{height}"
                report[name] = found
                impacts = Counter()
                for v in found.values():
                    impacts[v["impact"]] += v["nodes"]
                print(f"axe {scheme} {name}: moderate {impacts['moderate']}, minor {impacts['minor']}")
                bad = {k: v for k, v in found.items() if v["impact"] in BLOCKING}
                if bad:
                    failures[name] = bad
        if scheme == "light":  # what appears only after a click: the sweep, the curves, a training's results
            page.set_viewport_size({"width": 1280, "height": 720})
            for name, found in _after_clicks(page, app_url, image):
                report[name] = found
                bad = {k: v for k, v in found.items() if v["impact"] in BLOCKING}
                if bad:
                    failures[name] = bad
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / f"{scheme}.json").write_text(json.dumps(report, indent=1))
        assert not failures, json.dumps(failures, indent=1)
    finally:
        ctx.close()
