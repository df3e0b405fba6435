"""axe-core on every page of the app, light and dark theme, projector and phone size, with an
uploaded photo: no serious or critical violation (WCAG 2.1 AA as axe checks it).

One server (the session's ``app_url``), one browser context per theme: the photo is uploaded
once and every page is then opened by its link, first at 1280×720, then at 390×844. The
moderate and minor counts are printed per page (``pytest -s``) and, with every rule's node
count, written to ``artifacts/axe/`` for before/after comparisons.
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest
from axe_playwright_python.sync_playwright import Axe
from browser_helpers import CLICKABLE, no_exception, open_app, upload_photo, wait_idle
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "artifacts" / "axe"
SIZES = ((1280, 720), (390, 844))
BLOCKING = ("serious", "critical")

# Until the clickable pictures get their own component (issue 22, the keyboard part), the
# streamlit-image-coordinates iframes cannot carry a text alternative or a title of ours:
# exactly those nodes are left out of the rules below. Remove this once the component lands.
KNOWN_COMPONENT = {"image-alt": CLICKABLE, "frame-title": CLICKABLE}


def page_paths() -> list[tuple[str, str]]:
    """(url path, menu title) of every st.Page in app.py, in menu order ("" for the default page)."""
    pages = []
    for node in ast.walk(ast.parse((ROOT / "app.py").read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Page":
            kw = {k.arg: k.value.value for k in node.keywords if isinstance(k.value, ast.Constant)}
            pages.append((node.lineno, kw.get("url_path", ""), kw["title"]))
    return [(path, title) for _, path, title in sorted(pages)]


def known(rule: str, node: dict) -> bool:
    sel = KNOWN_COMPONENT.get(rule)
    return sel is not None and any(sel in str(t) for t in node.get("target", []))


def summarise(violations: list[dict]) -> dict[str, dict]:
    """{rule id: {"impact", "nodes"}} without the component nodes of KNOWN_COMPONENT."""
    out = {}
    for v in violations:
        nodes = [n for n in v["nodes"] if not known(v["id"], n)]
        if nodes:
            out[v["id"]] = {"impact": v["impact"], "nodes": len(nodes), "first": nodes[0]["target"]}
    return out


def test_summarise_leaves_out_only_the_component_frames():
    iframe = {"target": [CLICKABLE]}
    img = {"target": ['[data-testid="stImage"] img']}
    got = summarise(
        [
            {"id": "image-alt", "impact": "critical", "nodes": [iframe, img]},
            {"id": "frame-title", "impact": "serious", "nodes": [iframe]},
            {"id": "color-contrast", "impact": "serious", "nodes": [iframe]},
        ]
    )
    assert got == {
        "image-alt": {"impact": "critical", "nodes": 1, "first": img["target"]},
        "color-contrast": {"impact": "serious", "nodes": 1, "first": [CLICKABLE]},
    }


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


def _background_luminance(page) -> float:
    rgb = page.evaluate(
        """() => getComputedStyle(document.querySelector('[data-testid="stApp"]')).backgroundColor
              .match(/\\d+/g).slice(0, 3).map(Number)"""
    )
    return sum(rgb) / 3


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
            for path, title in page_paths():
                _open(page, f"{app_url}/{path}?image={image}")
                no_exception(page)
                if scheme == "dark":
                    assert _background_luminance(page) < 80, f"{title}: the dark theme is not applied"
                found = summarise(Axe().run(page).response["violations"])
                name = f"{title} {width}x{height}"
                report[name] = found
                impacts = Counter()
                for v in found.values():
                    impacts[v["impact"]] += v["nodes"]
                print(f"axe {scheme} {name}: moderate {impacts['moderate']}, minor {impacts['minor']}")
                bad = {k: v for k, v in found.items() if v["impact"] in BLOCKING}
                if bad:
                    failures[name] = bad
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / f"{scheme}.json").write_text(json.dumps(report, indent=1))
        assert not failures, json.dumps(failures, indent=1)
    finally:
        ctx.close()
