"""Ask the class: answers as stored values, their counts, and the model's own answer.

A lesson step may carry a question (``cnnviz.lessons.format.Question``) of three kinds:

- ``choice``: the students pick one of 2..6 labels; an answer is the option's label;
- ``click``: "click the part of the image that mattered most"; an answer is the point as
  fractions of the picture the model sees (its centre crop), "x,y" with x, y in 0..1;
- ``pick_image``: "which of these 4 images excites this channel most?"; an answer is the
  picture's reference (the option, an ``image=`` link value).

The model's own answer ("the reveal") comes from the project's own functions: the top-1 class
(``cnnviz.inside.predict``), the Grad-CAM map's strongest region for that class
(``cnnviz.explain``), the channel's mean activation on each picture (``cnnviz.inside.capture``).
Everything here returns plain data; ``cnnviz/ui/lesson_questions.py`` draws it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from cnnviz.explain.core import explain
from cnnviz.inside.capture import capture
from cnnviz.inside.predict import TopClass, predict, top_classes
from cnnviz.models.loaded_model import LoadedModel

KINDS = ("choice", "click", "pick_image")
CLICK_GRID = 12  # the click heat map's cells per side: 30 clicks stay readable as blobs
HALF = 0.5  # a map's strong region: at or above half its maximum (as cnnviz.a11y.regions)


# ---------------------------------------------------------------- answers as stored values
def click_value(x: float, y: float) -> str:
    """The stored answer for a click at fractions (x, y) of the picture's width and height
    (clipped to 0..1; ValueError for a non-finite coordinate)."""
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError("a click needs finite coordinates")
    return f"{min(1.0, max(0.0, x)):.3f},{min(1.0, max(0.0, y)):.3f}"


def parse_click(value: str) -> tuple[float, float] | None:
    """(x, y) fractions of a stored click answer, or None when it is not one."""
    parts = str(value).split(",")
    if len(parts) != 2:
        return None
    try:
        x, y = float(parts[0]), float(parts[1])
    except ValueError:
        return None
    if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):  # NaN fails both comparisons
        return None
    return x, y


def option_counts(options: Sequence[str], tally: Mapping[str, int]) -> list[int]:
    """Counts per option, in the options' order, from a store's tally (answer value → count);
    values that name no option are left out."""
    return [int(tally.get(o, 0)) for o in options]


def click_heat(answers: Sequence[str], cells: int = CLICK_GRID) -> np.ndarray:
    """(cells, cells) float array: how many click answers fell in each cell of the picture
    (rows top to bottom, columns left to right); answers that are no click are left out."""
    heat = np.zeros((cells, cells), dtype=np.float32)
    for value in answers:
        point = parse_click(value)
        if point is None:
            continue
        x, y = point
        heat[min(cells - 1, int(y * cells)), min(cells - 1, int(x * cells))] += 1
    return heat


# ---------------------------------------------------------------- the model's own answers
def top1(lm: LoadedModel, img: Image.Image) -> TopClass:
    """The model's top-1 class for ``img`` (index, label, probability)."""
    return predict(lm, lm.preprocess(img), top=1).top[0]


def matching_option(options: Sequence[str], label: str) -> int | None:
    """The index of the option that names ``label`` (case and spaces ignored), or None."""
    want = " ".join(label.lower().split())
    for i, opt in enumerate(options):
        if " ".join(opt.lower().split()) == want:
            return i
    return None


@dataclass(frozen=True)
class Peak:
    """Where Grad-CAM says the model looked for class ``target``.

    ``map``: (H, W) float32 in 0..1 over the picture the model sees (its crop), H, W its
    pixels; ``point``: (x, y) fractions of the map's maximum; ``box``: (x0, y0, x1, y1)
    fractions bounding the connected part at or above half the maximum that holds the peak.
    """

    target: int
    label: str
    map: np.ndarray
    point: tuple[float, float]
    box: tuple[float, float, float, float]


def peak_region(cam: np.ndarray) -> tuple[tuple[float, float], tuple[float, float, float, float]]:
    """The maximum of the (h, w) map ``cam`` and the box of the 4-connected region at or above
    half of it that contains the maximum.

    Returns ((x, y), (x0, y0, x1, y1)): the peak cell's centre and the region's outer edges as
    fractions of the map's width and height. An all-zero map peaks at its first cell.
    """
    a = np.nan_to_num(np.asarray(cam, dtype=np.float64))
    h, w = a.shape
    r, c = np.unravel_index(int(np.argmax(a)), a.shape)
    strong = a >= HALF * a[r, c] if a[r, c] > 0 else np.zeros_like(a, dtype=bool)
    strong[r, c] = True
    seen = np.zeros_like(strong)
    seen[r, c] = True
    todo = [(r, c)]
    rows, cols = [r], [c]
    while todo:
        y, x = todo.pop()
        for yy, xx in ((y - 1, x), (y + 1, x), (y, x - 1), (y, x + 1)):
            if 0 <= yy < h and 0 <= xx < w and strong[yy, xx] and not seen[yy, xx]:
                seen[yy, xx] = True
                todo.append((yy, xx))
                rows.append(yy)
                cols.append(xx)
    point = ((c + 0.5) / w, (r + 0.5) / h)
    box = (min(cols) / w, min(rows) / h, (max(cols) + 1) / w, (max(rows) + 1) / h)
    return point, box


def gradcam_peak(lm: LoadedModel, img: Image.Image, *, layer: str | None = None, target: int | None = None) -> Peak:
    """Grad-CAM (``cnnviz.explain``) for class ``target`` (default the top-1) at ``layer``
    (default the model's own), resized to the model's crop of ``img`` and scaled to 0..1,
    with its peak region (:func:`peak_region`, found at the crop's resolution)."""
    crop = lm.preprocess_spec.crop(img)
    e = explain(lm, lm.preprocess(img), "gradcam", target=target, layer=layer)
    cam = np.asarray(Image.fromarray(e.map.astype(np.float32), mode="F").resize(crop.size, Image.BILINEAR))
    top = float(cam.max())
    cam = (cam / top if top > 0 else np.zeros_like(cam)).astype(np.float32)
    point, box = peak_region(cam)
    return Peak(e.target, e.label, cam, point, box)


def channel_means(lm: LoadedModel, images: Sequence[Image.Image], layer: str, channel: int) -> np.ndarray:
    """(len(images),) float64: the mean activation of ``channel`` of ``layer`` on each image
    (one forward each, ``cnnviz.inside.capture``). ValueError when the layer has no such channel."""
    out = []
    for img in images:
        maps = capture(lm, lm.preprocess(img), [layer])[layer]  # (C, h, w) or (C,)
        if not 0 <= channel < maps.shape[0]:
            raise ValueError(f"layer has {maps.shape[0]} channels, not {channel + 1}")
        out.append(float(np.asarray(maps[channel], dtype=np.float64).mean()))
    return np.asarray(out)


def best_of(values: Sequence[float]) -> int:
    """The index of the highest value (ties: the first)."""
    return int(top_classes(np.asarray(values, dtype=np.float64), str, 1)[0].index)
