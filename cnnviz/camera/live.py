"""Live: one camera frame through the network - its top-5, a layer's strongest channels and
the Grad-CAM of the top (or a pinned) class.

A frame is a still photo: :func:`camera_view` makes it the picture the model is shown (a
1-channel digit model gets a centred, greyscale, inverted crop: dark ink on paper becomes the
white-on-black strokes it learnt), and that picture goes the still pages' way on the same
pixels - the model's own preprocessing (:meth:`LoadedModel.preprocess`), the layer capture
of :mod:`cnnviz.inside.capture` (Network, Feature maps) and :func:`cnnviz.explain.explain`
(Grad-CAM) - so a frozen frame shows on every page what the live view showed. The top-5 come
from a forward the frame needs anyway (the capture's, or Grad-CAM's), not from a second one
as Predict's: the same classes, probabilities equal up to float rounding. The tiles are the
Network page's (:func:`cnnviz.inside.network.column_units`: its colormaps and colour scale).

Nothing is kept: a frame's pixels live only as long as its analysis. Pure numpy/PIL/torch:
the transport is :mod:`cnnviz.camera.live_streams` and :mod:`cnnviz.camera.live_http`.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image, ImageOps

from cnnviz import render
from cnnviz.a11y.regions import in_region, region
from cnnviz.explain import Explanation, explain
from cnnviz.i18n import _, percent
from cnnviz.inside import network
from cnnviz.inside.capture import capture_layers, hooked_outputs
from cnnviz.inside.catalogue import LayerInfo
from cnnviz.inside.predict import TopClass, softmax, top_classes
from cnnviz.models.loaded_model import LoadedModel

__all__ = [
    "CAM_CMAP",
    "LiveFrame",
    "LiveSettings",
    "analyse",
    "cam_layer",
    "camera_view",
    "default_layer",
    "channel_tiles",
    "encode",
    "frame_alt",
]

CAM_CMAP = "jet"  # the Grad-CAM page's default colours (cnnviz.ui.explain_views.CMAPS[0])
TILE_PX = 48  # one channel's tile: 4 in a row beside the Grad-CAM picture in the right half of a projected page
TILE_GAP = 4


@dataclass(frozen=True)
class LiveSettings:
    """What the student chose for their live view.

    ``layer``: the layer whose channels are shown; ``n``: how many (the strongest by mean
    |value|, as the Network page); ``cam``: Grad-CAM on; ``cam_layer``: its layer (a
    ``named_modules`` path; None: the model's default); ``target``: a pinned class (None: the
    top class of each frame); ``alpha``: the Grad-CAM map's opacity; ``lang``: the student's
    language (the frames' text alternatives are written in it, outside the student's run).
    """

    layer: LayerInfo
    n: int = 8
    cam: bool = True
    cam_layer: str | None = None
    target: int | None = None
    alpha: float = 0.5
    lang: str = "en"


@dataclass(frozen=True)
class LiveFrame:
    """One frame's analysis.

    ``view``: the picture analysed (:func:`camera_view` of the frame: what Freeze keeps);
    ``crop``: the picture the model saw (size × size, RGB or L); ``top``: the 5 most probable
    classes, best first; ``channels``: the shown channels, strongest first; ``tiles``:
    (h, w, 3) uint8, their tiles in a row of rows; ``cmap``/``vmin``/``vmax``: the tiles'
    colour scale; ``cam``: the Grad-CAM explanation (None when off); ``overlay``: (size,
    size, 3) uint8, the crop with the map blended over it (None when off); ``seconds``: the
    analysis' wall time.
    """

    view: Image.Image
    crop: Image.Image
    top: list[TopClass]
    layer: str
    channels: tuple[int, ...]
    tiles: np.ndarray
    cmap: str
    vmin: float | None
    vmax: float | None
    cam: Explanation | None
    overlay: np.ndarray | None
    seconds: float


def default_layer(layers: list[LayerInfo]) -> str:
    """The layer whose channels show first: the Network page's middle column (mid-level parts
    and textures, maps still large enough to see them)."""
    cols = network.columns(layers)
    return cols[len(cols) // 2].name if cols else layers[0].name


def cam_layer(lm: LoadedModel, layers: list[LayerInfo]) -> str:
    """Grad-CAM's layer (a ``named_modules`` path): the model's default, else (a student's
    model that names none) the last of the Network page's columns."""
    if lm.info.default_layer:
        return lm.info.default_layer
    cols = network.columns(layers)
    return cols[-1].path if cols else ""


def camera_view(lm: LoadedModel, frame: Image.Image) -> Image.Image:
    """The picture of camera ``frame`` that ``lm`` is shown: the frame itself for a colour
    model; for a 1-channel (digit) model its centred square in grey, inverted (unless the
    model inverts itself) and stretched so that the paper is black and the ink white
    (MNIST's digits: bright strokes on 0), as mode L."""
    spec = lm.preprocess_spec
    if spec.channels != 1:
        return frame
    grey = ImageOps.grayscale(frame)
    side = min(grey.size)
    left, top = (grey.width - side) // 2, (grey.height - side) // 2
    grey = grey.crop((left, top, left + side, top + side))
    if not spec.invert:
        grey = ImageOps.invert(grey)
    return ImageOps.autocontrast(grey, cutoff=1)


