"""Feature maps in real Chromium: switching the layer redraws the grid."""

from __future__ import annotations

from browser_helpers import first_image_src, goto_page, no_exception, open_app, wait_idle


def test_switching_layers_changes_the_grid(app_url, page):
    open_app(page, app_url)
    goto_page(page, "Feature maps")
    no_exception(page)
    page.get_by_text("stem.act", exact=False).first.wait_for()  # rendered, not just requested
    before = first_image_src(page)

    page.get_by_role("combobox", name="Layer", exact=True).click()
    page.get_by_role("option", name="conv — Conv2d, 32×112×112").click()
    wait_idle(page)
    no_exception(page)
    page.get_by_text("stem.conv · Conv2d", exact=False).first.wait_for()  # rendered, not just requested
    after = first_image_src(page)
    assert after != before

    page.get_by_role("combobox", name="Layer: block", exact=True).click()
    page.get_by_role("option", name="blocks.5", exact=True).click()
    wait_idle(page)
    no_exception(page)
    page.get_by_text("blocks.5.expand.conv", exact=False).first.wait_for()  # rendered, not just requested
    assert first_image_src(page) not in (before, after)
