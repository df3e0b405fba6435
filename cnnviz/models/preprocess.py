"""What a model expects of a picture: resize, centre-crop, pixels in 0..1, normalise.

The one place that normalises: prediction, explanations, adversarial examples and the
training loop all go through :meth:`Preprocess.normalize`, so a model never sees pixels
scaled one way in training and another way in the app.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from PIL import Image


@lru_cache(maxsize=64)
def _stats(
    mean: tuple[float, ...], std: tuple[float, ...], device: torch.device, dtype: torch.dtype
) -> tuple[torch.Tensor, torch.Tensor]:
    # (C, 1, 1) each: built once per device and dtype, not once per batch. Never as
    # inference tensors (a first call inside inference_mode), which autograd could not save
    # for the backward pass of FGSM or a training step.
    with torch.inference_mode(False):
        m = torch.tensor(mean, dtype=dtype, device=device)[:, None, None]
        s = torch.tensor(std, dtype=dtype, device=device)[:, None, None]
    return m, s


@dataclass(frozen=True)
class Preprocess:
    """Resize the shorter side to ``resize``, centre-crop ``size``×``size``, normalise.

    ``invert`` is for digit models trained on white-on-black strokes, so that a photo of
    dark ink on paper looks like their training data. ``scale`` is the pixel range that
    ``mean``/``std`` are given in: 1.0 for 0..1 (torchvision), 255.0 for 0..255 (Caffe).
    ``bgr``: the channels are fed blue, green, red (Caffe); ``mean``/``std`` are then in
    that order too. ``squash``: the whole picture is resized to size×size, its proportions
    lost, instead of resized and centre-cropped (a mistake the Preprocessing page shows).
    ``bicubic``: resize with bicubic interpolation (timm's models were evaluated so), else bilinear.
    """

    size: int
    resize: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    channels: int = 3
    invert: bool = False
    scale: float = 1.0
    bgr: bool = False
    squash: bool = False
    bicubic: bool = False

    @classmethod
    def from_dict(cls, d: dict) -> Preprocess:
        """From a checkpoint's ``preprocess`` block (``resize`` defaults to ``size``).

        Raises KeyError, TypeError or ValueError on a malformed block."""
        return cls(
            size=int(d["size"]),
            resize=int(d.get("resize", d["size"])),
            mean=tuple(float(v) for v in d["mean"]),
            std=tuple(float(v) for v in d["std"]),
            channels=int(d.get("channels", 3)),
            invert=bool(d.get("invert", False)),
        )

    def resized_size(self, w: int, h: int) -> tuple[int, int]:
        """(w, h) of a w×h picture after scaling its shorter side to ``resize`` (never below the
        crop); (size, size) when squashing."""
        if self.squash:
            return self.size, self.size
        # torchvision's (and timm's) rule: the shorter side becomes ``resize``, the longer
        # int(resize × long / short), truncated; rounding made some pictures a pixel wider.
        short, long = min(w, h), max(w, h)
        side = int(self.resize * long / short)
        rw, rh = (self.resize, side) if w <= h else (side, self.resize)
        return max(self.size, rw), max(self.size, rh)

    @property
    def resample(self) -> Image.Resampling:
        """PIL's filter for the resize step."""
        return Image.Resampling.BICUBIC if self.bicubic else Image.Resampling.BILINEAR

    def crop_box(self, w: int, h: int) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) of the centred size×size square in a w×h picture."""
        # rounded half to even, as torchvision's center_crop does: (235 - 224) / 2 starts at 6
        left, top = int(round((w - self.size) / 2.0)), int(round((h - self.size) / 2.0))
        return left, top, left + self.size, top + self.size

    def crop(self, img: Image.Image) -> Image.Image:
        """The picture the model sees, before normalisation: mode RGB or L, size×size.
        (cnnviz.teaching.preprocess_steps shows the same steps one by one.)"""
        img = img.convert("RGB" if self.channels == 3 else "L")
        img = img.resize(self.resized_size(*img.size), self.resample, reducing_gap=None)
        img = img.crop(self.crop_box(*img.size))
        if self.invert:
            img = Image.eval(img, lambda v: 255 - v)
        return img

    def _cropped(self, img: Image.Image, scale: float) -> torch.Tensor:
        # (1, C, size, size) float32 in 0..scale, RGB. Divided by 255 / scale: exactly /255
        # for 0..1, /1 (no rounding) for 0..255.
        arr = np.asarray(self.crop(img), dtype=np.float32) / (255.0 / scale)
        if arr.ndim == 2:
            arr = arr[:, :, None]
        return torch.from_numpy(arr.transpose(2, 0, 1).copy()).unsqueeze(0)

    def _standardize(self, x: torch.Tensor) -> torch.Tensor:
        # x (…, C, H, W) RGB in 0..scale → channel order, then (x − mean) / std.
        if self.bgr:
            x = x.flip(-3)
        mean, std = _stats(self.mean, self.std, x.device, x.dtype)
        return (x - mean) / std

    def pixels(self, img: Image.Image) -> torch.Tensor:
        """(1, C, size, size) float32 in 0..1, RGB: the cropped picture, not yet normalised."""
        return self._cropped(img, 1.0)

    def normalize(self, p: torch.Tensor) -> torch.Tensor:
        """The model's input for pixels ``p`` (…, C, H, W) in 0..1 (RGB), on p's device;
        differentiable (FGSM, training)."""
        return self._standardize(p * self.scale if self.scale != 1.0 else p)

    def __call__(self, img: Image.Image) -> torch.Tensor:
        """(1, C, size, size) input batch for a PIL image of any mode and size."""
        return self._standardize(self._cropped(img, self.scale))

    def denormalize(self, x: torch.Tensor) -> np.ndarray:
        """(H, W, C) float array in 0..1 (RGB order) from a (1, C, H, W) or (C, H, W) input tensor."""
        x = x.detach().cpu().float()
        if x.ndim == 4:
            x = x[0]
        mean, std = _stats(self.mean, self.std, x.device, x.dtype)
        x = x * std + mean
        if self.bgr:
            x = x.flip(0)
        return (x / self.scale).clamp(0, 1).permute(1, 2, 0).numpy()
