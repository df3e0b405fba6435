"""Is an explanation faithful? Deletion and insertion curves (Petsiuk et al., RISE, 2018).

Deletion: remove the pixels a map calls most important first, in equal steps, and watch
the class probability; a faithful map makes it fall fast (small area under the curve).
Insertion: start from a blurred copy and put the most important pixels back first; a
faithful map makes the probability rise fast (large area). A random order (of blobs the
size of a Grad-CAM cell) is the baseline every method should beat.

"Removed" pixels take the dataset's mean colour (0 after normalisation). The curves' ends
are shared by every map (:func:`compare_pictures` counts the pictures).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from cnnviz import render
from cnnviz.i18n import _
from cnnviz.inside import work_memory
from cnnviz.inside.catalogue import catalogue
from cnnviz.inside.progress import Progress, report
from cnnviz.models.loaded_model import LoadedModel
from cnnviz.serving import memguard

# Steps per curve: 10 % at a time (11 points) instead of 16 steps - with the shared ends,
# 18 pictures per map instead of 34.
STEPS = 10


@dataclass(frozen=True)
class Curves:
    """``fractions``: (S+1,) share of pixels removed/inserted, 0 … 1; ``deletion`` and
    ``insertion``: (S+1,) probability of the target class; AUCs by the trapezoid rule."""

    fractions: np.ndarray
    deletion: np.ndarray
    insertion: np.ndarray
    deletion_auc: float
    insertion_auc: float


def pixel_order(importance: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Flat pixel indices (H·W,), most important first, of a (h, w) map resized to ``size`` = (H, W).

    Ties keep row-major order (a stable sort), so results are reproducible.
    """
    h, w = size
    m = np.asarray(importance, dtype=np.float32)
    if m.shape != (h, w):
        m = render.resize_map(m, (w, h))
    return np.argsort(-m.ravel(), kind="stable")


