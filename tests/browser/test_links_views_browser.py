"""Links in real Chromium, part two: views set by clicking on the Convolution page (an edited
kernel cell, the stepped output pixel) and the Preprocessing page (the pixel) open the same in
a fresh browser; the Share control's QR code decodes to the page's link."""

from __future__ import annotations

import re
import urllib.parse

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from testing.browser import click_picture, decode_qr, goto_page, no_exception, open_app, wait_idle

COL_W = 70  # the kernel editor's column width (widgets.kernel_editor)
WHERE = re.compile(r"output pixel \(row (\d+), column (\d+)\)")


def _fresh(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 720})
    pg = ctx.new_page()
    pg.set_default_timeout(120_000)
    return ctx, pg


def _query(pg) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(pg.url).query))


def _images(pg, n: int) -> list[bytes]:
    """The bytes of the main area's first ``n`` pictures, as the browser fetches them."""
    imgs = pg.locator('[data-testid="stMain"] [data-testid="stImage"] img')
    srcs = [imgs.nth(i).get_attribute("src") for i in range(n)]
    return [pg.request.get(urllib.parse.urljoin(pg.url, s)).body() for s in srcs]


def _wait_query(pg, name: str) -> None:
    pg.wait_for_function("(n) => new URL(location.href).searchParams.has(n)", arg=name, timeout=120_000)
    wait_idle(pg)


def _edit_centre_cell(pg, value: str) -> None:
    """Type ``value`` into the 3×3 kernel editor's centre cell (a canvas grid) and wait for the URL."""
    box = pg.locator('[data-testid="stDataFrame"] [data-testid="data-grid-canvas"]').first.bounding_box()
    row_h = box["height"] / 4  # a header row and 3 kernel rows
    for attempt in range(3):  # a busy machine can drop the first keystrokes into the cell editor
        pg.mouse.dblclick(box["x"] + COL_W * 1.5, box["y"] + row_h * 2.5)
        cell = pg.locator("input.gdg-input, textarea.gdg-input").first
        cell.wait_for()
        cell.fill(value)
        cell.press("Enter")
        wait_idle(pg)
        try:
            _wait_query_value(pg, "cells", f"-1,-1,-1,-1,{value},-1,-1,-1,-1", 20_000)
            return
        except PlaywrightTimeout:
            if attempt == 2:
                raise


def _wait_query_value(pg, name: str, value: str, timeout: float = 120_000) -> None:
    pg.wait_for_function(
        "([n, v]) => new URL(location.href).searchParams.get(n) === v", arg=[name, value], timeout=timeout
    )
    wait_idle(pg)


def test_a_convolution_view_with_an_edited_kernel_and_a_stepped_pixel_opens_the_same(app_url, browser):
    ctx, pg = _fresh(browser)
    open_app(pg, app_url + "/?image=chelsea")
    goto_page(pg, "Convolution")
    pg.get_by_text("Follow one output pixel").wait_for()
    wait_idle(pg)
    assert "cells" not in _query(pg)  # the preset's own kernel is named by kernel= alone
    _edit_centre_cell(pg, "2.5")  # the Laplacian (8 in the middle, −1 around) with 2.5 instead
    click_picture(pg, 0, 56.5 / 224, 168.5 / 224)  # the window onto input pixel (168, 56)
    _wait_query_value(pg, "col", "56")
    q = _query(pg)
    assert q["cells"] == "-1,-1,-1,-1,2.5,-1,-1,-1,-1" and q["kernel"] == "edge (Laplacian)"
    assert (q["row"], q["col"]) == ("168", "56") and q["image"] == "chelsea"
    names = ["output pixel (row 168, column 56)", "your kernel (edited from edge (Laplacian))"]
    shown = [pg.get_by_text(n).count() for n in names]
    assert min(shown) >= 1
    pictures = _images(pg, 3)  # the output, and the step's input and output windows

    ctx2, pg2 = _fresh(browser)
    open_app(pg2, pg.url)
    pg2.get_by_text(names[0]).first.wait_for()
    wait_idle(pg2)
    no_exception(pg2)
    assert [pg2.get_by_text(n).count() for n in names] == shown
    assert pg2.locator('[data-testid="stAlert"]', has_text="could not be used").count() == 0
    assert _query(pg2) == q
    assert _images(pg2, 3) == pictures
    ctx2.close()
    ctx.close()


def test_a_preprocessing_pixel_opens_the_same(app_url, browser):
    ctx, pg = _fresh(browser)
    open_app(pg, app_url + "/?image=coffee")
    goto_page(pg, "Preprocessing")
    _wait_query(pg, "row")
    row = int(_query(pg)["row"])
    for step in range(1, 3):  # one key at a time: a press during a rerun can be lost
        pg.get_by_role("slider", name="Pixel row").focus()
        pg.keyboard.press("ArrowLeft")
        _wait_query_value(pg, "row", str(row - step))
    q = _query(pg)
    caption = f"Pixel ({q['row']}, {q['col']}) of the 224×224 picture"
    assert pg.get_by_text(caption).count() == 1
    circled = pg.locator('[data-testid="stImage"]', has_text="The chosen pixel, circled").locator("img")
    before = pg.request.get(urllib.parse.urljoin(pg.url, circled.get_attribute("src"))).body()

    ctx2, pg2 = _fresh(browser)
    open_app(pg2, pg.url)
    pg2.get_by_text(caption).first.wait_for()
    wait_idle(pg2)
    no_exception(pg2)
    assert _query(pg2) == q
    circled2 = pg2.locator('[data-testid="stImage"]', has_text="The chosen pixel, circled").locator("img")
    assert pg2.request.get(urllib.parse.urljoin(pg2.url, circled2.get_attribute("src"))).body() == before
    ctx2.close()
    ctx.close()


