"""First-layer filters learned from natural image patches without labels: ZCA/PCA whitening, then ICA.

Independent component analysis of whitened natural-image patches is the classic result
(Bell & Sejnowski 1997; Hyvärinen & Hoyer 2000) that gives the same filters trained CNNs
learn in their first layer: oriented, localised edges (Gabor-like) and colour-opponent
blobs. A few dozen photos hold millions of 7×7 patches, enough for 64 components, whereas
they are far too few for backpropagation alone to shape a 7×7 layer (``cnnviz.training.distil``'s
first runs: 12-20 % oriented filters). So ZF-mini's ``conv1`` starts from these filters.

Steps: ``patches`` cuts random k×k×3 patches out of crops exactly as the model sees them
(resized and normalised), ``ica_filters`` whitens them down to ``n_components`` principal
directions (which drops the noisy highest frequencies) and runs scikit-learn's FastICA; the
unmixing rows, mapped back to pixel space, are the filters.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import FastICA


def patches(crops: np.ndarray, n: int, k: int, mean, std, rng: np.random.Generator) -> np.ndarray:
    """``n`` random k×k patches of uint8 crops, normalised as the model's input.

    Args:
        crops: (N, 3, H, W) uint8 images as the model sees them (already resized).
        n: number of patches; k: their side.
        mean, std: per-channel normalisation on 0..1 pixels (3 values each).
        rng: the random source of the positions.

    Returns:
        (n, 3 * k * k) float64 patches, flattened channel-major like a conv weight.
    """
    crops = np.asarray(crops)
    _, c, h, w = crops.shape
    idx = rng.integers(0, len(crops), n)
    ys, xs = rng.integers(0, h - k + 1, n), rng.integers(0, w - k + 1, n)
    offsets = np.arange(k)
    # (n, C, k, k) by fancy indexing: one gather, no Python loop over patches.
    rows = (ys[:, None] + offsets)[:, None, :, None]
    cols = (xs[:, None] + offsets)[:, None, None, :]
    out = crops[idx[:, None, None, None], np.arange(c)[None, :, None, None], rows, cols].astype(np.float64) / 255.0
    out = (out - np.asarray(mean, dtype=np.float64)[:, None, None]) / np.asarray(std, dtype=np.float64)[:, None, None]
    return out.reshape(n, -1)


def ica_filters(x: np.ndarray, n_components: int, k: int, seed: int = 0, max_iter: int = 400) -> np.ndarray:
    """ICA filters of patches, each scaled to unit L2 norm.

    Args:
        x: (n, 3 * k * k) patches from ``patches``.
        n_components: how many filters (the whitening keeps this many principal directions).
        k: the filters' side.
        seed: FastICA's random start.

    Returns:
        (n_components, 3, k, k) float32 filters, ordered by how heavy-tailed (sparse) their
        responses are, the most first: the clearest edges lead.
    """
    ica = FastICA(n_components=n_components, whiten="unit-variance", random_state=seed, max_iter=max_iter, tol=1e-4)
    s = ica.fit_transform(x)  # (n, n_components) responses
    # ICA's signs are arbitrary: flip each filter so that its strongest responses are positive
    # (what a ReLU after it keeps).
    skew = (s**3).mean(axis=0)
    sign = np.where(skew < 0, -1.0, 1.0)
    kurt = (s**4).mean(axis=0) / (s**2).mean(axis=0) ** 2
    w = ica.components_ * sign[:, None]
    w = w / np.linalg.norm(w, axis=1, keepdims=True)
    return w[np.argsort(-kurt)].reshape(n_components, -1, k, k).astype(np.float32)
