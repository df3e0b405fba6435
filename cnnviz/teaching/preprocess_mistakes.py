"""Wrong preprocessing on purpose: the same photo fed with one mistake, and what it changed.

Each mistake is one a real pipeline makes: the normalisation left out, the channels in the
other order (RGB for BGR), the picture squashed to a square instead of cropped, or pixels in
the other range (0–255 for 0–1). ``variant(spec, kind)`` is the model's own
:class:`~cnnviz.models.preprocess.Preprocess` with that one mistake; ``outcome`` compares the two
predictions and says in one sentence what happened (in the reader's language, when it is read:
the outcome itself is shared by every session).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

from cnnviz.i18n import _, ngettext, number, pgettext
from cnnviz.inside.predict import TopClass, predict, top_classes
from cnnviz.models.loaded_model import LoadedModel
from cnnviz.models.preprocess import Preprocess

KINDS = ("right", "skip", "swap", "squash", "range")


def label(spec: Preprocess, kind: str) -> str:
    """What the variant ``kind`` does to this model's input, in a few words (the reader's language)."""
    if kind == "range":
        # a Caffe model wants 0–255: its mistake is the other way round
        return _("pixels in 0–1 instead of 0–255") if spec.scale == 255.0 else _("pixels in 0–255 instead of 0–1")
    if kind == "squash":
        return _("squashed to {size}×{size} instead of cropped").format(size=spec.size)
    return {
        "right": _("the model's own preprocessing"),
        "skip": _("no normalisation (mean and std not applied)"),
        "swap": _("red and blue swapped (RGB ↔ BGR)"),
    }[kind]


def kinds_for(spec: Preprocess) -> list[str]:
    """The mistakes that make sense for this model (a grey model has no red and blue)."""
    return [k for k in KINDS if k != "swap" or spec.channels == 3]


def variant(spec: Preprocess, kind: str) -> Preprocess:
    """``spec`` with one mistake: "skip" (mean 0, std 1), "swap" (the other channel order),
    "squash" (whole picture resized to size×size), "range" (pixels ×255 or ÷255 before the
    model's own mean/std), "right" (unchanged). Raises ValueError for anything else."""
    c = spec.channels
    if kind == "right":
        return spec
    if kind == "skip":
        return replace(spec, mean=(0.0,) * c, std=(1.0,) * c)
    if kind == "swap" and c == 3:
        return replace(spec, bgr=not spec.bgr)
    if kind == "squash":
        return replace(spec, squash=True)
    if kind == "range":
        return replace(spec, scale=1.0 if spec.scale == 255.0 else 255.0)
    raise ValueError(f"unknown preprocessing variant {kind!r}")


@dataclass(frozen=True)
class Outcome:
    """The right and the wrong prediction of one photo, and what changed.

    ``right`` and ``wrong``: the top classes (best first) of each; ``kept``: the probability
    (0..1) the wrong input gives the right top-1 class; ``finite``: both outputs were numbers
    (weights holding NaN or infinity give none); ``sentence``: the change in words.
    """

    kind: str
    right: list[TopClass]
    wrong: list[TopClass]
    kept: float
    finite: bool = True

    @property
    def sentence(self) -> str:
        """The change in one sentence, in the language of whoever reads it (made when read, as
        one outcome is shared by every session)."""
        first, top = self.right[0], self.wrong[0]
        if not self.finite:
            return _(
                "The model's outputs are not numbers (its weights hold NaN or infinity): there is nothing to compare."
            )
        if self.top1_changed:
            return _("The top-1 changed from “{old}” ({old_p}) to “{new}” ({new_p}); “{old}” now gets {kept}.").format(
                old=first.label, old_p=_pct(first.prob), new=top.label, new_p=_pct(top.prob), kept=_pct(self.kept)
            )
        points = self.drop_points
        if abs(points) < 0.5:
            return _("“{label}” stays top-1 and its probability barely moved ({p}).").format(
                label=first.label, p=_pct(first.prob)
            )
        n = round(abs(points))
        if points > 0:
            said = ngettext(
                "“{label}” stays top-1; its probability dropped by {n} point ({before} → {after}).",
                "“{label}” stays top-1; its probability dropped by {n} points ({before} → {after}).",
                n,
            )
        else:
            said = ngettext(
                "“{label}” stays top-1; its probability rose by {n} point ({before} → {after}).",
                "“{label}” stays top-1; its probability rose by {n} points ({before} → {after}).",
                n,
            )
        return said.format(label=first.label, n=f"{abs(points):.0f}", before=_pct(first.prob), after=_pct(self.kept))

    @property
    def top1_changed(self) -> bool:
        return self.right[0].index != self.wrong[0].index

    @property
    def drop_points(self) -> float:
        """How many percentage points the right top-1 class lost (negative: it gained)."""
        return 100.0 * (self.right[0].prob - self.kept)


def compare(kind: str, right: np.ndarray, wrong: np.ndarray, name: Callable[[int], str], k: int = 5) -> Outcome:
    """Compare (K,) probabilities of the right and of the wrong input (see :class:`Outcome`)."""
    rt, wt = top_classes(right, name, k), top_classes(wrong, name, k)
    finite = bool(np.isfinite(right).all() and np.isfinite(wrong).all())
    return Outcome(kind, rt, wt, float(wrong[rt[0].index]), finite)


def outcome(lm: LoadedModel, img: Image.Image, kind: str, k: int = 5) -> Outcome:
    """Predict ``img`` with the model's own preprocessing and with the mistake ``kind``."""
    spec = lm.preprocess_spec
    right = predict(lm, spec(img), top=k).probs
    wrong = predict(lm, variant(spec, kind)(img), top=k).probs
    return compare(kind, right, wrong, lm.label, k)


def _pct(p: float) -> str:
    # "60 %": the catalogue says which space goes before % (Spanish and German: a no-break one)
    return pgettext("percentage", "{n} %").format(n=number(100 * p, 1 if p < 0.1 else 0))
