"""Top-activating examples: the images of a pool that excite one channel most.

A pool is made of parts (``cnnviz.channels.example_pools``: MNIST-5k, a training set, the photo
gallery, an upload, a folder), each scored and cached on its own so that adding this
session's upload does not redo the shipped photos; ``parse`` names a part by its spec.

One pass per (model, weights, layer set, part) records, for every channel of every layer
of the set, each image's score (the channel's maximum over positions) and where that
maximum is; any channel's top-k is then a sort. Its box is the receptive field of the
strongest unit, in the model's input pixels.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from cnnviz.channels.example_pools import Part, fashion2k, fashion_available, folder, gallery, mnist5k, training
from cnnviz.errors import CnnvizError, Stopped
from cnnviz.i18n import N_, _
from cnnviz.inside import work_memory
from cnnviz.inside.catalogue import LayerInfo, catalogue
from cnnviz.inside.receptive_field import unit_box
from cnnviz.models.loaded_model import LoadedModel
from cnnviz.models.preprocess import Preprocess
from cnnviz.serving import diskcache, memguard
from cnnviz.trace import first_tensor, hooks


def parse(spec: str) -> Part:
    """The pool a spec names.

    Args:
        spec: ``mnist5k`` | ``fashion2k`` | ``gallery`` | ``training:NAME`` | ``folder:PATH``.

    Returns:
        The Part.

    Raises:
        CnnvizError: an unknown spec, or a pool that is not here.
    """
    if spec == "mnist5k":
        return mnist5k()
    if spec == "fashion2k":
        return fashion2k()
    if spec == "gallery":
        return gallery()
    if spec.startswith("training:"):
        return training(spec.partition(":")[2])
    if spec.startswith("folder:"):
        return folder(spec.partition(":")[2])
    raise CnnvizError(
        _("Unknown pool {spec}: use mnist5k, fashion2k, gallery, training:NAME or folder:PATH.").format(spec=repr(spec))
    )


def default_parts(lm: LoadedModel) -> list[str]:
    """The pool specs a model's examples come from: ImageNet models → the gallery, a user
    model → its built-in training set when there is one, other 1-channel models → MNIST-5k and
    Fashion-MNIST's 2,000 (when Debian's files are here), 3-channel ones → the gallery.

    Args:
        lm: the shared model.

    Returns:
        Specs for :func:`parse`.
    """
    if lm.info.family == "imagenet":
        return ["gallery"]
    dataset = lm.info.metadata.get("dataset") if lm.info.metadata else None
    if lm.info.family == "user" and dataset and dataset != "mnist5k":
        return [f"training:{dataset}"]
    if lm.preprocess_spec.channels != 1:
        return ["gallery"]
    return ["mnist5k", "fashion2k"] if fashion_available() else ["mnist5k"]


# ------------------------------------------------------------------ scoring
def model_inputs(part: Part, spec: Preprocess, idx) -> torch.Tensor:
    """Some images of a pool as the model is fed them.

    Args:
        part: the pool's part.
        spec: the model's preprocessing.
        idx: the images' indices.

    Returns:
        (B, C, S, S) normalised inputs.
    """
    return torch.cat([spec(part.image(int(i))) for i in idx])


def batch_size(spec: Preprocess) -> int:
    """Images per forward: ~2 M input values (16 at 224² RGB, 256 at 28² grey), so that the
    activations of a batch stay a few hundred MB.

    Args:
        spec: the model's preprocessing.

    Returns:
        A batch size in 1..256.
    """
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
    """One pass over a pool part recording every channel's score for each layer (cached on
    disk).

    The model's lock is taken per batch, so other sessions keep working during a long pass. A
    pass not cached holds its memory with the guard while it runs.

    Args:
        lm: the shared model.
        part: the pool's part.
        layers: the layers to score.
        on_progress: called as ``on_progress(done, total)`` images.
        should_stop: asked between batches.

    Returns:
        The Scores ((N, C) arrays per layer).

    Raises:
        CnnvizError: an empty pool or a layer without channels.
        ServerBusy: the server cannot hold the pass now.
        Stopped: ``should_stop()`` said yes.
    """
    if len(part) == 0:
        raise CnnvizError(_("This pool of images is empty."))
    for la in layers:
        if not la.spatial and la.kind != "linear":
            raise CnnvizError(
                _("{name} ({type}) has no channels to rank images by.").format(name=la.name, type=la.type)
            )
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
    need = work_memory.examples_pass(catalogue(lm), layers, spec.channels * spec.size * spec.size, b, n)
    with memguard.reserve(need, N_("this top-image pass")):
        for start in range(0, n, b):
            if should_stop is not None and should_stop():
                raise Stopped(_("The examples pass was stopped before it finished; nothing was saved."))
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
    """Whether a pass over a pool part is on disk already.

    Args:
        lm: the shared model.
        part: the pool's part.
        layers: the layers scored.

    Returns:
        True when :func:`score_part` would read it from the disk cache.
    """
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
    mean: float = 0.0  # the channel's mean over the whole map: the second key of the ranking

    def as_dict(self) -> dict:
        """The CLI's JSON record.

        Returns:
            source, index, score, mean and box.
        """
        return {"source": self.source, "index": self.index, "score": self.score, "mean": self.mean,
                "box": list(self.box)}  # fmt: skip


def top_k(
    parts: list[Part],
    scores: list[Scores],
    layer: LayerInfo,
    channel: int,
    size: int,
    k: int = 9,
    per_photo: int | None = 1,
) -> list[Example]:
    """The best images of the pool for one channel, best first.

    Ranked by the maximum over positions; ties (a ReLU6 channel tops out at 6.0 on many images)
    by the mean over the whole map, i.e. by how much of the picture the channel finds; then in
    pool order.

    Args:
        parts: the pool's parts.
        scores: their Scores, in the same order.
        layer: the layer.
        channel: the channel.
        size: the model's input side (for the receptive field's box).
        k: how many.
        per_photo: at most this many crops of one source photo (None: no limit), so that nine
            crops of one photo do not fill the row.

    Returns:
        Up to ``k`` Examples.

    Raises:
        CnnvizError: a channel the layer does not have.
    """
    if not 0 <= channel < layer.out_shape[0]:
        n = layer.out_shape[0]
        raise CnnvizError(
            _("{name} has {n} channels (0 to {last}); there is no number {channel}.").format(
                name=layer.name, n=n, last=n - 1, channel=channel
            )
        )
    s = np.concatenate([sc.max[layer.name][:, channel] for sc in scores])
    a = np.concatenate([sc.arg[layer.name][:, channel] for sc in scores])
    mean = np.concatenate([sc.mean[layer.name][:, channel] for sc in scores])
    which = np.concatenate([np.full(len(p), i) for i, p in enumerate(parts)])
    local = np.concatenate([np.arange(len(p)) for p in parts])
    if not len(s):
        raise CnnvizError(_("This pool of images is empty."))
    width = layer.out_shape[2] if layer.spatial else 1
    out: list[Example] = []
    taken: dict[tuple[int, int], int] = {}
    for j in np.lexsort((np.arange(len(s)), -mean, -s)):
        p, i = int(which[j]), int(local[j])
        photo = (p, parts[p].photo(i))
        if per_photo is not None and taken.get(photo, 0) >= per_photo:
            continue
        taken[photo] = taken.get(photo, 0) + 1
        row, col = divmod(int(a[j]), width)
        box = unit_box(layer, row, col, size) if layer.spatial else (0, 0, size - 1, size - 1)
        out.append(Example(parts[p].sources[i], i, float(s[j]), box, p, float(mean[j])))
        if len(out) == k:
            break
    return out


def window_text(rf: int, size: int) -> str:
    """What each top image shows, in words: the receptive field, clipped to the input when it
    is larger (a deep unit's theoretical field can be several times the image).

    Args:
        rf: the receptive field's side in pixels.
        size: the input's side.

    Returns:
        A phrase in the reader's language.
    """
    if rf >= size:
        text = _("the receptive field of its strongest unit: {rf}×{rf} px, clipped to the {size}×{size} input")
    else:
        text = _(
            "the receptive field of its strongest unit: {rf}×{rf} px of the {size}×{size} input, less at the edges"
        )
    return text.format(rf=rf, size=size)


def photos_in(parts: list[Part]) -> int:
    """How many source photos the pool's images come from.

    Args:
        parts: the pool's parts.

    Returns:
        The count.
    """
    return sum(len(set(p.photos)) if p.photos is not None else len(p) for p in parts)


def example_picture(part: Part, index: int, spec: Preprocess, box: tuple[int, int, int, int]) -> Image.Image:
    """The image as the model sees it (cropped, before normalisation), cut to a box.

    Args:
        part: the pool's part.
        index: the image's index in it.
        spec: the model's preprocessing.
        box: inclusive (top, left, bottom, right) in input pixels.

    Returns:
        A PIL image.
    """
    top, left, bottom, right = box
    return spec.crop(part.image(index)).crop((left, top, right + 1, bottom + 1))
