"""Colours as people with colour-vision deficiency see them, and how far apart two colours are.

* :func:`simulate`: Machado, Oliveira & Fernandes (2009), "A Physiologically-based Model for
  Simulation of Color Vision Deficiency", IEEE TVCG 15(6), their matrices at severity 1.0
  (dichromacy: the strongest case, so what passes also passes the milder, commoner
  anomalous trichromacies), applied in linear RGB as the model is defined.
* :func:`srgb_to_lab` (CIELAB, D65 white) and :func:`delta_e2000` (CIEDE2000, Sharma, Wu &
  Dalal 2005): a perceptual distance where about 1 is just noticeable side by side.
* :func:`contrast_ratio`: WCAG 2.1's (L1 + 0.05) / (L2 + 0.05) of relative luminances.
* :func:`diverging_report` / :func:`sequential_ok`: whether a matplotlib colour map stays
  readable for a viewer with deuteranopia, protanopia (and tritanopia).

Colours are sRGB floats in 0..1 with a last axis of 3 (any leading shape).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib import colormaps

# Machado et al. (2009), Table 1, severity 1.0; rows: output R, G, B from linear input R, G, B.
MACHADO = {
    "protanopia": np.array(
        [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
    ),
    "deuteranopia": np.array(
        [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
    ),
    "tritanopia": np.array(
        [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]]
    ),
}
# Red-green deficiencies: about 1 man in 12 of European descent; the ones a default must pass.
RED_GREEN = ("deuteranopia", "protanopia")

_SRGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)
_D65 = np.array([0.95047, 1.0, 1.08883])


def srgb_to_linear(c: np.ndarray) -> np.ndarray:
    """sRGB to linear light (IEC 61966-2-1).

    Args:
        c: sRGB values in 0..1, any shape.

    Returns:
        float64 linear light in 0..1, same shape.
    """
    c = np.asarray(c, dtype=np.float64)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(c: np.ndarray) -> np.ndarray:
    """Linear light to sRGB, clipped to 0..1 first (a simulated colour can leave the gamut).

    Args:
        c: linear light, any shape.

    Returns:
        float64 sRGB in 0..1, same shape.
    """
    c = np.clip(np.asarray(c, dtype=np.float64), 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)


def simulate(rgb: np.ndarray, kind: str) -> np.ndarray:
    """Colours as seen with a colour vision deficiency (Machado et al. 2009, severity 1).

    Args:
        rgb: (..., 3) sRGB in 0..1.
        kind: a key of :data:`MACHADO`.

    Returns:
        (..., 3) sRGB in 0..1.
    """
    lin = srgb_to_linear(rgb)
    return linear_to_srgb(lin @ MACHADO[kind].T)


def relative_luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of sRGB colours.

    Args:
        rgb: (..., 3) sRGB in 0..1.

    Returns:
        (...) float64 luminance in 0..1.
    """
    return srgb_to_linear(rgb) @ np.array([0.2126, 0.7152, 0.0722])


def contrast_ratio(a: np.ndarray, b: np.ndarray) -> float:
    """WCAG contrast ratio of two colours; AA asks 4.5 for text, 3 for large text.

    Args:
        a: (3,) sRGB in 0..1.
        b: (3,) sRGB in 0..1.

    Returns:
        The ratio, 1 to 21.
    """
    la, lb = float(relative_luminance(a)), float(relative_luminance(b))
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def hex_rgb(colour: str) -> np.ndarray:
    """'#c2410c' → array([0.761, 0.255, 0.047]).

    Args:
        colour: a '#rrggbb' colour.

    Returns:
        (3,) float sRGB in 0..1.
    """
    h = colour.lstrip("#")
    return np.array([int(h[i : i + 2], 16) / 255.0 for i in (0, 2, 4)])


def srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB to CIELAB (D65).

    Args:
        rgb: (..., 3) sRGB in 0..1.

    Returns:
        (..., 3) float64: L* 0..100, a*, b*.
    """
    xyz = srgb_to_linear(rgb) @ _SRGB_TO_XYZ.T / _D65
    eps, kappa = 216 / 24389, 24389 / 27
    f = np.where(xyz > eps, np.cbrt(xyz), (kappa * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def delta_e2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference, kL = kC = kH = 1.

    Follows Sharma, Wu & Dalal (2005), eqs. (1)-(24), including their hue-mean and
    hue-difference rules when the two hues lie more than 180° apart.

    Args:
        lab1: (..., 3) CIELAB colours.
        lab2: (..., 3) CIELAB colours, broadcast against ``lab1``.

    Returns:
        (...) float64 differences.
    """
    L1, a1, b1 = np.moveaxis(np.asarray(lab1, dtype=np.float64), -1, 0)
    L2, a2, b2 = np.moveaxis(np.asarray(lab2, dtype=np.float64), -1, 0)
    c_mean7 = ((np.hypot(a1, b1) + np.hypot(a2, b2)) / 2) ** 7
    g = 0.5 * (1 - np.sqrt(c_mean7 / (c_mean7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    grey = (c1p * c2p) == 0
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(grey, 0.0, dh)
    dL, dC = L2 - L1, c2p - c1p
    dH = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    Lm, Cm = (L1 + L2) / 2, (c1p + c2p) / 2
    hsum = h1p + h2p
    hm = np.where(np.abs(h1p - h2p) > 180, np.where(hsum < 360, hsum + 360, hsum - 360), hsum) / 2
    hm = np.where(grey, hsum, hm)
    t = (
        1
        - 0.17 * np.cos(np.radians(hm - 30))
        + 0.24 * np.cos(np.radians(2 * hm))
        + 0.32 * np.cos(np.radians(3 * hm + 6))
        - 0.20 * np.cos(np.radians(4 * hm - 63))
    )
    d_theta = 30 * np.exp(-(((hm - 275) / 25) ** 2))
    rc = 2 * np.sqrt(Cm**7 / (Cm**7 + 25.0**7))
    sl = 1 + 0.015 * (Lm - 50) ** 2 / np.sqrt(20 + (Lm - 50) ** 2)
    sc, sh = 1 + 0.045 * Cm, 1 + 0.015 * Cm * t
    rt = -np.sin(np.radians(2 * d_theta)) * rc
    return np.sqrt((dL / sl) ** 2 + (dC / sc) ** 2 + (dH / sh) ** 2 + rt * (dC / sc) * (dH / sh))


def colours(cmap: str, n: int = 65) -> np.ndarray:
    """A colormap sampled evenly from its low to its high end.

    Args:
        cmap: a matplotlib colormap name.
        n: how many samples (odd: the centre is a sample).

    Returns:
        (n, 3) float64 sRGB in 0..1.
    """
    return np.asarray(colormaps[cmap](np.linspace(0.0, 1.0, n))[:, :3], dtype=np.float64)


# A colour map's two halves must stay apart where a value is at least this share of the
# largest |value|: nearer zero both sides fade into the same white centre by design.
FAR_FROM_ZERO = 0.3


@dataclass(frozen=True)
class DivergingReport:
    """How a diverging colour map reads for one kind of vision.

    ``towards_centre``: L* rises (or falls) monotonically from each end to the centre, so
    "further from zero" always reads as "darker" (or "lighter"); ``ends``: ΔE2000 between
    the two ends; ``halves``: the smallest ΔE2000 between −v and +v for |v| from
    FAR_FROM_ZERO of the maximum to the maximum (can a negative be told from a positive)."""

    kind: str
    towards_centre: bool
    ends: float
    halves: float


def diverging_report(cmap: str, kind: str | None, n: int = 65) -> DivergingReport:
    """How well a diverging colormap keeps its two sides apart for one kind of vision.

    Args:
        cmap: a matplotlib colormap name.
        kind: a key of :data:`MACHADO`, or None for normal vision.
        n: how many samples.

    Returns:
        A :class:`DivergingReport`.
    """
    rgb = colours(cmap, n)
    seen = rgb if kind is None else simulate(rgb, kind)
    lab = srgb_to_lab(seen)
    mid = n // 2
    light = lab[:, 0]
    low, high = np.diff(light[: mid + 1]), np.diff(light[mid:])  # low end → centre, centre → high end
    towards = bool((np.all(low >= -0.5) and np.all(high <= 0.5)) or (np.all(low <= 0.5) and np.all(high >= -0.5)))
    far = int(np.ceil(FAR_FROM_ZERO * mid))
    pairs = [(mid - d, mid + d) for d in range(far, mid + 1)]
    halves = min(float(delta_e2000(lab[i], lab[j])) for i, j in pairs)
    return DivergingReport(kind or "normal", towards, float(delta_e2000(lab[0], lab[-1])), halves)


def sequential_ok(cmap: str, kinds: tuple[str, ...] = (*RED_GREEN, "tritanopia"), n: int = 65) -> bool:
    """Whether a colormap's order reads the same without hue: its lightness rises (or falls)
    monotonically from end to end, for normal vision and every ``kind`` (viridis, inferno,
    grey do; jet, whose lightness goes up and down again, does not).

    Args:
        cmap: a matplotlib colormap name.
        kinds: keys of :data:`MACHADO` to check besides normal vision.
        n: how many samples.

    Returns:
        True when monotonic for all.
    """
    rgb = colours(cmap, n)
    for seen in (rgb, *(simulate(rgb, k) for k in kinds)):
        d = np.diff(srgb_to_lab(seen)[:, 0])
        if not (np.all(d >= -0.5) or np.all(d <= 0.5)):
            return False
    return True
