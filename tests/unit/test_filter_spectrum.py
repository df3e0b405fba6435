"""The orientation-selectivity check on filters made by hand: Gabors pass, blobs and noise fail."""

from __future__ import annotations

import numpy as np
import pytest

from cnnviz.inside.filter_spectrum import THRESHOLD, orientation_selectivity


def gabor(k: int, angle_deg: float, wavelength: float = 4.0, sigma: float = 1.8) -> np.ndarray:
    """(k, k) cosine grating at ``angle_deg`` (its stripes run along that angle) under a Gaussian."""
    r = np.arange(k) - (k - 1) / 2
    y, x = np.meshgrid(r, r, indexing="ij")
    t = np.radians(angle_deg)
    across = -x * np.sin(t) + y * np.cos(t)  # distance across the stripes
    return np.exp(-(x**2 + y**2) / (2 * sigma**2)) * np.cos(2 * np.pi * across / wavelength)


def blob(k: int, sigma: float = 1.5) -> np.ndarray:
    r = np.arange(k) - (k - 1) / 2
    y, x = np.meshgrid(r, r, indexing="ij")
    return np.exp(-(x**2 + y**2) / (2 * sigma**2))


@pytest.mark.parametrize("k", [7, 11])
@pytest.mark.parametrize("angle", [0.0, 30.0, 90.0, 135.0])
def test_a_gabor_is_oriented_at_its_angle(k, angle):
    # One colour channel carries the grating, another a weaker copy (an edge in one colour).
    g = gabor(k, angle)
    w = np.stack([g, 0.5 * g, np.zeros_like(g)])[None]  # (1, 3, k, k)
    s = orientation_selectivity(w)
    assert s.index[0] > 0.8 and s.oriented[0]
    diff = abs((s.angle_deg[0] - angle + 90) % 180 - 90)  # angles modulo 180°
    assert diff < 3.0, (s.angle_deg[0], angle)


def test_a_colour_blob_and_a_flat_filter_are_not_oriented():
    b = blob(7)
    opponent = np.stack([b, -b, 0 * b])[None]  # red-green centre: isotropic
    flat = np.ones((1, 3, 7, 7))  # only DC: nothing left once the mean is gone
    s = orientation_selectivity(np.concatenate([opponent, flat]))
    assert s.index[0] < 0.1 and s.index[1] == 0.0
    assert not s.oriented.any()


def test_random_filters_are_mostly_not_oriented():
    rng = np.random.default_rng(0)
    w = rng.uniform(-1, 1, (256, 3, 7, 7))
    s = orientation_selectivity(w)
    assert np.median(s.index) < 0.2
    assert s.fraction_oriented < 0.1, s.fraction_oriented
    assert np.quantile(s.index, 0.9) < THRESHOLD


def test_rejects_what_is_not_a_conv_weight():
    with pytest.raises(ValueError):
        orientation_selectivity(np.zeros((3, 7, 7)))
