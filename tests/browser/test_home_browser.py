"""The real app in real Chromium: upload a photo, see its top class; switch gallery photos."""

from __future__ import annotations

import re

from testing.browser import no_exception, open_app, upload_photo, wait_idle


def test_upload_a_photo_and_see_its_top_class(page, app_url, tmp_path):
    from cnnviz.inputs.gallery import sample_bytes

    photo = tmp_path / "my_cat.png"
    photo.write_bytes(sample_bytes("chelsea"))
    open_app(page, app_url)
    page.get_by_text("forward pass").first.wait_for()
    # the default gallery photo: Grace Hopper in uniform
    assert re.search(r"academic gown|mortarboard|military uniform", page.inner_text("main"))

    upload_photo(page, photo)
    page.get_by_text("forward pass").first.wait_for()
    main = page.inner_text("main")
    assert re.search(r"tabby|tiger cat|Egyptian cat", main), main
    no_exception(page)

    # the sidebar survives reruns: switch the weights and the model picker is still there
    page.locator('[data-testid="stSidebar"]').get_by_text("Random", exact=True).click()
    wait_idle(page)
    assert page.get_by_role("combobox", name="Model").count() == 1
    no_exception(page)
