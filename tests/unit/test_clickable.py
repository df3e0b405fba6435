"""Clicks on pictures: CSS pixels → the picture's pixels → a tile / channel, each choice
handled once, and what ``clicked()`` sends the browser (the component replaced by a fake)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from streamlit.testing.v1 import AppTest

from cnnviz import render
from cnnviz.inside import featuremaps as fm
from cnnviz.ui import clickable
from cnnviz.ui.clickable import is_new, to_pixel


def test_click_is_scaled_from_displayed_to_natural_pixels():
    # a 600×1000 picture shown 500 CSS px wide (300 high): x=250 is column 500, y=150 row 300
    assert to_pixel({"x": 250, "y": 150, "width": 500, "height": 300}, (600, 1000)) == (300, 500)
    assert to_pixel({"x": 499.9, "y": 0, "width": 500, "height": 300}, (600, 1000)) == (0, 999)
    assert to_pixel({"x": 500, "y": 0, "width": 500, "height": 300}, (600, 1000)) is None  # past the edge
    assert to_pixel({"x": 3, "y": 4}, (10, 10)) == (4, 3)  # no size sent: natural size
    assert to_pixel({"y": 4}, (10, 10)) is None
    # whatever a client sends is no crash
    for bad in ({"x": "nan", "y": 1}, {"x": 1, "y": "inf"}, {"x": 1, "y": 1, "width": "-inf"}, {"x": [], "y": 1}):
        assert to_pixel(bad, (10, 10)) is None
    # a key press sends a hotspot's centre in the picture's own pixels, with its own size
    assert to_pixel({"x": 37.5, "y": 19.5, "width": 1000, "height": 600}, (600, 1000)) == (19, 37)


def test_a_click_is_handled_once():
    click = {"x": 1, "y": 2, "width": 10, "height": 10, "id": "k3-1"}
    assert is_new(click, None)
    assert not is_new(click, "k3-1")  # the same choice seen again on a rerun
    assert is_new({**click, "id": "k3-2"}, "k3-1")
    assert not is_new(None, None)


SENT: list[dict] = []  # what the fake component was given, one entry per run
CLICKS: list[dict | None] = []  # what it answers, one per run (then None)


def _served(src: str) -> bytes:
    """The picture at ``src``: the bytes the session's media endpoint serves (AppTest's own)."""
    from streamlit import runtime

    name = src.rsplit("/", 1)[1]
    return runtime.get_instance().media_file_mgr._storage.get_file(name).content


def _fake_mount(*, key, data, on_click_change, width, height):
    assert callable(on_click_change) and (width, height) == ("stretch", "content")
    SENT.append({"key": key, **data, "png": _served(data["src"])})
    return {"click": CLICKS.pop(0) if CLICKS else None}


def _page():
    import numpy as np
    import streamlit as st

    from cnnviz.hotspots import Grid
    from cnnviz.ui import clickable, state

    state.init_state()
    pic = np.zeros((60, 100, 3), np.uint8)  # 3 × 5 tiles of 20 × 20
    hit = clickable.clicked(pic, "pic", alt="", hotspots=Grid(3, 5, (20, 20), template="tile {i}"), selected=7)
    st.session_state.setdefault("hits", []).append(hit)


def test_clicked_sends_the_picture_and_hotspots_and_returns_each_choice_once(monkeypatch):
    monkeypatch.setattr(clickable, "_mount", _fake_mount)
    SENT.clear()
    CLICKS[:] = [
        {"x": 125, "y": 30, "width": 250, "height": 150, "id": "a-1"},  # a click at half size: pixel (12, 50)
        {"x": 125, "y": 30, "width": 250, "height": 150, "id": "a-1"},  # the same one again: ignored
        {"x": 69.5, "y": 49.5, "width": 100, "height": 60, "id": "a-2"},  # Enter on tile 13's centre
    ]
    at = AppTest.from_function(_page, default_timeout=60).run()
    at.run()
    at.run()
    at.run()
    assert not at.exception
    assert at.session_state["hits"] == [(12, 50), None, (49, 69), None]
    sent = SENT[0]
    assert sent["key"] == "pic" and sent["natural"] == [60, 100] and sent["src"].endswith(".png")
    assert np.asarray(Image.open(io.BytesIO(sent["png"]))).shape == (60, 100, 3)
    assert sent["spots"]["kind"] == "grid" and sent["spots"]["selected"] == 7 and sent["spots"]["n"] == 15
    assert sent["alt"] == "A picture of 15 parts to choose from, such as tile 0." and not sent["disabled"]

    # the presenter's locked link: the picture says so and nothing is chosen
    CLICKS[:] = [{"x": 1, "y": 1, "width": 100, "height": 60, "id": "a-3"}]
    at.session_state["link_present"] = True
    at.session_state["link_lock"] = True
    at.run()
    assert at.session_state["hits"][-1] is None
    assert SENT[-1]["disabled"] and SENT[-1]["locked"] == clickable.LOCKED_TEXT


def test_tile_at_inverts_tile_and_upscale():
    maps = np.arange(7 * 3 * 5, dtype=np.float32).reshape(7, 3, 5)
    zoom, ncols = 4, 3
    grid = render.upscale(render.tile(maps, ncols=ncols, pad=1), zoom)  # (3*(3+1)-1)*4 × (3*(5+1)-1)*4
    cell = (4 * zoom, 6 * zoom)
    for i in range(7):
        r, c = divmod(i, ncols)
        y, x = r * cell[0] + 5, c * cell[1] + 9  # a pixel inside tile i
        assert render.tile_at((y, x), cell, (3, ncols)) == i
        assert grid[y, x] == maps[i, 5 // zoom, 9 // zoom]
    assert render.tile_at((3 * cell[0], 0), cell, (3, ncols)) is None


def test_grid_channel_at_follows_the_sort_order():
    rng = np.random.default_rng(0)
    maps = rng.random((10, 6, 4)).astype(np.float32)
    g = fm.feature_grid(maps, sort="max", norm="layer", width=200)
    strongest = int(np.argmax(maps.reshape(10, -1).max(1)))
    assert g.channel_at((1, 1)) == strongest  # first tile, top left
    second = int(np.argsort(-maps.reshape(10, -1).max(1))[1])
    assert g.channel_at((1, g.tile + 1)) == second
    g7 = fm.feature_grid(maps[:7], width=200)  # 4 columns: the second row has 3 tiles and a hole
    assert g7.ncols == 4
    assert g7.channel_at((g7.tile_h + 1, 2 * g7.tile + 1)) == 6
    assert g7.channel_at((g7.tile_h + 1, 3 * g7.tile + 1)) is None
    # the outline is drawn on the chosen channel's tile and nowhere else
    out = g.outlined(second)
    changed = np.argwhere(np.any(out != g.rgb, axis=2))
    assert changed.size and {g.channel_at(tuple(p)) for p in changed} == {second}


def test_a_click_on_the_convolution_input_puts_the_window_on_that_pixel():
    from cnnviz.teaching import convolution as cv

    rng = np.random.default_rng(1)
    grey = rng.random((40, 50)).astype(np.float32)
    for k, stride, padding in ((3, 1, 1), (5, 2, 0), (3, 3, 2)):
        out = cv.conv2d(grey, np.ones((k, k), np.float32), stride, padding)
        oh, ow = out.shape
        for py, px in ((20, 25), (k, k), (39 - k, 49 - k), (0, 0), (39, 49)):
            pr, pc, pos = cv.patch_at((py, px), k, stride, padding, (oh, ow), (4, 4))
            assert 0 <= pr <= oh - 4 and 0 <= pc <= ow - 4 and 1 <= pos <= 16
            row, col = pr + (pos - 1) // 4, pc + (pos - 1) % 4
            st = cv.step(grey, np.ones((k, k), np.float32), stride, padding, row, col)
            # the window covers the pixel, or is the nearest one at the border
            assert st.top <= py < st.top + k or row in (0, oh - 1), (k, stride, padding, py, st.top)
            assert st.left <= px < st.left + k or col in (0, ow - 1), (k, stride, padding, px, st.left)


def _unit_page():
    import numpy as np
    import streamlit as st

    from cnnviz.ui import clickable, state

    state.init_state()
    st.session_state.setdefault("r", 1)
    st.session_state.setdefault("c", 2)
    view = np.zeros((4 * 5, 6 * 5, 3), np.uint8)  # a 4×6 map, 5 pixels per unit
    clickable.pick_unit(
        view, "units", alt="a map", shape=(4, 6), unit=(st.session_state.r, st.session_state.c), keys=("r", "c")
    )


def test_pick_unit_marks_the_unit_and_writes_the_one_chosen(monkeypatch):
    monkeypatch.setattr(clickable, "_mount", _fake_mount)
    SENT.clear()
    CLICKS[:] = [{"x": 27.5, "y": 17.5, "width": 30, "height": 20, "id": "u-1"}]  # pixel (17, 27): unit (3, 5)
    at = AppTest.from_function(_unit_page, default_timeout=60).run()
    assert not at.exception
    assert (at.session_state["r"], at.session_state["c"]) == (3, 5)
    first, last = SENT[0], SENT[-1]
    assert first["spots"]["selected"] == 1 * 6 + 2 and last["spots"]["selected"] == 3 * 6 + 5  # after the rerun
    assert first["spots"]["cell"] == [5, 5] and first["spots"]["template"] == "unit ({row}, {col})"
    pic = np.asarray(Image.open(io.BytesIO(first["png"])).convert("RGB"))
    marked = np.argwhere(np.all(pic == (255, 0, 255), axis=2))
    assert {(int(y) // 5, int(x) // 5) for y, x in marked} == {(1, 2)} and len(marked) == 25  # unit (1, 2) only
