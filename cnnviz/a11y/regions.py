"""Where a map is strong, in words: a 3×3 grid of regions and the share above half strength.

A sighted student glances at a heat map and sees "bright in the upper left, a small blob";
:func:`spot` computes the same from the numbers so that a text alternative can say it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cnnviz.i18n import N_, _, number

# rows top → bottom, columns left → right of a picture cut into thirds. These words are keys
# (code and tests compare them); a sentence says them through IN or TOWARDS, whose whole
# phrases are translated: a region's preposition and article differ by language.
REGIONS = (
    ("upper left", "top centre", "upper right"),  # i18n: not UI (keys)
    ("centre left", "centre", "centre right"),  # i18n: not UI (keys)
    ("lower left", "bottom centre", "lower right"),  # i18n: not UI (keys)
)
_KEYS = [key for row in REGIONS for key in row]


def _by_key(*phrases: str) -> dict[str, str]:
    """The nine ``phrases`` (row by row, as :data:`REGIONS`) by region key."""
    return dict(zip(_KEYS, phrases, strict=True))


# The bare names, for a sentence that says "the {region}" itself: ``_(region(...))`` finds them.
NAMES = _by_key(
    N_("upper left"),
    N_("top centre"),
    N_("upper right"),
    N_("centre left"),
    N_("centre"),
    N_("centre right"),
    N_("lower left"),
    N_("bottom centre"),
    N_("lower right"),
)
IN = _by_key(
    N_("in the upper left"),
    N_("in the top centre"),
    N_("in the upper right"),
    N_("in the centre left"),
    N_("in the centre"),
    N_("in the centre right"),
    N_("in the lower left"),
    N_("in the bottom centre"),
    N_("in the lower right"),
)
TOWARDS = _by_key(
    N_("towards the upper left"),
    N_("towards the top centre"),
    N_("towards the upper right"),
    N_("towards the centre left"),
    N_("towards the centre"),
    N_("towards the centre right"),
    N_("towards the lower left"),
    N_("towards the bottom centre"),
    N_("towards the lower right"),
)


def in_region(key: str) -> str:
    """'in the upper left' (in the reader's language).

    Args:
        key: a region key of :data:`REGIONS`.

    Returns:
        The phrase.
    """
    return _(IN[key])


def region(row: float, col: float) -> str:
    """The region of a point of a picture (a 3 × 3 grid).

    Args:
        row: the point's row as a fraction of the height (0..1).
        col: its column as a fraction of the width (0..1).

    Returns:
        A region key of :data:`REGIONS`.
    """
    r = min(2, max(0, int(row * 3)))
    c = min(2, max(0, int(col * 3)))
    return REGIONS[r][c]


def region_of_box(box: tuple[int, int, int, int], size: int) -> str:
    """The region of the centre of a pixel box.

    Args:
        box: inclusive (top, left, bottom, right) in pixels.
        size: the square picture's side.

    Returns:
        A region key of :data:`REGIONS`.
    """
    top, left, bottom, right = box
    return region((top + bottom + 1) / 2 / size, (left + right + 1) / 2 / size)


@dataclass(frozen=True)
class Spot:
    """Where a map's positive part is strong.

    ``peak``: region of the maximum, at ``peak_at`` = (row, col) of the map; ``centre``: region
    of the centre of mass of the values at or above half the maximum; ``share``: the fraction
    of the map's area at or above half the maximum (0..1); ``top``: the maximum."""

    peak: str
    peak_at: tuple[int, int]
    centre: str
    share: float
    top: float

    def where(self) -> str:
        """Where the strong area is, in the reader's language.

        Returns:
            'in the upper left', or 'in the upper left, spreading towards the centre' when the
            strong area's centre lies in another region than its peak.
        """
        if self.centre == self.peak:
            return in_region(self.peak)
        return _("{where}, spreading {towards}").format(where=in_region(self.peak), towards=_(TOWARDS[self.centre]))


def spot(m: np.ndarray) -> Spot | None:
    """Where the positive part of a map is strong.

    NaN and infinite values count as 0 (a map made of NaN weights says nothing).

    Args:
        m: (H, W) map.

    Returns:
        Its :class:`Spot`, or None when nothing is above 0.

    Raises:
        ValueError: ``m`` is not a non-empty 2-D map (a programming error).
    """
    a = np.nan_to_num(np.asarray(m, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    if a.ndim != 2 or not a.size:
        raise ValueError(f"spot() takes one (H, W) map, not shape {a.shape}")  # i18n: not UI (for programmers)
    top = float(a.max())
    if top <= 0:
        return None
    h, w = a.shape
    r, c = np.unravel_index(int(np.argmax(a)), a.shape)
    strong = a >= top / 2
    weights = np.where(strong, a, 0.0)
    rows, cols = np.mgrid[0:h, 0:w]
    cy = float((weights * (rows + 0.5)).sum() / weights.sum()) / h
    cx = float((weights * (cols + 0.5)).sum() / weights.sum()) / w
    return Spot(region((r + 0.5) / h, (c + 0.5) / w), (int(r), int(c)), region(cy, cx), float(strong.mean()), top)


def percent(share: float) -> str:
    """A share as a whole percentage with a space, as English, Spanish and German texts all
    write it for a screen reader: 0.283 → '28 %'.

    Args:
        share: 0..1.

    Returns:
        The text; small but non-zero shares stay visible ('<1 %').
    """
    if 0 < share < 0.005:
        return _("<1 %")
    return _("{n} %").format(n=number(share * 100, 0))
