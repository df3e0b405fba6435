"""Text alternatives of a class question's pictures and charts (cnnviz.lessons.questions):
the answers' counts, the heat map of clicks, the pictures to choose from, the model's answer.

Like :mod:`cnnviz.a11y.alt_text`: the data in, plain text out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from babel.numbers import format_decimal

from cnnviz import i18n
from cnnviz.a11y.alt_text import quoted
from cnnviz.a11y.regions import in_region, region
from cnnviz.i18n import _, ngettext, percent


def sig3(value: float) -> str:
    """A value to at most 3 significant digits, in the language's separators (0.123 / 0,123).

    Args:
        value: the number.

    Returns:
        The text.
    """
    # Babel writes 0 as "0.0" at this pattern; .3g's "0" is what the English text always said
    return format_decimal(value, format="@##" if value else "0", locale=i18n.current())


def _share(n: int, total: int) -> str:
    return _("{n} ({share})").format(n=n, share=percent(n / total, 0)) if total else str(n)


def counts(prompt: str, labels: Sequence[str], values: Sequence[int], model: int | None = None) -> str:
    """The class's answers to a question: 'Answers to "…": 3 in all. "cat": 2 (67%);
    "dog": 1 (33%). The model's answer: "cat".'

    Args:
        prompt: the question.
        labels: the options.
        values: how many chose each.
        model: the index of the model's answer once revealed, or None.

    Returns:
        The text, in the reader's language.
    """
    total = int(sum(values))
    parts = "; ".join(
        _("{option}: {count}").format(option=quoted(lab), count=_share(int(v), total))
        for lab, v in zip(labels, values, strict=True)
    )
    text = _("Answers to {prompt}: {total} in all. {parts}.").format(prompt=quoted(prompt), total=total, parts=parts)
    if model is not None:
        text += " " + _("The model's answer: {option}.").format(option=quoted(labels[model]))
    return text


def clicks(heat: np.ndarray, box: tuple[float, float, float, float] | None = None) -> str:
    """Where the class clicked, and the model's region if revealed.

    Args:
        heat: (cells, cells) click counts.
        box: (x0, y0, x1, y1) of where the model looked most, as fractions of the width and
            height, or None before it is revealed.

    Returns:
        The text, in the reader's language.
    """
    heat = np.asarray(heat)
    total = int(heat.sum())
    if total == 0:
        text = _("The photo the model sees; no one has clicked yet.")
    else:
        r, c = np.unravel_index(int(np.argmax(heat)), heat.shape)
        where = in_region(region((r + 0.5) / heat.shape[0], (c + 0.5) / heat.shape[1]))  # "in the upper left"
        text = ngettext(
            "The photo the model sees with the class's {total} click as a heat map: most clicks ({most}) {where}.",
            "The photo the model sees with the class's {total} clicks as a heat map: most clicks ({most}) {where}.",
            total,
        ).format(total=total, most=int(heat[r, c]), where=where)
    if box is not None:
        x0, y0, x1, y1 = box
        where = _(region((y0 + y1) / 2, (x0 + x1) / 2))
        text += " " + _("A box marks where the model looked most: the {where}.").format(where=where)
    return text


def click_target(width: int, height: int) -> str:
    """The photo a class clicks on to answer.

    Args:
        width: the photo's width in pixels.
        height: its height.

    Returns:
        One sentence in the reader's language.
    """
    return _(
        "The photo the model sees, {w}×{h}: click, tap or use the arrow keys and Enter on the part that mattered most."
    ).format(w=width, h=height)


def choice_image(i: int, n: int, ref: str, value: float | None = None) -> str:
    """'Picture 2 of 4 (chelsea).' with its mean activation once revealed.

    Args:
        i: the picture's index, from 0.
        n: how many pictures.
        ref: the picture's reference; the part after a ':' is its name.
        value: its mean activation once revealed, or None.

    Returns:
        One sentence in the reader's language.
    """
    name = ref.split(":", 1)[-1]
    text = _("Picture {k} of {n} ({name}).").format(k=i + 1, n=n, name=name if len(name) <= 24 else name[:12] + "…")
    if value is not None:
        text += " " + _("Mean activation of the channel: {value}.").format(value=sig3(value))
    return text
