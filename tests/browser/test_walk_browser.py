"""A new user's walk through every page in real Chromium: a model, a photo, every page
renders without an exception box, and each page's main control answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from testing.browser import goto_page, no_exception, open_app, upload_photo, wait_idle
from testing.helpers import nav_pages

ROOT = Path(__file__).resolve().parents[2]
# (nav title, page file) in the order app.py lists them
NAV = nav_pages()
SHOTS = ROOT / "artifacts" / "screenshots"

# Each page's own title (the walk then waits for the script to finish and checks that
# no exception or error box was drawn).
EXPECT = {
    "pages/home.py": "What does the network see?",
    "pages/preprocessing.py": "Preprocessing, step by step",
    "pages/live.py": "Live: the network watches your camera",
    "pages/lesson.py": "Build a lesson",
    "pages/network.py": "The network",
    "pages/channel.py": "One channel",
    "pages/compare_models.py": "Two models, one image",
    "pages/model.py": "The model, layer by layer",
    "pages/features.py": "Feature maps",
    "pages/filters.py": "Filters: what a convolution looks for",
    "pages/convolution.py": "Convolution",
    "pages/activations.py": "Activation functions",
    "pages/pooling.py": "Pooling: shrinking a feature map",
    "pages/train.py": "Train your own CNN",
    "pages/gradcam.py": "Grad-CAM: where did it look?",
    "pages/explanations.py": "Compare explanation methods",
    "pages/adversarial.py": "Fool the network",
}


def test_every_page_has_an_expectation():
    assert {p for p, _ in NAV} == set(EXPECT)


def test_walk_every_page_as_a_new_user(page, app_url, tmp_path):
    from cnnviz.inputs.gallery import sample_bytes

    photo = tmp_path / "my_coffee.png"
    photo.write_bytes(sample_bytes("coffee"))
    open_app(page, app_url)
    sidebar = page.locator('[data-testid="stSidebar"]')
    upload_photo(page, photo)

    for path, title in NAV:
        goto_page(page, title)
        main = page.locator("main")
        try:
            main.locator("h1", has_text=EXPECT[path]).first.wait_for(timeout=120_000)
            wait_idle(page, 120_000)
            no_exception(page)
            assert page.locator('[data-testid="stAlertContentError"]').count() == 0, main.inner_text()[:500]
        except Exception:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"walk_{Path(path).stem}.png"), full_page=True)
            raise
        # the photo is still the student's own after every page switch
        assert sidebar.get_by_text("Using: my_coffee.png").count() == 1, f"{title}: image lost"


@pytest.mark.parametrize("model_option", ["TinyVGG (MNIST digits)", "ResNet-18 (ImageNet)"])
def test_walk_with_another_model(page, app_url, model_option):
    """A 1-channel digits model and a torchvision classic (random weights offline)."""
    open_app(page, app_url)
    page.get_by_role("combobox", name="Model").click()
    page.get_by_role("option", name=model_option).click()
    wait_idle(page)
    if "ResNet" in model_option:
        page.locator('[data-testid="stSidebar"]').get_by_text("Random", exact=True).click()
        wait_idle(page)
    for path, title in NAV:
        if path == "pages/train.py":
            continue  # training does not depend on the sidebar's model
        goto_page(page, title)
        page.locator("main h1", has_text=EXPECT[path]).first.wait_for(timeout=120_000)
        wait_idle(page, 120_000)
        no_exception(page)
        assert page.locator('[data-testid="stAlertContentError"]').count() == 0, title
