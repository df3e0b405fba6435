"""Links in real Chromium: a view set by clicking opens the same in a fresh browser, back
restores an earlier page with its choices, an uploaded photo travels by link, bad links
get a message, and a page link works as the very first request of a fresh server."""

from __future__ import annotations

import re
import urllib.parse

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from cnnviz.inputs.gallery import sample_bytes
from cnnviz.lessons import links
from testing.browser import (
    clickable_src,
    goto_page,
    no_exception,
    open_app,
    start_server,
    stop_server,
    upload_photo,
    wait_idle,
)

# Records, from the first paint on, whether Streamlit's own list of the pages/ folder (its
# sidebar links) or "Page not found" ever showed, and whether the app's menu did.
_FIRST_PAINT = """
window.__seen = {pagesList: false, notFound: false, menu: false};
new MutationObserver(() => {
  const s = window.__seen;
  s.pagesList ||= !!document.querySelector('[data-testid="stSidebarNavLink"]');
  s.menu ||= !!document.querySelector('[data-testid="stTopNav"]');
  s.notFound ||= !!(document.body && document.body.innerText.includes("Page not found"));
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def _fresh(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    ctx.add_init_script(_FIRST_PAINT)
    pg = ctx.new_page()
    pg.set_default_timeout(120_000)
    return ctx, pg


def _only_the_app_s_menu(pg) -> None:
    """Since its first paint, the page showed the app's menu and never the pages/ folder's list."""
    assert pg.evaluate("window.__seen") == {"pagesList": False, "notFound": False, "menu": True}


def _open(pg, url: str, text: str) -> None:
    """Open a link and wait until ``text`` is rendered and the script is idle."""
    open_app(pg, url)
    pg.get_by_text(text, exact=False).first.wait_for()
    wait_idle(pg)
    no_exception(pg)


def _image_bytes(pg, index: int = 0) -> bytes:
    """The bytes of the main area's index-th picture, as the browser fetches them."""
    src = pg.locator('[data-testid="stMain"] [data-testid="stImage"] img').nth(index).get_attribute("src")
    return pg.request.get(urllib.parse.urljoin(pg.url, src)).body()


def _query(pg) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(pg.url).query))


def _pick(pg, label: str, option: str | re.Pattern, search: str = "") -> None:
    """Choose ``option`` in a selectbox (typing ``search`` first: long lists show only a
    window of options); tries again if a late rerun closed the list."""
    for attempt in range(4):
        wait_idle(pg)
        pg.get_by_role("combobox", name=label, exact=True).click()
        if search:
            pg.keyboard.type(search)
        opt = pg.get_by_role("option", name=option).first
        try:
            opt.wait_for(timeout=10_000)
        except PlaywrightTimeout:
            if attempt == 3:
                raise
            pg.keyboard.press("Escape")
            continue
        opt.click()
        break
    wait_idle(pg)


def _wait_param(pg, name: str, value: str) -> None:
    """Wait until the app has written ``name=value`` to the URL: the end of that script run."""
    pg.wait_for_function(
        "([n, v]) => new URL(location.href).searchParams.get(n) === v", arg=[name, value], timeout=120_000
    )
    wait_idle(pg)


def test_a_page_link_is_the_first_request_of_a_fresh_server(browser):
    """The issue's must-show links, on a server nobody has opened yet (no app.py run): the
    root and a Feature maps link are requested together, so both are first visitors."""
    proc, url = start_server()
    root, home = _fresh(browser)
    ctx, pg = _fresh(browser)
    try:
        home.goto(url + "/", wait_until="commit")
        _open(
            pg,
            url + "/features?model=efficientnet_lite0&image=chelsea&layer=blocks.3.expand.act&channel=5",
            "Channel 5:",
        )
        home.get_by_text("forward pass").first.wait_for()
        wait_idle(home)
        no_exception(home)
        home.locator('[data-testid="stMain"] img').first.wait_for()  # the photo, painted
        _only_the_app_s_menu(home)
        root.close()
        pg.get_by_text("blocks.3.expand.act · ReLU6").first.wait_for()
        assert "Chelsea the cat" in pg.locator('[data-testid="stSidebar"]').inner_text()
        _only_the_app_s_menu(pg)
        ctx2, pg2 = _fresh(browser)
        _open(pg2, url + "/gradcam?model=efficientnet_lite0&image=chelsea&target=285", "class 285")
        _only_the_app_s_menu(pg2)
        assert pg2.get_by_role("heading", name="Egyptian cat").count() == 1
        assert pg2.get_by_text("Grad-CAM at head.act for “Egyptian cat”").count() == 1
        ctx2.close()
    finally:
        ctx.close()
        stop_server(proc)


