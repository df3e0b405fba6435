"""A model from an ONNX file (any framework's exporter): its registry entry and its network.

The file is checked (:mod:`cnnviz.models.onnx_check`) before anything is built from it, then
converted (:mod:`cnnviz.models.onnx_convert`); the weights are the file's own. Its preprocessing
comes from the file's ``metadata_props`` when they hold these keys (``onnx.helper.
set_model_props`` writes them), else from the defaults after each:

* ``cnnviz.size``: the input side (default: the graph's input shape, else 224);
* ``cnnviz.resize``: the side the shorter one is resized to before the centre crop
  (default ``size`` × 256 / 224, as torchvision's ImageNet models);
* ``cnnviz.mean``, ``cnnviz.std``: JSON lists, one number per channel, for pixels in 0..1
  (default ImageNet's for colour, 0.5 / 0.5 for grey);
* ``cnnviz.channel_order``: ``RGB`` (the default) or ``BGR`` (Caffe, OpenCV), the order the
  colour channels are fed in (``mean``/``std`` are then in that order too);
* ``cnnviz.pixel_range``: ``1`` (pixels in 0..1, the default) or ``255`` (0..255, Caffe): the
  range ``mean``/``std`` are given in;
* ``cnnviz.labels``: a JSON list of class names (default ImageNet's 1000 when the model has
  1000 outputs, else "class 0", "class 1"...);
* ``cnnviz.title``: the name shown (default the file's name).
"""

from __future__ import annotations

import functools
import json
import math
import os
from dataclasses import replace
from pathlib import Path

import onnx
from torch import nn

from cnnviz import i18n
from cnnviz.i18n import N_, Message, _
from cnnviz.models.loaded_model import ModelInfo
from cnnviz.models.onnx_check import MAX_ONNX_BYTES, OnnxError, OnnxSummary, check, order, parse
from cnnviz.models.onnx_convert import convert, default_layer
from cnnviz.models.onnx_layout import channels_first
from cnnviz.models.preprocess import Preprocess
from cnnviz.models.usermodels import MAX_CLASS_CHARS, MAX_SIZE

IMAGENET_MEAN, IMAGENET_STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


def label(path: str | Path) -> str:
    """How messages name the file: its quoted base name, one line, at most 60 characters."""
    base = " ".join(Path(str(path)).name.split()) or "model.onnx"
    return repr(base if len(base) <= 60 else base[:57] + "...")


def _read(path: str) -> onnx.ModelProto:
    p = Path(path)
    if not p.is_file():  # a FIFO or a device would block: a regular file only
        text = _("No ONNX file at {label}.") if not p.exists() else _("{label} is not a regular file.")
        raise OnnxError(text.format(label=label(path)))
    with p.open("rb") as f:
        data = f.read(MAX_ONNX_BYTES + 1)  # never more than the limit, whatever the file's size
    return channels_first(parse(data, label(path)))


@functools.lru_cache(maxsize=64)
def _summary(
    path: str, size: int, mtime_ns: int, inode: int, lang: str | None = None
) -> tuple[OnnxSummary, str] | OnnxError:
    """The checks' summary and default layer, once per version of a file (checking ResNet-18
    parses 45 MB); a refusal is remembered too. ``lang``: None, or the language a refusal's
    sentence is asked for (the file is then checked in it, with the result kept apart)."""
    try:
        model = _read(path)
        summary = check(model, label(path))
        inits = {t.name for t in model.graph.initializer}
        image = next(v.name for v in model.graph.input if v.name not in inits)
        nodes = order(model.graph, inits | {image}, label(path))
        return summary, default_layer(nodes, inits, summary)
    except OnnxError as e:
        return e


def summary(path: str | Path) -> tuple[OnnxSummary, str]:
    """(:class:`OnnxSummary`, default layer) of the file; OnnxError when it is refused."""
    try:
        st = os.stat(path)
    except OSError:
        raise OnnxError(_("No ONNX file at {label}.").format(label=label(path))) from None
    got = _summary(str(path), st.st_size, st.st_mtime_ns, st.st_ino)
    if isinstance(got, OnnxError):
        # The kept refusal speaks the language of whoever asked first: this reader's is kept apart.
        got = _summary(str(path), st.st_size, st.st_mtime_ns, st.st_ino, i18n.current())
        raise OnnxError(str(got))
    return got


def _meta(meta: dict, key: str, where: str):
    try:
        return json.loads(meta[key])
    except (ValueError, RecursionError):
        raise OnnxError(_("{where}: its metadata {key} is not valid JSON.").format(where=where, key=key)) from None


def _numbers(v, n: int, key: str, where: str, positive: bool = False) -> tuple[float, ...]:
    ok = isinstance(v, list) and len(v) == n and all(isinstance(x, int | float) and not isinstance(x, bool) for x in v)
    if not ok or not all(math.isfinite(x) and (x > 0 or not positive) for x in v):
        raise OnnxError(
            _("{where}: its metadata {key} must be a list of {n} finite numbers, one per channel.").format(
                where=where, key=key, n=n
            )
        )
    return tuple(float(x) for x in v)


