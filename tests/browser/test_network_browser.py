"""The Network page in real Chromium: click a thumbnail → its layer and channel are named and
the close-up changes; one click more → Feature maps with the same layer and channel."""

from __future__ import annotations

import re

from testing.browser import click_picture, clickable_src, goto_page, no_exception, open_app, wait_idle

HEADING = re.compile(r"^([\w.#]+) · channel (\d+)$")


def _selection(page) -> tuple[str, int]:
    text = page.locator('[data-testid="stHeading"]', has_text=" · channel ").first.inner_text().strip()
    m = HEADING.match(text)
    assert m, text
    return m.group(1), int(m.group(2))


def test_click_a_thumbnail_then_open_it_in_feature_maps(app_url, page):
    open_app(page, app_url)
    goto_page(page, "Network")
    page.get_by_text("Value at (", exact=False).first.wait_for()
    no_exception(page)
    assert _selection(page)[0] == "stem"  # the first column's strongest channel
    close_up = clickable_src(page, 1)

    click_picture(page, 0, 0.55, 0.5)  # a thumbnail in the middle of the diagram
    page.get_by_text("Value at (", exact=False).first.wait_for()
    no_exception(page)
    layer, channel = _selection(page)
    assert re.fullmatch(r"blocks\.\d+", layer), layer
    assert clickable_src(page, 1) != close_up  # the detail view shows the clicked channel

    page.get_by_role("button", name="Open in Feature maps →").click()
    wait_idle(page)
    page.get_by_text("One channel up close").wait_for()
    no_exception(page)
    assert page.get_by_role("combobox", name="Layer: block", exact=True).input_value() == layer
    assert page.get_by_role("combobox", name="Channel", exact=True).input_value().startswith(f"channel {channel} (")
    assert "/features" in page.url and f"layer={layer}" in page.url