def test_a_clicked_view_opens_the_same_in_a_fresh_browser(app_url, browser):
    ctx, pg = _fresh(browser)
    open_app(pg, app_url)
    side = pg.locator('[data-testid="stSidebar"]')
    side.get_by_text("Random", exact=True).click()  # weights
    _wait_param(pg, "weights", "random")
    _pick(pg, "Sample photo", "Chelsea the cat")
    _wait_param(pg, "image", "chelsea")
    goto_page(pg, "Feature maps")
    _wait_param(pg, "layer", "stem.act")
    _pick(pg, "Layer: block", "blocks.2")
    pg.wait_for_url(re.compile(r"layer=blocks\.2\."))
    wait_idle(pg)
    _pick(pg, "Layer", re.compile(r"^expand\.act — "))
    _wait_param(pg, "layer", "blocks.2.expand.act")
    _pick(pg, "Channel", re.compile(r"^channel 7 \("), search="channel 7 (")
    _wait_param(pg, "channel", "7")
    row = int(_query(pg)["row"])
    for step in range(1, 4):  # one key at a time: a press during a rerun can be lost
        pg.get_by_role("slider", name="Unit row").focus()
        pg.keyboard.press("ArrowRight")
        _wait_param(pg, "row", str(row + step))
    q = _query(pg)
    assert q["weights"] == "random" and q["image"] == "chelsea" and q["layer"] == "blocks.2.expand.act"
    assert q["channel"] == "7" and q["row"] == str(int(q["col"]) + 3)
    names = ["blocks.2.expand.act · ReLU6", "Channel 7:", f"Value at ({q['row']}, {q['col']})"]
    shown = [pg.get_by_text(n).count() for n in names]
    # the channel grid and the unit picker (clickable pictures, their PNG in the page) and the receptive field
    grid, channel, field = clickable_src(pg, 0), clickable_src(pg, 1), _image_bytes(pg, 0)

    ctx2, pg2 = _fresh(browser)
    _open(pg2, pg.url, "Channel 7:")
    assert [pg2.get_by_text(n).count() for n in names] == shown and min(shown) >= 1
    assert _query(pg2) == q
    assert clickable_src(pg2, 0) == grid and clickable_src(pg2, 1) == channel and _image_bytes(pg2, 0) == field
    ctx2.close()
    ctx.close()


def test_back_after_two_page_switches_restores_the_page_and_its_choices(app_url, browser):
    ctx, pg = _fresh(browser)
    _open(pg, app_url + "/features?image=coffee&layer=blocks.4.expand.act&channel=11", "Channel 11:")
    opened = pg.evaluate("history.length")
    _pick(
        pg, "Channel", re.compile(r"^channel 12 \("), search="channel 12 ("
    )  # a choice made on the page, not in the link
    _wait_param(pg, "channel", "12")
    entries = pg.evaluate("history.length")
    assert entries == opened + 1  # a choice on the page is a view of its own
    for title, path in (("Grad-CAM", "/gradcam"), ("Filters", "/filters")):
        goto_page(pg, title)
        pg.wait_for_url(re.compile(path))
        pg.wait_for_url(re.compile(path + r"\?.*layer="))  # the page's own view written
        wait_idle(pg)
    pg.get_by_text("Filters: what a convolution looks for").wait_for()
    assert pg.evaluate("history.length") == entries + 2  # one entry per page opened, not two
    pg.go_back()  # one press per view: back to Grad-CAM as it was shown
    wait_idle(pg)
    assert urllib.parse.urlsplit(pg.url).path.endswith("/gradcam"), pg.url
    pg.get_by_text("Grad-CAM at").first.wait_for()
    gradcam_query = _query(pg)
    assert gradcam_query["image"] == "coffee" and "target" in gradcam_query
    pg.go_back()  # once more: the Feature maps page with the channel picked there
    wait_idle(pg)
    assert urllib.parse.urlsplit(pg.url).path.endswith("/features"), pg.url
    pg.get_by_text("Channel 12:").first.wait_for()
    assert pg.get_by_text("blocks.4.expand.act · ReLU6").count() == 1
    assert _query(pg)["channel"] == "12" and _query(pg)["image"] == "coffee"
    pg.go_forward()  # and forward again: Grad-CAM with the same choices
    wait_idle(pg)
    assert urllib.parse.urlsplit(pg.url).path.endswith("/gradcam"), pg.url
    pg.get_by_text("Grad-CAM at").first.wait_for()
    assert _query(pg) == gradcam_query
    no_exception(pg)
    ctx.close()


