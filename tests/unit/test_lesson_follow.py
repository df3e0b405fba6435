"""The follower's pure parts (cnnviz.ui.lesson_follow): page files, codes, a step's parameters."""

from __future__ import annotations

from cnnviz.lessons.format import PAGES, Step, View
from cnnviz.ui import lesson_follow as F
from testing.helpers import nav_pages


def test_every_page_a_step_may_name_opens_its_own_file():
    files = dict(zip((u for u, _ in nav_pages(url=True)), (f for f, _ in nav_pages()), strict=True))
    for url_path in PAGES:
        assert F.page_file(url_path) == files[url_path], url_path


def test_clean_code():
    assert F.clean_code(" k7f-3q ") == "K7F3Q"
    assert F.clean_code("k7 f3 q9") == "K7F3Q9"
    for bad in (None, "", "ab", "K7F3Q<script>", "x" * 13, "ÄÖÜ12"):
        assert F.clean_code(bad) is None, bad


def test_view_params_keep_own_photo_only_where_the_step_allows():
    view = View("features", {"model": "efficientnet_lite0", "image": "chelsea", "layer": "stem.act"})
    step = Step(title="t", view=view, keep_own_photo=True)
    assert F.view_params(step, "ABC234", keep_photo=True) == {
        "model": "efficientnet_lite0",
        "layer": "stem.act",
        "class": "ABC234",
    }
    assert F.view_params(step, "ABC234", keep_photo=False)["image"] == "chelsea"
    strict = Step(title="t", view=view)
    assert F.view_params(strict, "ABC234", keep_photo=True)["image"] == "chelsea"
