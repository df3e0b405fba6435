"""Real Chromium: edit one kernel cell on the Convolution page and see the output change."""

from __future__ import annotations

import re

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from testing.browser import click_picture, goto_page, no_exception, open_app, wait_idle

COL_W = 70  # the kernel editor's column width (widgets.kernel_editor)


def test_edit_kernel_cell_changes_output(app_url, page):
    open_app(page, app_url)
    goto_page(page, "Convolution")
    out = page.locator('[data-testid="stImage"]', has_text="Output").first
    out.locator("img").wait_for()
    no_exception(page)
    src_before = out.locator("img").get_attribute("src")
    caption_before = out.inner_text()
    assert "max 4.87" in caption_before  # the Laplacian preset on the default photo

    # the grid is a canvas (glide-data-grid): double-click the centre cell, type, Enter
    box = page.locator('[data-testid="stDataFrame"] [data-testid="data-grid-canvas"]').first.bounding_box()
    row_h = box["height"] / 4  # a header row and 3 kernel rows
    changed = (
        "before => { const i = [...document.querySelectorAll('[data-testid=stImage]')]"
        ".find(e => e.innerText.includes('Output')); return i && i.querySelector('img').src !== before; }"
    )
    for attempt in range(3):  # a busy machine can drop the first keystrokes into the cell editor
        page.mouse.dblclick(box["x"] + COL_W * 1.5, box["y"] + row_h * 2.5)  # the centre cell
        cell = page.locator("input.gdg-input, textarea.gdg-input").first
        cell.wait_for()
        cell.fill("3")
        cell.press("Enter")
        wait_idle(page)
        try:
            page.wait_for_function(changed, arg=src_before, timeout=20_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    no_exception(page)
    assert out.locator("img").get_attribute("src") != src_before
    # centre 3 instead of 8: a flat grey area v now gives 3v − 8v = −5v, so the output turns negative
    caption_after = out.inner_text()
    assert caption_after != caption_before and "min -" in caption_after
    # the step-through's kernel table shows the edited weight too
    assert "3.00" in page.locator('[data-testid="stMarkdown"]', has_text="9 input values").first.inner_text()


def test_click_the_input_moves_the_stepper(app_url, page):
    open_app(page, app_url)
    goto_page(page, "Convolution")
    page.get_by_text("Follow one output pixel").wait_for()
    no_exception(page)
    where = re.compile(r"output pixel \(row (\d+), column (\d+)\)")

    def traced() -> tuple[int, int]:
        m = where.search(page.get_by_text(where).first.inner_text())
        return int(m.group(1)), int(m.group(2))

    before = traced()
    # the 224×224 input (3×3 kernel, stride 1, padding 1): the window centred on pixel (168, 56)
    click_picture(page, 0, 56.5 / 224, 168.5 / 224)
    no_exception(page)
    row, col = traced()
    assert (row, col) != before
    assert abs(row - 168) <= 1 and abs(col - 56) <= 1, (row, col)
    patch_row = int(page.get_by_role("slider", name="Patch row").input_value())
    assert patch_row <= row < patch_row + 4  # the traced pixel is inside the stepper's patch
