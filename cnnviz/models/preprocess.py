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

    Attributes:
        size: the side of the square the model sees, in pixels.
        resize: the shorter side before the crop (``size`` for no margin).
        mean: per-channel mean, in the range given by ``scale`` and the order given by ``bgr``.
        std: per-channel standard deviation, likewise.
        channels: 3 for RGB, 1 for greyscale.
        invert: for digit models trained on white-on-black strokes, so that a photo of dark
            ink on paper looks like their training data.
        scale: the pixel range ``mean``/``std`` are given in: 1.0 for 0..1 (torchvision),
            255.0 for 0..255 (Caffe).
        bgr: the channels are fed blue, green, red (Caffe); ``mean``/``std`` are then in that
            order too.
        squash: the whole picture is resized to size×size, its proportions lost, instead of
            resized and centre-cropped (a mistake the Preprocessing page shows).
        bicubic: resize with bicubic interpolation (timm's models were evaluated so), else
            bilinear.
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
        """From a checkpoint's ``preprocess`` block.

        Args:
            d: a dict with ``size``, ``mean`` and ``std``, and optionally ``resize`` (default
                ``size``), ``channels`` (3) and ``invert`` (False).

        Returns:
            The Preprocess it describes.

        Raises:
            KeyError, TypeError or ValueError: a malformed block (callers turn these into a
                CheckpointError).
        """
        return cls(
            size=int(d["size"]),
            resize=int(d.get("resize", d["size"])),
            mean=tuple(float(v) for v in d["mean"]),
            std=tuple(float(v) for v in d["std"]),
            channels=int(d.get("channels", 3)),
            invert=bool(d.get("invert", False)),
        )

    def resized_size(self, w: int, h: int) -> tuple[int, int]:
        """The size of a picture after the resize step.

        Args:
            w: the picture's width in pixels.
            h: its height.

        Returns:
            (w, h) after scaling the shorter side to ``resize`` (never below the crop), by
            torchvision's rule; (size, size) when squashing.
        """
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
        """The centred size×size square in a picture.

        Args:
            w: the (resized) picture's width in pixels.
            h: its height.

        Returns:
            (left, top, right, bottom) in pixels, rounded half to even as torchvision's
            center_crop does.
        """
        # rounded half to even, as torchvision's center_crop does: (235 - 224) / 2 starts at 6
        left, top = int(round((w - self.size) / 2.0)), int(round((h - self.size) / 2.0))
        return left, top, left + self.size, top + self.size

    def crop(self, img: Image.Image) -> Image.Image:
        """The picture the model sees, before normalisation.

        (cnnviz.teaching.preprocess_steps shows the same steps one by one.)

        Args:
            img: any PIL image.

        Returns:
            A size×size PIL image of mode RGB or L, inverted when ``invert``.
        """
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
        """The cropped picture as a tensor, not yet normalised.

        Args:
            img: any PIL image.

        Returns:
            (1, C, size, size) float32 in 0..1, RGB order.
        """
        return self._cropped(img, 1.0)

    def normalize(self, p: torch.Tensor) -> torch.Tensor:
        """The model's input for pixels in 0..1; differentiable (FGSM, training).

        Args:
            p: (…, C, H, W) float pixels in 0..1, RGB order, on any device.

        Returns:
            A tensor of the same shape on p's device: scaled, reordered to BGR when ``bgr``, and
            standardised with ``mean``/``std``.
        """
        return self._standardize(p * self.scale if self.scale != 1.0 else p)

    def __call__(self, img: Image.Image) -> torch.Tensor:
        """(1, C, size, size) input batch for a PIL image of any mode and size."""
        return self._standardize(self._cropped(img, self.scale))

    def denormalize(self, x: torch.Tensor) -> np.ndarray:
        """Pixels back from a model input, for display.

        Args:
            x: a (1, C, H, W) or (C, H, W) input tensor, as :meth:`normalize` gives.

        Returns:
            (H, W, C) float array in 0..1, RGB order, clipped.
        """
        x = x.detach().cpu().float()
        if x.ndim == 4:
            x = x[0]
        mean, std = _stats(self.mean, self.std, x.device, x.dtype)
        x = x * std + mean
        if self.bgr:
            x = x.flip(0)
        return (x / self.scale).clamp(0, 1).permute(1, 2, 0).numpy()