def blurred(x: torch.Tensor) -> torch.Tensor:
    """A heavily blurred copy of ``x`` (1, C, H, W): the insertion curve's starting point."""
    from torchvision.transforms.functional import gaussian_blur

    side = x.shape[-1]
    k = max(3, (side // 7) | 1)  # odd kernel about 1/7 of the image
    return gaussian_blur(x, [k, k], [k / 3.0, k / 3.0])


def _steps_batch(start: torch.Tensor, end: torch.Tensor, order: np.ndarray, fractions: np.ndarray) -> torch.Tensor:
    """(S+1, C, H, W): ``start`` with the first round(f·H·W) pixels of ``order`` taken from ``end``."""
    _, c, h, w = start.shape
    rank = np.empty(h * w, dtype=np.int64)
    rank[order] = np.arange(h * w)  # rank[p]: position of pixel p in the order
    counts = np.round(fractions * h * w).astype(np.int64)
    masks = torch.from_numpy(rank[None, :] < counts[:, None]).reshape(-1, 1, h, w).to(start.device)
    return torch.where(masks, end, start)


def _probs(lm: LoadedModel, batch: torch.Tensor, target: int, chunk: int) -> np.ndarray:
    out = []
    with lm.use() as model, torch.inference_mode():
        for i in range(0, batch.shape[0], chunk):
            out.append(torch.softmax(lm.fast_forward(model, batch[i : i + chunk]).float(), dim=1)[:, target])
    return torch.cat(out).cpu().numpy() if out else np.zeros(0, np.float32)


def curves(
    lm: LoadedModel,
    x: torch.Tensor,
    importance: np.ndarray,
    target: int,
    *,
    steps: int = STEPS,
    chunk: int = 32,
    progress: Progress | None = None,
) -> Curves:
    """Deletion and insertion curves of ``x`` (1, C, H, W) for class ``target``, pixels ranked by
    ``importance`` ((h, w), any resolution; bilinear resize to the input)."""
    return _curves(lm, x, {"map": importance}, target, steps, chunk, progress)["map"]


def _curves(
    lm: LoadedModel,
    x: torch.Tensor,
    maps: dict[str, np.ndarray],
    target: int,
    steps: int,
    chunk: int,
    progress: Progress | None,
) -> dict[str, Curves]:
    """Curves of every map, their working memory held with the guard while they run (raises
    ServerBusy when the server cannot hold it now)."""
    x = x.detach().to(lm.device)
    h, w = x.shape[-2:]
    need = work_memory.curves(catalogue(lm), x[0].numel(), steps, chunk, h * w / lm.preprocess_spec.size**2)
    with memguard.reserve(need, _("the deletion and insertion curves")):
        return _run_curves(lm, x, maps, target, steps, chunk, progress)


def _run_curves(lm, x, maps, target, steps, chunk, progress) -> dict[str, Curves]:
    """The ends of both curves are the same for every map - nothing removed is the photo,
    everything removed is grey, nothing inserted is the blurred copy, everything inserted is
    the photo again - so those three pictures run once, and each map adds only its
    2·(steps − 1) inner steps."""
    h, w = x.shape[-2:]
    fractions = np.linspace(0.0, 1.0, steps + 1)
    inner = fractions[1:-1]
    grey, blur = torch.zeros_like(x), blurred(x)
    total = 3 + 2 * len(inner) * len(maps)
    what = "Deletion and insertion"
    report(progress, 0, total, what)
    p_clean, p_grey, p_blur = _probs(lm, torch.cat([x, grey, blur]), target, chunk)
    done = 3
    report(progress, done, total, what)
    out = {}
    for name, importance in maps.items():
        order = pixel_order(importance, (h, w))
        batch = torch.cat([_steps_batch(x, grey, order, inner), _steps_batch(blur, x, order, inner)])
        p = _probs(lm, batch, target, chunk)
        done += batch.shape[0]
        report(progress, done, total, what)
        k = len(inner)
        deletion = np.concatenate([[p_clean], p[:k], [p_grey]]).astype(np.float32)
        insertion = np.concatenate([[p_blur], p[k:], [p_clean]]).astype(np.float32)
        out[name] = Curves(
            fractions,
            deletion,
            insertion,
            float(np.trapezoid(deletion, fractions)),
            float(np.trapezoid(insertion, fractions)),
        )
    return out


def random_importance(size: tuple[int, int], seed: int = 0, cells: int = 7) -> np.ndarray:
    """(H, W) random importance in smooth blobs: a cells×cells uniform grid, resized bilinearly.

    Blobs, not single pixels: removing scattered pixels ruins any photo at once (the grey
    speckle is unlike anything the model was trained on), which would make a pixel-noise
    baseline look unbeatable on the deletion curve for the wrong reason.
    """
    h, w = size
    grid = np.random.default_rng(seed).random((min(cells, h), min(cells, w)), dtype=np.float32)
    return render.resize_map(grid, (w, h))


def compare(
    lm: LoadedModel,
    x: torch.Tensor,
    maps: dict[str, np.ndarray],
    target: int,
    *,
    steps: int = STEPS,
    seed: int = 0,
    progress: Progress | None = None,
) -> dict[str, Curves]:
    """Curves for each named map plus ``"random"`` (the baseline), same target and steps.

    Runs ``compare_pictures(len(maps) + 1, steps)`` pictures; ``progress(fraction, text)`` after each batch."""
    size = tuple(x.shape[-2:])
    all_maps = {**maps, "random": random_importance(size, seed)}  # type: ignore[arg-type]
    return _curves(lm, x, all_maps, target, steps, 32, progress)


def compare_pictures(n_maps: int, steps: int = STEPS) -> int:
    """Pictures the network sees for ``n_maps`` maps' curves: 3 shared ends + 2·(steps − 1) per map."""
    return 3 + 2 * max(0, steps - 1) * n_maps
