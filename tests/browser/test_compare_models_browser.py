"""Compare models in real Chromium: pick two models and see both columns."""

from __future__ import annotations

from testing.browser import goto_page, no_exception, open_app, wait_idle


def test_pick_two_models_and_see_both_columns(app_url, page):
    open_app(page, app_url)
    goto_page(page, "Compare models")
    no_exception(page)
    main = page.locator('[data-testid="stMain"]')
    main.get_by_text("Evidence for", exact=False).nth(1).wait_for()  # both Grad-CAMs rendered

    page.get_by_role("combobox", name="Model B", exact=True).click()
    page.get_by_role("option", name="ResNet-18 (ImageNet)").click()
    wait_idle(page)
    main.get_by_text("Random", exact=True).nth(1).click()  # Weights B: offline, ResNet-18 runs untrained
    wait_idle(page)
    no_exception(page)
    main.get_by_text("layer4", exact=False).first.wait_for()  # B's Grad-CAM now comes from ResNet-18
    assert main.get_by_text("Evidence for", exact=False).count() == 2
    assert main.get_by_text("strongest of", exact=False).count() == 2
    assert main.get_by_text("conv1: 64 filters of 3×7×7", exact=False).count() == 1  # ResNet's first conv
    assert main.get_by_text("stem.conv: 32 filters", exact=False).count() == 1  # EfficientNet's
    assert main.get_by_text("Class (1000 shared)").count() == 1
    # the two columns sit side by side: B's grid starts right of A's
    grids = main.locator('[data-testid="stImage"] img')
    boxes = [grids.nth(i).bounding_box() for i in range(grids.count())]
    assert any(b["x"] > 800 for b in boxes) and any(b["x"] < 700 for b in boxes)
