"""Wrong preprocessing on purpose: the same photo fed with one mistake, and what it changed.

Each mistake is one a real pipeline makes: the normalisation left out, the channels in the
other order (RGB for BGR), the picture squashed to a square instead of cropped, or pixels in
the other range (0–255 for 0–1). ``variant(spec, kind)`` is the model's own
:class:`~cnnviz.preprocess.Preprocess` with that one mistake; ``outcome`` compares the two
predictions and says in one sentence what happened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from PIL import Image

from cnnviz.loaded_model import LoadedModel
from cnnviz.predict import TopClass, predict, top_classes
from cnnviz.preprocess import Preprocess

KINDS = ("right", "skip", "swap", "squash", "range")


def label(spec: Preprocess, kind: str) -> str:
    """What the variant ``kind`` does to this model's input, in a few words."""
    if kind == "range":
        # a Caffe model wants 0–255: its mistake is the other way round
        return "pixels in 0–1 instead of 0–255" if spec.scale == 255.0 else "pixels in 0–255 instead of 0–1"
    return {
        "right": "the model's own preprocessing",
        "skip": "no normalisation (mean and std not applied)",
        "swap": "red and blue swapped (RGB ↔ BGR)",
        "squash": f"squashed to {spec.size}×{spec.size} instead of cropped",
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
    (0..1) the wrong input gives the right top-1 class; ``sentence``: the change in words.
    """

    kind: str
    right: list[TopClass]
    wrong: list[TopClass]
    kept: float
    sentence: str

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
    first, kept = rt[0], float(wrong[rt[0].index])
    if not (np.isfinite(right).all() and np.isfinite(wrong).all()):  # weights holding NaN or infinity
        sentence = (
            "The model's outputs are not numbers (its weights hold NaN or infinity): there is nothing to compare."
        )
    elif wt[0].index != first.index:
        sentence = (
            f"The top-1 changed from “{first.label}” ({_pct(first.prob)}) to “{wt[0].label}” ({_pct(wt[0].prob)}); "
            f"“{first.label}” now gets {_pct(kept)}."
        )
    else:
        points = 100.0 * (first.prob - kept)
        if abs(points) < 0.5:
            sentence = f"“{first.label}” stays top-1 and its probability barely moved ({_pct(first.prob)})."
        else:
            way = "dropped" if points > 0 else "rose"
            sentence = (
                f"“{first.label}” stays top-1; its probability {way} by {abs(points):.0f} "
                f"point{'s' if round(abs(points)) != 1 else ''} ({_pct(first.prob)} → {_pct(kept)})."
            )
    return Outcome(kind, rt, wt, kept, sentence)


def outcome(lm: LoadedModel, img: Image.Image, kind: str, k: int = 5) -> Outcome:
    """Predict ``img`` with the model's own preprocessing and with the mistake ``kind``."""
    spec = lm.preprocess_spec
    right = predict(lm, spec(img), top=k).probs
    wrong = predict(lm, variant(spec, kind)(img), top=k).probs
    return compare(kind, right, wrong, lm.label, k)


def _pct(p: float) -> str:
    return f"{100 * p:.1f} %" if p < 0.1 else f"{100 * p:.0f} %"
