"""Hotspots of clickable pictures: which hotspot a pixel falls in, where a key press "clicks",
which hotspot each arrow key moves to (worked out by hand on small layouts), the pictures'
own hotspots against their own click maps, and the browser's copy of the rules."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from cnnviz import hotspots as hs
from cnnviz.inside import featuremaps as fm
from cnnviz.inside import filters as fl
from cnnviz.inside import network
from cnnviz.inside.catalogue import catalogue_model, map_layers
from cnnviz.models import small_cnn

JS = Path(__file__).resolve().parents[2] / "cnnviz" / "ui" / "clickable.js"

# 7 cells in 3 columns of 10×20 pixels from (5, 8): rows [0 1 2] [3 4 5] [6 . .]
G7 = hs.Grid(3, 3, (10, 20), origin=(5, 8), count=7, template="cell {i} at ({row}, {col})")


def test_a_pixel_falls_in_the_cell_drawn_there():
    assert G7.index_at((5, 8)) == 0  # the first cell's top left pixel
    assert G7.index_at((14.9, 27.9)) == 0  # its last pixel
    assert G7.index_at((15, 28)) == 4  # the next row and column
    assert G7.index_at((25, 8)) == 6
    assert G7.index_at((25, 28)) is None  # the hole after the last cell
    assert G7.index_at((4.9, 8)) is None and G7.index_at((5, 7)) is None  # above, left of the grid
    assert G7.index_at((35, 8)) is None and G7.index_at((5, 68)) is None  # below, right of it
    for i in range(G7.n):
        top, left, bottom, right = G7.box(i)
        assert (bottom - top, right - left) == (10, 20)
        assert G7.index_at(G7.centre(i)) == i  # a key press picks the cell it is on
    assert G7.box(4) == (15, 28, 25, 48) and G7.centre(4) == (19, 37)
    assert G7.label(5) == "cell 5 at (1, 2)"


def test_arrow_keys_walk_a_grid_with_a_short_last_row():
    m = G7.move
    assert [m(4, k) for k in ("up", "down", "left", "right")] == [1, 4, 3, 5]  # below 4 is the hole
    assert m(3, "down") == 6 and m(6, "up") == 3
    assert m(3, "left") == 3 and m(5, "right") == 5  # left/right stay in their row
    assert m(6, "right") == 6  # the last cell: nothing after it
    assert m(2, "down") == 5 and m(5, "down") == 5
    assert m(1, "pagedown") == 4  # ten rows down: the last row, a hole there, so the row above
    assert m(0, "pagedown") == 6 and m(6, "pageup") == 0
    assert m(4, "home") == 3 and m(4, "end") == 5 and m(6, "end") == 6
    assert m(4, "first") == 0 and m(1, "last") == 6


def test_units_of_a_map():
    u = hs.units(4, 6, 5)  # a 4×6 map drawn 5× larger
    assert u.n == 24
    assert u.index_at((19, 29)) == 23 and u.index_at((20, 0)) is None
    assert [divmod(p, 5) for p in u.centre(3 * 6 + 2)] == [(3, 2), (2, 2)]  # pixel (17, 12): unit (3, 2)
    assert u.label(7) == "unit (1, 1)"
    assert hs.units(2, 2, 3, "pixel").label(3) == "pixel (1, 1)"


# Three columns, as the Network diagram draws them (10-px boxes, 2-px gaps):
#   A: 0 1 2 stacked at x 0;  B: two sub-columns (3 4 at x 20, 5 at x 32);  C: 6 at x 52, row 2
def _box(row: int, x: int) -> tuple[int, int, int, int]:
    return (row * 12, x, row * 12 + 10, x + 10)


LAYOUT = hs.Boxes(
    (_box(0, 0), _box(1, 0), _box(2, 0), _box(0, 20), _box(1, 20), _box(0, 32), _box(2, 52)),
    tuple("abcdefg"),
)


def test_boxes_neighbours_by_hand():
    # up, down, left, right
    assert LAYOUT.neighbours == [
        [0, 1, 0, 3],  # A0: right to B's first tile
        [0, 2, 1, 4],  # A1: right to B1
        [1, 2, 2, 4],  # A2: B has no third row: right to the nearest in height, B1
        [3, 4, 0, 5],  # B0: left back to A0, right to B's second sub-column
        [3, 4, 1, 5],  # B1: right to 5 (the next sub-column comes before column C)
        [5, 5, 3, 6],  # 5: nothing above or below in its sub-column; right to C
        [6, 6, 5, 6],  # C: left to the nearest box of the band before it
    ]
    assert LAYOUT.index_at((13, 25)) == 4 and LAYOUT.index_at((10, 5)) is None  # a gap
    assert LAYOUT.centre(6) == (28, 56)
    spec = LAYOUT.spec(selected=4)
    assert spec["selected"] == 4 and spec["next"] == LAYOUT.neighbours and spec["labels"][6] == "g"
    assert LAYOUT.spec(selected=99)["selected"] is None


def _tiny_diagram() -> network.Diagram:
    model = small_cnn.build_model(small_cnn.preset("tinyvgg"), in_channels=1, num_classes=10, size=28, seed=3)
    layers = catalogue_model(model.eval(), (1, 1, 28, 28))
    rng = np.random.default_rng(0)
    maps = {la.name: rng.standard_normal(la.out_shape).astype(np.float32) for la in map_layers(layers)}
    cols = network.columns(layers)
    return network.diagram(Image.new("L", (28, 28)), maps, cols, every_channel=True, classes=[("7", 0.9)])


def test_diagram_hotspots_are_its_thumbnails_and_right_walks_every_column():
    d = _tiny_diagram()
    spots = d.hotspots
    assert spots.n == len(d.thumbs)
    for i, t in enumerate(d.thumbs):
        layer = d.columns[t.column].layer.name
        assert d.at(spots.centre(i)) == (layer, t.channel)  # a key press picks what a click there picks
        assert spots.label(i) == f"{layer}, channel {t.channel}"
        assert d.index_of(layer, t.channel) == i
    # Right from the first thumbnail visits every column (and sub-column) left to right, none skipped
    i, lefts = 0, [d.thumbs[0].box[1]]
    while (j := spots.neighbour(i, "right")) != i:
        i = j
        lefts.append(d.thumbs[i].box[1])
    subcolumns = sorted({t.box[1] for t in d.thumbs})
    assert lefts == subcolumns
    # Down walks the first column's channels in order, then stops
    i, walked = 0, [0]
    while (j := spots.neighbour(i, "down")) != i:
        i = j
        walked.append(i)
    rows = min(network.MAX_ROWS, max(len(c.channels) for c in d.columns))
    assert [d.thumbs[k].channel for k in walked] == list(range(min(len(d.columns[0].channels), rows)))


def test_a_phone_scrolls_the_diagram_rather_than_shrink_its_labels_and_tiles():
    d = _tiny_diagram()
    w = network.readable_width(d)
    assert w >= d.rgb.shape[1]  # labels at least their drawn size
    assert d.thumb * w / d.rgb.shape[1] >= 28  # tiles above WCAG 2.5.8's 24 px
    assert network.readable_width(d, tap=4 * d.thumb) == 4 * d.rgb.shape[1]


def test_feature_grid_hotspots_match_its_click_map():
    rng = np.random.default_rng(1)
    g = fm.feature_grid(rng.random((10, 6, 4)).astype(np.float32), sort="max", width=200)
    spots = g.hotspots("blocks.3, ")
    assert spots.n == 10 and (spots.rows, spots.cols) == (-(-10 // g.ncols), g.ncols)
    for i, c in enumerate(g.order):
        assert g.channel_at(spots.centre(i)) == c
        assert spots.label(i) == f"blocks.3, channel {c}"
        assert g.position(int(c)) == i
    assert g.position(99) is None


@pytest.mark.parametrize("shape", [(32, 3, 3, 3), (7, 16, 5, 5), (64, 1, 3, 3)])
def test_filter_hotspots_match_filter_at(shape):
    spots = fl.filter_hotspots(shape, 520)
    pic = fl.filter_grid(np.random.default_rng(2).standard_normal(shape).astype(np.float32), width=520)
    assert spots.n == shape[0]
    for i in range(spots.n):
        assert fl.filter_at(spots.centre(i), shape, 520) == i
        top, left, bottom, right = spots.box(i)
        assert bottom <= pic.shape[0] + spots.cell[0] and right <= pic.shape[1] + spots.cell[1]
    assert spots.label(3) == "filter 3"


def _node(script: str):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (the browser tests check the keyboard rules too)")
    out = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(out.stdout)


def test_the_browser_follows_the_same_rules():
    """clickable.js's own grid arithmetic, boxes, labels and table lookups, run by node, against
    the Python rules above, for every cell and key of a few grids."""
    grids = [G7, hs.Grid(1, 5, (3, 3)), hs.Grid(25, 4, (2, 7), count=97, labels=tuple(f"c{i}" for i in range(97)))]
    keys = ["up", "down", "left", "right", "pageup", "pagedown", "home", "end", "first", "last"]
    specs = [g.spec() for g in grids] + [LAYOUT.spec()]
    script = f"""
const m = await import({json.dumps(JS.as_uri())});
const specs = {json.dumps(specs)}, keys = {json.dumps(keys)};
console.log(JSON.stringify(specs.map(s => [...Array(s.n).keys()].map(i =>
  [keys.map(k => m.move(s, i, k)), m.boxOf(s, i), m.labelOf(s, i)]))));
"""
    got = _node(script)
    for g, cells in zip(grids, got, strict=False):
        for i, (moves, box, label) in enumerate(cells):
            assert moves == [g.move(i, k) for k in keys], (g, i)
            assert tuple(box) == g.box(i) and label == g.label(i)
    boxes = got[-1]
    for i, (moves, box, label) in enumerate(boxes):
        assert moves[:4] == LAYOUT.neighbours[i] and moves[6:8] == [0, LAYOUT.n - 1]
        assert tuple(box) == LAYOUT.boxes[i] and label == LAYOUT.labels[i]