def preprocess_and_labels(s: OnnxSummary, where: str) -> tuple[Preprocess, list[str] | None, str | None]:
    """(preprocess, class names or None for the defaults, title or None) from the metadata."""
    m = s.metadata
    size = s.size
    resize = round(size * 256 / 224)
    if "cnnviz.resize" in m:
        resize = _meta(m, "cnnviz.resize", where)
        if isinstance(resize, bool) or not isinstance(resize, int) or not size <= resize <= 2 * MAX_SIZE:
            raise OnnxError(
                _("{where}: its metadata cnnviz.resize must be a whole number from {size} to {limit}.").format(
                    where=where, size=size, limit=2 * MAX_SIZE
                )
            )
    grey = s.channels == 1
    mean = (0.5,) if grey else IMAGENET_MEAN
    std = (0.5,) if grey else IMAGENET_STD
    if "cnnviz.mean" in m:
        mean = _numbers(_meta(m, "cnnviz.mean", where), s.channels, "cnnviz.mean", where)
    if "cnnviz.std" in m:
        std = _numbers(_meta(m, "cnnviz.std", where), s.channels, "cnnviz.std", where, positive=True)
    labels = None
    if "cnnviz.labels" in m:
        labels = _meta(m, "cnnviz.labels", where)
        ok = isinstance(labels, list) and all(isinstance(c, str) and 0 < len(c) <= MAX_CLASS_CHARS for c in labels)
        if not ok or len(labels) != s.classes:
            raise OnnxError(
                _(
                    "{where}: its metadata cnnviz.labels must list {classes} class names of 1 to {max_class_chars} "
                    "characters."
                ).format(where=where, classes=s.classes, max_class_chars=MAX_CLASS_CHARS)
            )
    order = m.get("cnnviz.channel_order", "RGB").strip().upper()
    scale = _meta(m, "cnnviz.pixel_range", where) if "cnnviz.pixel_range" in m else 1
    if order not in ("RGB", "BGR") or scale not in (1, 255) or isinstance(scale, bool):
        raise OnnxError(
            _("{where}: its metadata cnnviz.channel_order must be RGB or BGR, cnnviz.pixel_range 1 or 255.").format(
                where=where
            )
        )
    title = m.get("cnnviz.title")
    pre = Preprocess(
        size=size, resize=resize, mean=mean, std=std, channels=s.channels, scale=float(scale), bgr=order == "BGR"
    )
    return pre, labels, (title[:80] if title else None)


def form_metadata(
    s: OnnxSummary, mean: str, std: str, resize: int, labels: str, where: str, *, bgr: bool = False, scale: int = 1
) -> dict[str, str]:
    """The ``cnnviz.*`` metadata for what a student typed in the sidebar's form: ``mean`` and
    ``std`` as numbers separated by commas, ``labels`` one class name per line (blank lines
    left out), ``bgr`` and ``scale`` (1 or 255) the channel order and pixel range. Checked as
    a file's own metadata is; OnnxError names the first bad field."""

    def numbers(text: str, what: str) -> list:
        try:
            return [float(v) for v in text.replace(";", ",").split(",") if v.strip()]
        except ValueError:
            raise OnnxError(
                _("{where}: {what} must be numbers separated by commas.").format(where=where, what=what)
            ) from None

    names = [line.strip() for line in labels.splitlines() if line.strip()]
    meta = {
        "cnnviz.mean": json.dumps(numbers(mean, _("the mean"))),
        "cnnviz.std": json.dumps(numbers(std, _("the std"))),
        "cnnviz.resize": json.dumps(int(resize)),
        "cnnviz.channel_order": "BGR" if bgr else "RGB",
        "cnnviz.pixel_range": json.dumps(int(scale)),
    }
    if names:  # none typed: the defaults (or the file's own names) stay
        meta["cnnviz.labels"] = json.dumps(names)
    preprocess_and_labels(replace(s, metadata={**s.metadata, **meta}), where)  # raises OnnxError
    return meta


def with_metadata(data: bytes, meta: dict[str, str], where: str) -> bytes:
    """The ONNX file ``data`` with ``meta`` written into its ``metadata_props`` (replacing those
    keys), everything else as it was: the preprocessing travels with the file, and the new
    content (its own digest) is a model of its own in every cache."""
    model = parse(data, where)
    kept = [(p.key, p.value) for p in model.metadata_props if p.key not in meta]
    del model.metadata_props[:]
    for key, value in [*kept, *meta.items()]:
        model.metadata_props.add(key=key, value=value)
    return model.SerializeToString()


def build(path: str) -> nn.Module:
    """The file's network with its weights (its checks pass first)."""
    model = _read(path)
    return convert(model, check(model, label(path)), label(path))


def info(path: str | Path, name: str, imagenet_classes) -> ModelInfo:
    """The registry entry of an ONNX file, under ``name`` (the CLI: its path; the app: the
    sidebar's model, whose weights it replaces). Raises OnnxError when the file is refused."""
    path = str(path)
    s, layer = summary(path)
    pre, labels, title = preprocess_and_labels(s, label(path))
    if labels is None:
        labels = imagenet_classes() if s.classes == 1000 else [f"class {i}" for i in range(s.classes)]
    return ModelInfo(
        name=name,
        title=title or f"{Path(path).name[:60]} (ONNX)",
        family="onnx",
        source="an ONNX file (converted to torch by this app)",  # the CLI's `models` list: English
        preprocess=pre,
        default_layer=layer,
        builder=functools.partial(build, path),
        pretrained=lambda download: {},
        classes=lambda: list(labels),
        available=lambda: True,
        description=Message(
            N_("From an ONNX file: {params} M parameters, {size}×{size} input."),
            params=f"{s.params / 1e6:.2f}",
            size=s.size,
        ),
        metadata={"onnx": s},
    )
