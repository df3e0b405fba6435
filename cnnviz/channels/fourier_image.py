"""The picture feature visualisation optimises (``cnnviz.channels.featvis``): a 1/f-scaled Fourier
spectrum, in a decorrelated colour space for RGB, squashed to 0..1; and the random jitter
(rotation, scale, shift) every optimisation step sees it through.
"""

from __future__ import annotations

import math
import random

import torch
import torch.nn.functional as F
from torch import nn

DECAY = 1.0  # spectrum scale 1/f**DECAY: lower keeps more fine detail, noisier
# sqrt of ImageNet's RGB covariance (Lucid's color_correlation_svd_sqrt), columns scaled to ≤ 1
_COLOUR = torch.tensor([[0.26, 0.09, 0.02], [0.27, 0.00, -0.05], [0.27, -0.09, 0.03]])
_COLOUR = _COLOUR / _COLOUR.norm(dim=0).max()


def _freqs(h: int, w: int) -> torch.Tensor:
    fy = torch.fft.fftfreq(h)[:, None]
    fx = torch.fft.rfftfreq(w)[None, :]
    return torch.sqrt(fx * fx + fy * fy)  # (h, w // 2 + 1)


class FourierImage(nn.Module):
    """A (1, C, H, W) picture in 0..1 from a 1/f-scaled spectrum (C, H, W//2+1, 2)."""

    def __init__(self, channels: int, size: int, generator: torch.Generator):
        super().__init__()
        freqs = _freqs(size, size)
        self.register_buffer("scale", (1.0 / freqs.clamp(min=1.0 / size)).pow(DECAY)[None, :, :, None])
        self.spectrum = nn.Parameter(0.01 * torch.randn((channels, *freqs.shape, 2), generator=generator))
        self.size = size

    def forward(self) -> torch.Tensor:
        spec = torch.view_as_complex(self.scale * self.spectrum)
        img = torch.fft.irfft2(spec, s=(self.size, self.size), norm="ortho") / 4.0  # (C, H, W)
        if img.shape[0] == 3:  # decorrelated colour → RGB
            img = torch.einsum("ij,jhw->ihw", _COLOUR, img)
        return torch.sigmoid(img)[None]


def random_affine(img: torch.Tensor, rng: random.Random) -> torch.Tensor:
    """Rotate ±10°, scale 0.92–1.08, shift ±1/16 of the side; edges reflected. (1, C, H, W)."""
    angle = math.radians(rng.uniform(-10, 10))
    s = 1.0 / rng.uniform(0.92, 1.08)
    tx, ty = rng.uniform(-0.125, 0.125), rng.uniform(-0.125, 0.125)  # grid units: 2 = the side
    cos, sin = math.cos(angle) * s, math.sin(angle) * s
    theta = torch.tensor([[[cos, -sin, tx], [sin, cos, ty]]], dtype=img.dtype, device=img.device)
    grid = F.affine_grid(theta, list(img.shape), align_corners=False)
    return F.grid_sample(img, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
