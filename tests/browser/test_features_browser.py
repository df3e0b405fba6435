"""Feature maps in real Chromium: switching the layer redraws the grid; clicking a tile
selects that channel; clicking the close-up selects that unit; an ONNX file as the model
(Feature maps and Grad-CAM)."""

from __future__ import annotations

import pytest

from cnnviz.models.zoo import load_model
from testing.browser import (
    click_picture,
    clickable_src,
    goto_page,
    no_exception,
    open_app,
    picture_served,
    wait_idle,
)
from testing.helpers import export_onnx


def test_switching_layers_changes_the_grid(app_url, page):
    open_app(page, app_url)
    goto_page(page, "Feature maps")
    no_exception(page)
    page.get_by_text("stem.act", exact=False).first.wait_for()  # rendered, not just requested
    before = clickable_src(page, 0)

    page.get_by_role("combobox", name="Layer", exact=True).click()
    page.get_by_role("option", name="conv — Conv2d, 32×112×112").click()
    wait_idle(page)
    no_exception(page)
    page.get_by_text("stem.conv · Conv2d", exact=False).first.wait_for()  # rendered, not just requested
    after = clickable_src(page, 0)
    assert after != before

    page.get_by_role("combobox", name="Layer: block", exact=True).click()
    page.get_by_role("option", name="blocks.5", exact=True).click()
    wait_idle(page)
    no_exception(page)
    page.get_by_text("blocks.5.expand.conv", exact=False).first.wait_for()  # rendered, not just requested
    assert clickable_src(page, 0) not in (before, after)


def test_clicking_the_grid_and_the_close_up(app_url, page):
    open_app(page, app_url)
    goto_page(page, "Feature maps")
    page.get_by_text("stem.act", exact=False).first.wait_for()
    channel = page.get_by_role("combobox", name="Channel", exact=True)
    assert channel.input_value().startswith("channel 0 (")
    # stem.act: 32 channels in 8 columns × 4 rows, by channel number; tile 10 is row 1, column 2
    click_picture(page, 0, 2.5 / 8, 1.5 / 4)
    no_exception(page)
    page.get_by_text("Channel 10: 112×112", exact=False).wait_for()
    assert channel.input_value().startswith("channel 10 (")  # the selectbox followed

    # a stale click must not come back: choosing another channel in the box sticks
    channel.click()
    page.keyboard.type("channel 3 (")
    page.keyboard.press("Enter")
    wait_idle(page)
    page.get_by_text("Channel 3: 112×112", exact=False).wait_for()
    wait_idle(page)
    assert channel.input_value().startswith("channel 3 (")

    # the close-up (second picture, 112×112 units): click the middle of unit (84, 28)
    click_picture(page, 1, 28.5 / 112, 84.5 / 112)
    no_exception(page)
    page.get_by_text("Receptive field of unit (84, 28)", exact=False).wait_for()


@pytest.mark.parametrize(
    ("arch", "weights"),
    [
        ("squeezenet1_1", "random"),
        ("resnet18", "random"),
        ("efficientnet_lite0", "pretrained"),
        ("tinyvgg_mnist", "pretrained"),
    ],
)
def test_an_onnx_file_in_feature_maps_and_gradcam(app_url, page, tmp_path, arch, weights):
    """Issue 29: each export uploaded as "My file" is the model of Feature maps and Grad-CAM."""
    lm = load_model(arch, weights, device="cpu")
    spec = lm.preprocess_spec
    onnx = export_onnx(lm.model, tmp_path / f"{arch}.onnx", size=spec.size, channels=spec.channels)
    converted = load_model(str(onnx), device="cpu")
    open_app(page, app_url)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("My file", exact=True).click()
    wait_idle(page)
    sidebar.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(onnx))
    page.get_by_text("An ONNX file is a whole model").first.wait_for()
    wait_idle(page)
    no_exception(page)
    goto_page(page, "Feature maps")
    page.get_by_text(" channels of ", exact=False).first.wait_for()
    no_exception(page)
    src, width = picture_served(page, 0)
    assert src.startswith("/media/") and src.endswith(".png") and width > 0
    goto_page(page, "Grad-CAM")
    page.get_by_text(converted.info.default_layer, exact=False).first.wait_for()  # the file's last maps
    page.get_by_text("Download PNG").first.wait_for()
    no_exception(page)
    assert page.locator('[data-testid="stAlert"]').filter(has_text="error").count() == 0
