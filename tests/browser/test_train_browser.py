"""Real Chromium: train one epoch on shapes, see the curve, save, find the model in the picker."""

from __future__ import annotations

import os

from browser_helpers import goto_page, no_exception, open_app, wait_idle

SHOT = os.environ.get("CNNVIZ_TRAIN_SHOT")  # a path: also save a screenshot there


def test_train_one_epoch_save_and_pick(app_url, page):
    open_app(page, app_url)
    goto_page(page, "Train")
    assert page.get_by_role("combobox", name="Dataset").count() == 1  # shapes by default
    slider = page.get_by_role("slider", name="Epochs")
    slider.focus()
    slider.press("Home")  # 1 epoch
    wait_idle(page)
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("5 · Results").wait_for(timeout=120_000)
    wait_idle(page)
    no_exception(page)
    # the live curves (loss and accuracy) and the confusion matrix are charts
    assert page.locator('[data-testid="stVegaLiteChart"]').count() >= 3
    assert page.get_by_text("Validation accuracy").count() == 1
    if SHOT:
        page.screenshot(path=SHOT, full_page=True)

    page.get_by_label("Name").fill("browser_shapes")
    page.get_by_label("Name").press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Save", exact=True).click()
    wait_idle(page)
    page.get_by_text("Saved as").wait_for()
    no_exception(page)

    # the sidebar picker lists it: open the app afresh (the Predict page) and choose it
    open_app(page, app_url)
    page.get_by_role("combobox", name="Model").click()
    page.get_by_role("option", name="browser_shapes (yours)").click()
    wait_idle(page)
    no_exception(page)
    # the sidebar now describes the chosen model with its saved metadata
    assert "trained on shapes" in page.locator('[data-testid="stSidebar"]').inner_text()
