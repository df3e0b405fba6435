"""The Channel page in real Chromium: from Feature maps, a clicked tile opens the Channel page
for that channel; its feature visualisation runs in the background with a progress bar."""

from __future__ import annotations

from testing.browser import click_picture, goto_page, no_exception, open_app, wait_idle


def test_feature_maps_tile_opens_the_channel_page(app_url, page):
    open_app(page, app_url)
    goto_page(page, "Feature maps")
    page.get_by_text("stem.act", exact=False).first.wait_for()
    # stem.act: 32 channels in 8 columns × 4 rows, by channel number; tile 10 is row 1, column 2
    click_picture(page, 0, 2.5 / 8, 1.5 / 4)
    page.get_by_text("Channel 10: 112×112", exact=False).wait_for()
    page.get_by_role("button", name="What does channel 10 look for?").click()
    wait_idle(page)
    page.get_by_role("heading", name="One channel").wait_for()
    no_exception(page)
    assert "/channel?" in page.url and "layer=stem.act" in page.url and "channel=10" in page.url
    assert page.get_by_label("Channel (0–31)").input_value() == "10"
    page.get_by_text("filter 10 of stem.conv", exact=False).wait_for()  # its own first-layer filter

    page.get_by_role("button", name="Visualise").click()
    page.get_by_text("mean activation", exact=False).wait_for(timeout=300_000)  # progress, then the picture
    wait_idle(page)
    no_exception(page)


def test_a_clicked_filter_opens_its_channel(app_url, page):
    """Filters: EfficientNet-Lite0's stem.conv has 32 filters in 6 columns; the 8th (row 1, column 1)
    is filter 7, and its output is channel 7 of stem.conv."""
    open_app(page, app_url)
    goto_page(page, "Filters")
    page.get_by_text("Click a filter to see what its output channel looks for").wait_for()
    click_picture(page, 0, 1.5 / 6, 1.5 / 6)
    page.get_by_role("heading", name="One channel").wait_for()
    no_exception(page)
    assert "/channel?" in page.url and "layer=stem.conv" in page.url and "channel=7" in page.url
