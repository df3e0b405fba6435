"""Grad-CAM, Compare methods and Fool the network in real Chromium."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from testing.browser import first_image_src, goto_page, no_exception, open_app, wait_idle

SLOW = 180_000  # ms: 2 shared cores; expect() polls until the rerun has drawn it


def test_gradcam_search_a_class_and_download(app_url, page):
    open_app(page, app_url)
    goto_page(page, "Grad-CAM")
    no_exception(page)
    expect(page.get_by_text("Map: 7×7 at", exact=False).first).to_be_visible(timeout=SLOW)
    before = first_image_src(page)

    box = page.get_by_role("combobox", name="Class to explain")
    box.click()
    page.keyboard.type("tabby")
    page.get_by_role("option", name="tabby (281)", exact=False).first.click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="tabby").first).to_be_visible(timeout=SLOW)
    wait_idle(page)
    no_exception(page)
    assert first_image_src(page) != before

    with page.expect_download() as dl:
        page.get_by_role("button", name="Download PNG").click()
    path = dl.value.path()
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert page.get_by_text("18 blocks, early → late", exact=False).count() == 0  # computed once asked for
    page.get_by_text("Show Grad-CAM at every block").click()
    expect(page.get_by_text("18 blocks, early → late", exact=False).first).to_be_visible(timeout=SLOW)
    assert "sweep=1" in page.url


def test_compare_and_adversarial_pages(app_url, page):
    open_app(page, app_url)
    goto_page(page, "Compare methods")
    no_exception(page)
    for title in ("Grad-CAM++", "Guided Grad-CAM", "Saliency"):
        expect(page.get_by_text(title, exact=True).first).to_be_visible(timeout=SLOW)
    expect(page.get_by_role("button", name="Run the slow ones too")).to_be_visible(timeout=SLOW)
    page.get_by_role("button", name="Run the slow ones too").click()
    # the slow ones run as jobs of the server's queue: their bars are polled every second, and
    # the page redraws itself with the maps when they are done
    for title in ("Integrated Gradients", "Occlusion"):
        expect(page.get_by_text(re.compile(rf"^{title} · \d+ ms$")).first).to_be_visible(timeout=SLOW)
    wait_idle(page)
    no_exception(page)

    goto_page(page, "Fool the network")
    no_exception(page)
    expect(page.get_by_text("Fooled:", exact=False).first).to_be_visible(timeout=SLOW)
    slider = page.get_by_role("slider", name="ε: how far each pixel may move (in 1/255 steps)")
    slider.focus()
    page.keyboard.press("Home")
    wait_idle(page)
    no_exception(page)
    expect(page.get_by_text("The change (none at ε = 0)").first).to_be_visible(timeout=SLOW)
