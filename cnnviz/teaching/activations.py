"""Activation functions and softmax with temperature, in numpy, for teaching.

Checked against ``torch.relu`` / ``F.leaky_relu`` / ``torch.sigmoid`` / ``torch.tanh`` /
``torch.softmax`` in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cnnviz.errors import CnnvizError
from cnnviz.i18n import N_, _
from cnnviz.inside.predict import softmax

# keys (a link's function=): marked for the catalogue, translated only where shown (``_(name)``)
FUNCTIONS = (N_("ReLU"), N_("leaky ReLU"), N_("sigmoid"), N_("tanh"))

FORMULAS = {
    "ReLU": r"\mathrm{ReLU}(x) = \max(0, x)",
    "leaky ReLU": r"\mathrm{LeakyReLU}(x) = x \text{ if } x > 0 \text{ else } a\,x",
    "sigmoid": r"\sigma(x) = \frac{1}{1 + e^{-x}}",
    "tanh": r"\tanh(x) = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}",
}


def apply(name: str, x: np.ndarray, slope: float = 0.01) -> np.ndarray:
    """``name`` applied elementwise to ``x`` (any shape); ``slope`` is leaky ReLU's a."""
    x = np.asarray(x, dtype=np.float32)
    if name == "ReLU":
        return np.maximum(x, 0.0)
    if name == "leaky ReLU":
        return np.where(x > 0, x, slope * x).astype(np.float32)
    if name == "sigmoid":
        # exp of a negative number only: no overflow for large |x|
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(np.float32)
    if name == "tanh":
        return np.tanh(x)
    raise CnnvizError(
        _("Unknown activation '{name}'; choose one of {names}.").format(name=name, names=", ".join(FUNCTIONS))
    )


@dataclass(frozen=True)
class Summary:
    """Before/after numbers of one activation on one map."""

    before_min: float
    before_max: float
    after_min: float
    after_max: float
    share_negative: float  # of the inputs
    share_zeroed: float  # outputs exactly 0 (ReLU zeroes every value ≤ 0)


def summarize(before: np.ndarray, after: np.ndarray) -> Summary:
    return Summary(
        float(before.min()),
        float(before.max()),
        float(after.min()),
        float(after.max()),
        float(np.mean(before < 0)),
        float(np.mean(after == 0)),
    )


def histogram(
    values: np.ndarray, bins: int = 40, lo: float | None = None, hi: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(counts (bins,), bin edges (bins + 1,)) of the finite values, over lo..hi (default their range)."""
    v = np.asarray(values, dtype=np.float32).ravel()
    v = v[np.isfinite(v)]
    lo = float(v.min()) if lo is None else lo
    hi = float(v.max()) if hi is None else hi
    if hi <= lo:
        hi = lo + 1e-6
    return np.histogram(v, bins=bins, range=(lo, hi))


def softmax_table(logits: np.ndarray, temperature: float, classes: list[str], top: int = 8) -> pd.DataFrame:
    """The ``top`` classes by logit (best first) with their numbers: columns ``class``, ``z``
    (logit), ``z / T``, ``p1`` (probability in %, T = 1) and ``pT`` (probability in %, at T).

    Both charts and tables of the softmax view are drawn from this one frame, so a bar can never
    disagree with its number.
    """
    logits = np.asarray(logits, dtype=np.float32)
    idx = np.argsort(-logits, kind="stable")[:top]
    p1, pt = softmax(logits, 1.0), softmax(logits, temperature)
    return pd.DataFrame(
        {
            "class": [classes[i] if i < len(classes) else _("class {i}").format(i=i) for i in idx],
            "z": logits[idx],
            "z / T": logits[idx] / temperature,
            "p1": p1[idx] * 100.0,
            "pT": pt[idx] * 100.0,
        }
    )


def function_curve(name: str, lo: float, hi: float, slope: float = 0.01, points: int = 201) -> pd.DataFrame:
    """The activation function itself over ``lo..hi``: columns ``x`` and ``y`` (``points`` rows)."""
    if not hi > lo:
        lo, hi = lo - 1.0, lo + 1.0
    x = np.linspace(lo, hi, points, dtype=np.float32)
    return pd.DataFrame({"x": x, "y": apply(name, x, slope)})


def entropy_bits(p: np.ndarray) -> float:
    """How spread out a distribution is, in bits: 0 when one class has everything, log2(n) when uniform."""
    p = np.asarray(p, dtype=np.float64)
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())