def channel_tiles(maps: np.ndarray, n: int) -> tuple[tuple[int, ...], np.ndarray, str, float | None, float | None]:
    """The ``n`` strongest channels of (C, H, W) ``maps`` as the Network page colours them
    (one scale for the layer), each enlarged to ``TILE_PX`` px, in rows of 4 on white.

    Returns:
        (channels strongest first, (h, w, 3) uint8 picture, colormap, vmin, vmax).
    """
    ch = network.strongest(maps, max(1, n))
    units, cmap, vmin, vmax = network.column_units(maps, ch, norm="layer")
    cols = min(4, len(ch))
    rows = -(-len(ch) // cols)
    step = TILE_PX + TILE_GAP
    out = np.full((rows * step - TILE_GAP, cols * step - TILE_GAP, 3), 255, dtype=np.uint8)
    for i, u in enumerate(units):
        tile = Image.fromarray(render.colorize(u, cmap)).resize((TILE_PX, TILE_PX), Image.NEAREST)
        r, c = divmod(i, cols)
        out[r * step : r * step + TILE_PX, c * step : c * step + TILE_PX] = np.asarray(tile)
    return tuple(int(c) for c in ch), out, cmap, vmin, vmax


def _logits_and_maps(lm: LoadedModel, x: torch.Tensor, layer: LayerInfo) -> tuple[np.ndarray, np.ndarray]:
    """One forward of the model as built: (logits (K,), ``layer``'s output (C, H, W)). The
    top-5 and the channels from one pass instead of Predict's and Network's two; Predict's
    fast copy (BatchNorm folded) gives the same logits up to float rounding."""
    with lm.use() as model, torch.inference_mode(), hooked_outputs(model, [layer.path]) as store:
        logits = model(x.to(lm.device))
    return logits[0].float().cpu().numpy(), store[layer.name][0].float().cpu().numpy()


def analyse(lm: LoadedModel, img: Image.Image, s: LiveSettings) -> LiveFrame:
    """Analyse one camera frame ``img`` (any mode and size) with ``lm`` as ``s`` asks.

    Returns:
        The :class:`LiveFrame`; its numbers equal the still pages' on its ``view``: Predict's
        top-5 (up to float rounding), the Network page's maps of ``s.layer`` and the Grad-CAM
        page's map for the same class and layer.
    """
    start = time.perf_counter()
    view = camera_view(lm, img)
    x = lm.preprocess(view)  # (1, C, size, size)
    crop = lm.preprocess_spec.crop(view)
    cam = overlay = None
    if s.cam:
        cam = explain(lm, x, "gradcam", target=s.target, layer=s.cam_layer or lm.info.default_layer)
        top = top_classes(softmax(cam.logits), lm.label, 5)
        d = render.display(cam.map, cmap=CAM_CMAP)
        overlay = render.overlay(crop, d.heat, alpha=s.alpha, cmap=d.cmap, vmin=d.vmin, vmax=d.vmax)
        maps = capture_layers(lm, x, [s.layer])[s.layer.name]  # (C, H, W), the forward stops after it
    else:
        logits, maps = _logits_and_maps(lm, x, s.layer)
        top = top_classes(softmax(logits), lm.label, 5)
    channels, tiles, cmap, vmin, vmax = channel_tiles(maps, s.n)
    return LiveFrame(
        view, crop, top, s.layer.name, channels, tiles, cmap, vmin, vmax, cam, overlay, time.perf_counter() - start
    )


def encode(pic: np.ndarray | Image.Image, fmt: str = "JPEG") -> bytes:
    """``pic`` as JPEG (quality 85: for the photo-like overlay) or PNG (the tiles' flat
    colours, exact); never through render's PNG cache (every frame is new)."""
    img = pic if isinstance(pic, Image.Image) else Image.fromarray(pic)
    buf = io.BytesIO()
    if fmt == "PNG":
        img.save(buf, format="PNG", compress_level=1)
    else:
        img.convert("RGB").save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def frame_alt(f: LiveFrame) -> dict[str, str]:
    """Text alternatives of a frame's pictures: {"tiles", "top", "cam" (when on), "seen" (a
    1-channel model's own view)}, in the current language (``i18n.use(settings.lang)``)."""
    best = f.top[0]
    out = {
        "tiles": _(
            "The {n} strongest channels of layer {layer}, strongest first: channels {channels}. "
            "Bright tiles: where the channel responds most."
        ).format(n=len(f.channels), layer=f.layer, channels=", ".join(str(c) for c in f.channels))
    }
    if f.cam is not None:
        h, w = f.cam.map.shape
        r, c = np.unravel_index(int(np.argmax(f.cam.map)), f.cam.map.shape)
        where = in_region(region((r + 0.5) / h, (c + 0.5) / w))  # "in the upper left", as the still pages say it
        seen = (
            _("strongest evidence {where}.").format(where=where) if f.cam.map.any() else _("no evidence at this layer.")
        )
        out["cam"] = _("Grad-CAM for “{label}” at {layer} over the camera's picture; {seen}").format(
            label=f.cam.label, layer=f.cam.layer, seen=seen
        )
    out["top"] = _("Top class: {label}, {prob}.").format(label=best.label, prob=percent(best.prob, 0))
    if f.crop.mode == "L":
        out["seen"] = _("What the model sees: the middle of the picture, {w}×{h}, grey, inverted.").format(
            w=f.crop.width, h=f.crop.height
        )
    return out