def test_the_share_qr_code_decodes_to_the_page_link(app_url, browser):
    """The Share control's QR code (the "Show the QR code" dialog) decodes to exactly the address
    bar's link, both as served and as drawn on the screen (a long link: an edited 5×5 kernel);
    the popover's link to copy is that link too."""
    ctx, pg = _fresh(browser)
    cells = ",".join(["-0.0625"] * 12 + ["1.5"] + ["0.0625"] * 12)
    open_app(pg, app_url + f"/convolution?image=chelsea&size=5&cells={cells}&row=7&col=9")
    pg.get_by_text("output pixel (row 7, column 9)").first.wait_for()
    wait_idle(pg)
    link = pg.url
    assert _query(pg)["cells"] == cells and len(link) > 250
    pg.get_by_role("button", name="Share this view").click()
    code = pg.locator('[data-testid="stPopoverBody"] code')
    code.wait_for()
    assert code.inner_text().strip() == link  # the link ready to copy
    pg.keyboard.press("Escape")
    wait_idle(pg)
    pg.get_by_role("button", name="Show the QR code").click()
    img = pg.get_by_role("dialog").locator('[data-testid="stImage"] img')
    img.wait_for()
    served = pg.request.get(urllib.parse.urljoin(link, img.get_attribute("src"))).body()
    assert decode_qr(served) == [link]
    assert decode_qr(img.screenshot()) == [link]  # as shown on the screen
    no_exception(pg)
    ctx.close()


def test_uploaded_weights_travel_by_link(app_url, browser, tmp_path):
    """A weights file uploaded in one browser: its link opens the same model with those weights in
    another browser (same prediction, the file named in the sidebar)."""
    from safetensors.torch import load_file, save_file

    from cnnviz.models.zoo import SHIPPED_DIR

    state = load_file(SHIPPED_DIR / "tinyvgg_mnist.safetensors")
    last = [k for k in state if k.endswith("weight")][-1]
    state[last] = state[last] * 0.25  # other probabilities than the shipped weights
    ckpt = tmp_path / "my_digits.safetensors"
    save_file(state, ckpt)

    ctx, pg = _fresh(browser)
    open_app(pg, app_url + "/?model=tinyvgg_mnist&image=digit_7")
    shipped = pg.locator('[data-testid="stMain"] h2').first.inner_text()
    pg.locator('[data-testid="stSidebar"]').get_by_text("My file", exact=True).click()
    wait_idle(pg)
    pg.locator('[data-testid="stFileUploader"] input[type="file"]').first.set_input_files(str(ckpt))
    pg.wait_for_function("new URL(location.href).searchParams.get('weights')?.startsWith('upload:')")
    wait_idle(pg)
    pg.get_by_text("forward pass").first.wait_for()
    headline = pg.locator('[data-testid="stMain"] h2').first.inner_text()  # "7 — 64.2%"
    assert headline != shipped and re.fullmatch(r"upload:[0-9a-f]{64}", _query(pg)["weights"])

    ctx2, pg2 = _fresh(browser)
    open_app(pg2, pg.url)
    pg2.get_by_text("forward pass").first.wait_for()
    wait_idle(pg2)
    no_exception(pg2)
    assert pg2.locator('[data-testid="stMain"] h2').first.inner_text() == headline
    assert pg2.get_by_text("Using the weights file from the link: my_digits.safetensors").count() == 1
    assert _query(pg2) == _query(pg)
    ctx2.close()
    ctx.close()


def test_one_back_press_per_view_after_a_click_that_opens_another_page(app_url, browser):
    """A clicked filter opens the Channel page (st.switch_page) and a sidebar choice changes the
    view: one history entry each, and Back walks them in order."""
    ctx, pg = _fresh(browser)
    open_app(pg, app_url + "/filters?image=coffee&layer=stem.conv")
    pg.get_by_text("Click a filter to see what its output channel looks for").wait_for()
    wait_idle(pg)
    filters = pg.url
    start = pg.evaluate("history.length")
    click_picture(pg, 0, 1.5 / 6, 1.5 / 6)  # filter 7
    pg.get_by_role("heading", name="One channel").wait_for()
    _wait_query_value(pg, "channel", "7")
    assert pg.evaluate("history.length") == start + 1
    channel = pg.url
    pg.locator('[data-testid="stSidebar"]').get_by_text("Random", exact=True).click()
    _wait_query_value(pg, "weights", "random")
    assert pg.evaluate("history.length") == start + 2
    pg.go_back()
    wait_idle(pg)
    assert pg.url == channel
    pg.go_back()
    wait_idle(pg)
    assert pg.url == filters
    pg.get_by_text("Click a filter to see what its output channel looks for").wait_for()
    no_exception(pg)
    ctx.close()
