"""Real Chromium: edit one kernel cell on the Convolution page and see the output change."""

from __future__ import annotations

from browser_helpers import goto_page, no_exception, open_app, wait_idle
from playwright.sync_api import TimeoutError as PlaywrightTimeout

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
