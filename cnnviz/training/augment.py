"""Data augmentation on whole batches: random flips, rotations, shifts (a moving crop) and
brightness, so the network sees a slightly different picture every epoch.

Works on (B, C, H, W) float tensors in 0..1 (before normalisation, so a rotated-in corner
is black, not "the mean"), on the batch's device, in one ``grid_sample`` per batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Augment:
    """Which random changes to apply; all off by default.

    ``flip``: mirror left-right half the time (wrong for digits: a mirrored 2 is no 2).
    ``rotate``: up to ± this many degrees. ``shift``: move up to this fraction of the side
    (a random crop that keeps the size). ``brightness``: scale pixels by 1 ± this.
    """

    flip: bool = False
    rotate: float = 0.0
    shift: float = 0.0
    brightness: float = 0.0

    @property
    def active(self) -> bool:
        return self.flip or self.rotate > 0 or self.shift > 0 or self.brightness > 0

    def __call__(self, x: torch.Tensor, gen: torch.Generator | None = None) -> torch.Tensor:
        """A randomly changed copy of ``x`` (B, C, H, W) in 0..1."""
        if not self.active:
            return x
        b = x.shape[0]

        def uniform(lo: float, hi: float) -> torch.Tensor:
            return torch.rand(b, generator=gen).mul_(hi - lo).add_(lo).to(x.device)

        if self.rotate > 0 or self.shift > 0 or self.flip:
            angle = uniform(-self.rotate, self.rotate) * (math.pi / 180)
            cos, sin = torch.cos(angle), torch.sin(angle)
            sx = torch.ones(b, device=x.device)
            if self.flip:
                sx = torch.where(torch.rand(b, generator=gen).to(x.device) < 0.5, -sx, sx)
            # affine_grid works in -1..1 coordinates: a shift of s of the side is 2s there.
            tx, ty = uniform(-2 * self.shift, 2 * self.shift), uniform(-2 * self.shift, 2 * self.shift)
            theta = torch.stack([torch.stack([cos * sx, -sin, tx], 1), torch.stack([sin * sx, cos, ty], 1)], 1)
            grid = F.affine_grid(theta, list(x.shape), align_corners=False)
            x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        if self.brightness > 0:
            x = (x * uniform(1 - self.brightness, 1 + self.brightness)[:, None, None, None]).clamp_(0, 1)
        return x


def preview(images: np.ndarray, aug: Augment, *, copies: int = 6, seed: int = 0) -> np.ndarray:
    """Each image changed several times, as the network might see it.

    Tile the result with render.tile(..., ncols=copies) to see one image per row.

    Args:
        images: (N, C, H, W) uint8 images.
        aug: the augmentation.
        copies: versions per image.
        seed: the generator's seed.

    Returns:
        (N*copies, H, W, 3) uint8.
    """
    gen = torch.Generator().manual_seed(seed)
    x = torch.from_numpy(np.repeat(images, copies, axis=0)).float() / 255.0
    out = (aug(x, gen) * 255).round().clamp(0, 255).byte().permute(0, 2, 3, 1).numpy()
    return np.repeat(out, 3, axis=-1) if out.shape[-1] == 1 else out
