"""Hotspots of a clickable picture: the parts of it a student can pick (tiles of a grid, units of
a map, thumbnails of the Network diagram), where they are, what they are called, and which one
an arrow key moves to. Pure Python, in the picture's own pixels; ``cnnviz.ui.clickable`` draws
the keyboard cursor from :meth:`Grid.spec` / :meth:`Boxes.spec`.

Two kinds:

* :class:`Grid`: ``rows`` × ``cols`` equal cells, row-major (a feature-map grid, a map's units).
  Arrow keys move one cell; the browser does this arithmetic itself (:meth:`Grid.move` is the
  rule it follows), so a 112×112 map needs no table of 12,544 neighbours.
* :class:`Boxes`: any rectangles with labels (the Network diagram's columns of different
  heights and sub-columns). The neighbour of each box in each direction is computed here
  (:meth:`Boxes.neighbours`) and sent as a table.

A box is (top, left, bottom, right) with exclusive ends, as ``network.Thumb.box``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from cnnviz.i18n import N_, _

KEYS = ("up", "down", "left", "right")  # the order of a neighbour table's entries
PAGE = 10  # PageUp / PageDown move this many rows of a grid


def _centre(box: tuple[int, int, int, int]) -> tuple[int, int]:
    top, left, bottom, right = box
    return (top + bottom - 1) // 2, (left + right - 1) // 2


def _inside(pixel: tuple[float, float], box: tuple[int, int, int, int]) -> bool:
    y, x = pixel
    return box[0] <= y < box[2] and box[1] <= x < box[3]


@dataclass(frozen=True)
class Grid:
    """``rows`` × ``cols`` cells of ``cell`` = (height, width) pixels each (gap included), the
    first at ``origin`` = (top, left); ``count`` cells in use, row-major (a last row may be
    short; None: all). A cell's label is ``labels[i]`` when given, else ``template`` with
    ``{row}``, ``{col}`` and ``{i}`` (e.g. "unit ({row}, {col})")."""

    rows: int
    cols: int
    cell: tuple[int, int]
    origin: tuple[int, int] = (0, 0)
    count: int | None = None
    labels: tuple[str, ...] | None = None
    template: str = N_("row {row}, column {col}")

    @property
    def n(self) -> int:
        """How many cells are in use."""
        return self.rows * self.cols if self.count is None else min(self.count, self.rows * self.cols)

    def box(self, i: int) -> tuple[int, int, int, int]:
        """One cell's pixels.

        Args:
            i: the cell's index, row-major.

        Returns:
            (top, left, bottom, right) in pixels.
        """
        r, c = divmod(i, self.cols)
        (ch, cw), (oy, ox) = self.cell, self.origin
        return oy + r * ch, ox + c * cw, oy + (r + 1) * ch, ox + (c + 1) * cw

    def centre(self, i: int) -> tuple[int, int]:
        """The pixel in the middle of a cell: where a key press "clicks".

        Args:
            i: the cell's index.

        Returns:
            (row, col) in pixels.
        """
        return _centre(self.box(i))

    def label(self, i: int) -> str:
        """A cell's name for a screen reader.

        Args:
            i: the cell's index.

        Returns:
            Its label, or the template filled with its row, col and index.
        """
        r, c = divmod(i, self.cols)
        return self.labels[i] if self.labels is not None else _(self.template).format(row=r, col=c, i=i)

    def index_at(self, pixel: tuple[float, float]) -> int | None:
        """The cell under a pixel.

        Args:
            pixel: (row, col) in pixels.

        Returns:
            The cell's index, or None outside the grid or past its last cell.
        """
        (ch, cw), (oy, ox) = self.cell, self.origin
        y, x = pixel[0] - oy, pixel[1] - ox
        if y < 0 or x < 0:
            return None
        r, c = int(y // ch), int(x // cw)
        i = r * self.cols + c
        return i if r < self.rows and c < self.cols and i < self.n else None

    def move(self, i: int, key: str) -> int:
        """The cell a key moves the cursor to.

        Args:
            i: the current cell.
            key: "up"/"down"/"left"/"right" one cell (left/right stay in the row), "pageup"/
                "pagedown" PAGE rows, "home"/"end" the row's first/last cell, "first"/"last" the
                grid's.

        Returns:
            The new cell's index (``i`` itself at an edge).
        """
        r, c = divmod(i, self.cols)
        last = self.n - 1
        if key in ("up", "down", "pageup", "pagedown"):
            step = {"up": -1, "down": 1, "pageup": -PAGE, "pagedown": PAGE}[key]
            r = min(max(r + step, 0), self.rows - 1)
            while r * self.cols + c > last:  # a short last row: the cell above the hole
                r -= 1
            return r * self.cols + c
        if key == "left":
            return i - 1 if c > 0 else i
        if key == "right":
            return i + 1 if c < self.cols - 1 and i < last else i
        if key == "home":
            return r * self.cols
        if key == "end":
            return min(r * self.cols + self.cols - 1, last)
        return 0 if key == "first" else last if key == "last" else i

    def spec(self, selected: int | None = None) -> dict:
        """What the browser needs.

        Args:
            selected: the selected cell, or None.

        Returns:
            A JSON-able dict: the geometry, the labels or template, the selection.
        """
        return {
            "kind": "grid",
            "rows": self.rows,
            "cols": self.cols,
            "cell": list(self.cell),
            "origin": list(self.origin),
            "n": self.n,
            "labels": list(self.labels) if self.labels is not None else None,
            "template": _(self.template),  # the default in the current language; others pass through
            "page": PAGE,
            "selected": selected if selected is not None and 0 <= selected < self.n else None,
        }


@dataclass(frozen=True)
class Boxes:
    """Rectangles of any size and place, with a label each; their order is the reading order
    (Home/End go to the first/last)."""

    boxes: tuple[tuple[int, int, int, int], ...]
    labels: tuple[str, ...]

    @property
    def n(self) -> int:
        return len(self.boxes)

    def centre(self, i: int) -> tuple[int, int]:
        """The pixel in the middle of a box: where a key press "clicks".

        Args:
            i: the box's index.

        Returns:
            (row, col) in pixels.
        """
        return _centre(self.boxes[i])

    def label(self, i: int) -> str:
        """A box's name for a screen reader.

        Args:
            i: the box's index.

        Returns:
            Its label.
        """
        return self.labels[i]

    def index_at(self, pixel: tuple[float, float]) -> int | None:
        """The box holding a pixel.

        Args:
            pixel: (row, col) in pixels.

        Returns:
            The box's index, or None.
        """
        return next((i for i, b in enumerate(self.boxes) if _inside(pixel, b)), None)

    def neighbour(self, i: int, key: str) -> int:
        """The box an arrow key moves to.

        Left/right: among the boxes whose centre lies that way, those in the nearest band (centre
        within half a box of the nearest one: the next column, or sub-column), then the one
        closest in height. Up/down: only boxes overlapping ``i`` horizontally (its own column),
        the nearest. So a student walks a column with up/down and steps from column to column
        with left/right, never skipping one.

        Args:
            i: the current box.
            key: "up", "down", "left" or "right".

        Returns:
            The new box's index (``i`` itself when there is none).
        """
        cy, cx = self.centre(i)
        top, left, bottom, right = self.boxes[i]
        horizontal = key in ("left", "right")
        sign = -1 if key in ("left", "up") else 1
        found = []
        for j, b in enumerate(self.boxes):
            if j == i:
                continue
            y, x = self.centre(j)
            along, across = (x - cx, y - cy) if horizontal else (y - cy, x - cx)
            if along * sign <= 0:
                continue
            if not horizontal and (b[3] <= left or b[1] >= right):
                continue  # up/down stay in the column
            found.append((abs(along), abs(across), j))
        if not found:
            return i
        nearest = min(a for a, _, _ in found)
        half = ((right - left) if horizontal else (bottom - top)) / 2
        return min((across, along, j) for along, across, j in found if along <= nearest + half)[2]

    @cached_property
    def neighbours(self) -> list[list[int]]:
        """Per box, the boxes that up, down, left and right move to (the order of KEYS); computed
        once per Boxes (O(n²): ~50 ms for the 190 thumbnails of a big model's diagram)."""
        return [[self.neighbour(i, k) for k in KEYS] for i in range(self.n)]

    def spec(self, selected: int | None = None) -> dict:
        """What the browser needs.

        Args:
            selected: the selected box, or None.

        Returns:
            A JSON-able dict: boxes, labels, neighbour table, the selection.
        """
        return {
            "kind": "boxes",
            "boxes": [list(b) for b in self.boxes],
            "labels": list(self.labels),
            "next": self.neighbours,
            "n": self.n,
            "selected": selected if selected is not None and 0 <= selected < self.n else None,
        }


# units()' labels by what a cell is, in the current language (another word: "word (row, col)")
UNIT_TEMPLATES = {"unit": N_("unit ({row}, {col})"), "pixel": N_("pixel ({row}, {col})")}


def units(rows: int, cols: int, zoom: int, what: str = "unit") -> Grid:
    """Every pixel of a map drawn enlarged, as hotspots.

    Args:
        rows: the map's rows.
        cols: its columns.
        zoom: pixels per map unit.
        what: "unit" or "pixel" (labels in the current language), or any word to label
            "``what`` (row, col)".

    Returns:
        A Grid of rows × cols cells.
    """
    template = _(UNIT_TEMPLATES[what]) if what in UNIT_TEMPLATES else what + " ({row}, {col})"
    return Grid(rows, cols, (zoom, zoom), template=template)


Hotspots = Grid | Boxes