def test_an_uploaded_photo_travels_by_link(app_url, browser, tmp_path):
    photo = tmp_path / "my_coffee.png"
    photo.write_bytes(sample_bytes("coffee"))
    ctx, pg = _fresh(browser)
    open_app(pg, app_url)
    upload_photo(pg, photo)
    pg.wait_for_function("new URL(location.href).searchParams.get('image')?.startsWith('upload:')")
    wait_idle(pg)
    pg.get_by_text("forward pass").first.wait_for()
    image = _query(pg)["image"]
    assert re.fullmatch(r"upload:[0-9a-f]{64}", image)
    top = pg.locator('[data-testid="stMain"] h2').first.inner_text()  # "label — 97.1%"
    ctx2, pg2 = _fresh(browser)
    _open(pg2, pg.url, "forward pass")
    assert pg2.locator('[data-testid="stMain"] h2').first.inner_text() == top
    assert _image_bytes(pg2, 0) == _image_bytes(pg, 0)
    ctx2.close()
    ctx.close()


PART = "Part of this link could not be used"
BAD_LINKS = [
    ("/features?model=zzz", "(zzz)"),  # its own sentence, the same as another browser's private model's
    ("/features?layer=no.such.layer", "layer no.such.layer"),
    ("/features?layer=blocks.1.expand.act&channel=9999", "channel 9999"),
    ("/?image=kitten", "image kitten"),
    ("/?image=upload:1234", "upload: and 64"),
    ("/?image=upload:" + "ab" * 32, "not on this server"),
    ("/gradcam?target=5000", "target 5000"),
    ("/adversarial?eps=1e9", "eps"),
    ("/features?layer=" + "x" * 10_000, "too long"),
    ("/features?layer=%3Cscript%3Ealert(1)%3C%2Fscript%3E", "unusual characters"),
    ("/filters?channel=-3&mode=%2A%2Abold%2A%2A", "mode"),
    ("/convolution?cells=nan,0,0,0,0,0,0,0,0", "cells: not 9 or 25 numbers"),
    ("/convolution?cells=" + "9" * 1_000, "cells: a value that is too long"),  # over one value's limit
    ("/convolution?cells=" + "9" * 10_000, "the link is too long ("),  # over a link's: none used
    ("/convolution?kernel=identity&cells=-1e999,0,0,0,1,0,0,0,0&row=-4&col=99999999", "row -4 is out of range"),
    ("/preprocessing?row=%3Cscript%3Ealert(1)%3C%2Fscript%3E&col=100000", "unusual characters"),
    ("/?weights=upload:" + "cd" * 32, "weights file upload:cdcdcdcdcdcd… is not on this server"),
    ("/?weights=upload:%3Cscript%3Ealert(1)%3C%2Fscript%3E", "weights: an uploaded file is named upload:"),
]


@pytest.mark.parametrize(("link", "phrase"), BAD_LINKS)
def test_bad_links_get_one_message_and_no_exception(app_url, page, link, phrase):
    open_app(page, app_url + link)
    heading = links.PRIVATE_LINK if "model=" in link else PART
    alert = page.locator('[data-testid="stAlert"]', has_text=heading)
    alert.first.wait_for()
    wait_idle(page)
    no_exception(page)
    assert alert.count() == 1
    assert phrase in alert.inner_text()
    assert page.locator("script", has_text="alert(1)").count() == 0


def test_a_page_whose_path_differs_from_its_file_on_a_fresh_server(browser):
    """/compare is served by pages/explanations.py (no file pages/compare.py): no "Page not
    found" over the page, and the app's menu from the first paint."""
    proc, url = start_server()
    ctx, pg = _fresh(browser)
    try:
        _open(pg, url + "/compare?image=coffee&target=967", "Compare explanation methods")
        assert _query(pg)["target"] == "967" and _query(pg)["image"] == "coffee"  # kept, written back
        assert pg.get_by_text("Page not found").count() == 0
        _only_the_app_s_menu(pg)
    finally:
        ctx.close()
        stop_server(proc)
