"""Text alternatives of a class question's pictures and charts (cnnviz.lessons.questions):
the answers' counts, the heat map of clicks, the pictures to choose from, the model's answer.

Like :mod:`cnnviz.a11y.alt_text`: the data in, plain text out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cnnviz.a11y.alt_text import quoted
from cnnviz.a11y.regions import region


def _share(n: int, total: int) -> str:
    return f"{n} ({round(100 * n / total)}%)" if total else str(n)


def counts(prompt: str, labels: Sequence[str], values: Sequence[int], model: int | None = None) -> str:
    """'Answers to "…": 3 in all. "cat": 2 (67%); "dog": 1 (33%). The model's answer: "cat".'"""
    total = int(sum(values))
    parts = "; ".join(f"{quoted(lab)}: {_share(int(v), total)}" for lab, v in zip(labels, values, strict=True))
    text = f"Answers to {quoted(prompt)}: {total} in all. {parts}."
    if model is not None:
        text += f" The model's answer: {quoted(labels[model])}."
    return text


def clicks(heat: np.ndarray, box: tuple[float, float, float, float] | None = None) -> str:
    """Where the class clicked (a (cells, cells) count map), and the model's region if revealed."""
    heat = np.asarray(heat)
    total = int(heat.sum())
    if total == 0:
        text = "The photo the model sees; no one has clicked yet."
    else:
        r, c = np.unravel_index(int(np.argmax(heat)), heat.shape)
        where = region((r + 0.5) / heat.shape[0], (c + 0.5) / heat.shape[1])
        text = (
            f"The photo the model sees with the class's {total} clicks as a heat map: "
            f"most clicks ({int(heat[r, c])}) in the {where}."
        )
    if box is not None:
        x0, y0, x1, y1 = box
        text += f" A box marks where the model looked most: the {region((y0 + y1) / 2, (x0 + x1) / 2)}."
    return text


def click_target(width: int, height: int) -> str:
    return (
        f"The photo the model sees, {width}×{height}: click, tap or use the arrow keys and Enter "
        "on the part that mattered most."
    )


def choice_image(i: int, n: int, ref: str, value: float | None = None) -> str:
    """'Picture 2 of 4 (chelsea).' with its mean activation once revealed."""
    name = ref.split(":", 1)[-1]
    text = f"Picture {i + 1} of {n} ({name if len(name) <= 24 else name[:12] + '…'})."
    if value is not None:
        text += f" Mean activation of the channel: {value:.3g}."
    return text
