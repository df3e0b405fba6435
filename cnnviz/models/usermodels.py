"""The user-model format, ``cnnviz-model/1``: the only module that reads or writes it.

A model trained in the app (or by ``python -m cnnviz train --out P``) is two files side
by side: ``<name>.safetensors`` (the state dict, tensors only) and ``<name>.json`` (the
sidecar)::

    {"format": "cnnviz-model/1", "name": "...", "title": "...",
     "arch": {...},                      # cnnviz.models.small_cnn architecture dict
     "classes": ["...", ...],
     "preprocess": {"size", "resize", "mean", "std", "channels", "invert"},
     "default_layer": "features.3.act", "dataset": "...", "metrics": {...}, ...}

``save`` writes both, ``read`` parses a sidecar into a :class:`UserModel`, ``sidecar_of``
finds the JSON beside a weights file, ``scan`` lists a folder's models.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
import threading
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors.torch import save_file
from torch import nn

from cnnviz.errors import CheckpointError, ModelError
from cnnviz.i18n import _, number
from cnnviz.inputs.checkpoints import load_state_dict_file
from cnnviz.models.preprocess import Preprocess
from cnnviz.models.small_cnn import build_model, cost
from cnnviz.serving.shared_dir import store_path

FORMAT = "cnnviz-model/1"

# What a sidecar may ask for, checked before a module is built: an absurd size or depth
# must be refused from its numbers, not discovered by allocating it.
MAX_SIZE = 512  # input side
MAX_CLASSES = 1000
MAX_CLASS_CHARS = 100
MAX_PARAMS = 20_000_000  # 80 MB of float32
MAX_ACTIVATIONS = 32_000_000  # values for one image through every block (128 MB captured)
SHIPPED_DIR = Path(__file__).resolve().parents[1] / "weights"  # models that ship with the app (tinyvgg_mnist)


def user_models_dir() -> Path:
    """Where the app saves and finds user-trained models.

    Returns:
        ``$CNNVIZ_USER_MODELS``, else ``user_models`` in ``$CNNVIZ_SHARED_DIR``, else
        ``./user_models``.
    """
    return store_path("CNNVIZ_USER_MODELS") or Path("user_models")


def paths(path: str | Path) -> tuple[Path, Path]:
    """The two files of a saved model.

    Args:
        path: ``P``, ``P.safetensors`` or ``P.json``.

    Returns:
        (``P.safetensors``, ``P.json``).
    """
    p = Path(path)
    stem = p.with_name(p.name.removesuffix(".safetensors").removesuffix(".json"))
    return stem.with_name(stem.name + ".safetensors"), stem.with_name(stem.name + ".json")


@dataclass(frozen=True)
class UserModel:
    """A parsed sidecar: everything needed to rebuild the network and read its weights."""

    name: str
    weights: Path
    arch: dict
    classes: list[str]
    preprocess: Preprocess
    meta: dict  # the whole sidecar, as saved

    def build(self) -> nn.Module:
        """The architecture, with random weights (seed them first for a fixed initialisation).

        Returns:
            A new ``nn.Module`` for this model's input and classes.
        """
        return build_model(
            self.arch, in_channels=self.preprocess.channels, num_classes=len(self.classes), size=self.preprocess.size
        )

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The model's weights, read safely from its ``.safetensors``.

        Returns:
            Parameter name -> tensor.

        Raises:
            CheckpointError: the file is unreadable or unsafe.
        """
        return load_state_dict_file(self.weights)


def read(sidecar: str | Path) -> UserModel:
    """Parse a saved model's sidecar; nothing is built.

    Args:
        sidecar: ``<name>.json`` (its ``.safetensors`` must sit beside it).

    Returns:
        The UserModel it describes.

    Raises:
        CheckpointError: it is not a CNN Explorer model or is malformed.
    """
    weights, meta_path = paths(sidecar)
    try:
        meta = json.loads(meta_path.read_text())
    # RecursionError: a JSON nested deeper than Python's recursion limit (100,000 brackets)
    except (OSError, ValueError, RecursionError) as e:
        raise CheckpointError(
            _("{name} is not a readable CNN Explorer model description.").format(name=meta_path.name)
        ) from e
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(
            _("{name} is not a CNN Explorer model (its format is not {format}).").format(
                name=meta_path.name, format=FORMAT
            )
        )
    if not weights.is_file():
        raise CheckpointError(_("{name} has no {weights} beside it.").format(name=meta_path.name, weights=weights.name))
    pre, classes, arch = validate(meta, meta_path.name)
    return UserModel(meta_path.stem, weights, arch, classes, pre, meta)


def _int(v: object, lo: int, hi: int, what: str, where: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
        raise CheckpointError(
            _("{where}: {what} must be a whole number from {lo} to {hi} (it is {got}).").format(
                where=where, what=what, lo=lo, hi=hi, got=repr(str(v)[:20])
            )
        )
    return v


def _numbers(v: object, n: int, what: str, where: str, *, positive: bool = False) -> tuple[float, ...]:
    ok = isinstance(v, list) and len(v) == n and all(isinstance(x, int | float) and not isinstance(x, bool) for x in v)
    if not ok or not all(math.isfinite(x) and (x > 0 or not positive) for x in v):
        if positive:
            text = _("{where}: {what} must be a list of {n} finite positive numbers, one per channel.")
        else:
            text = _("{where}: {what} must be a list of {n} finite numbers, one per channel.")
        raise CheckpointError(text.format(where=where, what=what, n=n))
    return tuple(float(x) for x in v)


def validate(meta: dict, where: str | None = None) -> tuple[Preprocess, list[str], dict]:
    """Check a sidecar's every field's type, length and range, and the network's size
    (parameters, activations) from its architecture alone; nothing is built or allocated.

    Args:
        meta: the parsed sidecar.
        where: what the message calls the sidecar; None for "The model description".

    Returns:
        (preprocess, classes, arch).

    Raises:
        CheckpointError: naming the first bad field.
    """
    where = _("The model description") if where is None else where
    p, classes, arch = meta.get("preprocess"), meta.get("classes"), meta.get("arch")
    if not isinstance(p, dict) or not isinstance(classes, list) or not isinstance(arch, dict):
        raise CheckpointError(_("{where} is malformed: it needs preprocess, classes and arch.").format(where=where))
    size = _int(p.get("size"), 8, MAX_SIZE, _("the input size"), where)
    resize = _int(p.get("resize", size), size, 2 * MAX_SIZE, _("the resize side"), where)
    channels = p.get("channels", 3)
    if channels not in (1, 3) or isinstance(channels, bool):
        raise CheckpointError(_("{where}: channels must be 1 (grey) or 3 (colour).").format(where=where))
    mean = _numbers(p.get("mean"), channels, "mean", where)
    std = _numbers(p.get("std"), channels, "std", where, positive=True)
    invert = p.get("invert", False)
    if not isinstance(invert, bool):  # "false" is a non-empty string: bool() would say True
        raise CheckpointError(_("{where}: invert must be true or false (without quotes).").format(where=where))
    if not 2 <= len(classes) <= MAX_CLASSES:
        raise CheckpointError(
            _("{where}: a model needs 2 to {max_classes} classes (it lists {n}).").format(
                where=where, max_classes=MAX_CLASSES, n=len(classes)
            )
        )
    if not all(isinstance(c, str) and 0 < len(c) <= MAX_CLASS_CHARS for c in classes):
        raise CheckpointError(
            _("{where}: every class name must be text of 1 to {max_class_chars} characters.").format(
                where=where, max_class_chars=MAX_CLASS_CHARS
            )
        )
    try:
        params, acts = cost(arch, channels, len(classes), size)
    except (ModelError, TypeError, ValueError, KeyError, RuntimeError) as e:
        raise CheckpointError(
            _("{where}: its architecture cannot be built ({why}).").format(where=where, why=str(e)[:120])
        ) from None
    if params > MAX_PARAMS or acts > MAX_ACTIVATIONS:
        raise CheckpointError(
            _(
                "{where} describes a network too large for this server ({params} M parameters, {acts} M activation "
                "values; at most {max_params} M and {max_acts} M)."
            ).format(
                where=where,
                params=number(params / 1e6, 1),
                acts=number(acts / 1e6, 1),
                max_params=f"{MAX_PARAMS / 1e6:.0f}",
                max_acts=f"{MAX_ACTIVATIONS / 1e6:.0f}",
            )
        )
    pre = Preprocess(size=size, resize=resize, mean=mean, std=std, channels=channels, invert=invert)
    return pre, list(classes), dict(arch)


def sidecar_of(weights: str | Path) -> Path | None:
    """The sidecar of a weights file, when it is a CNN Explorer model.

    Args:
        weights: a weights file's path.

    Returns:
        The ``.json`` beside a ``.safetensors`` file, else None.
    """
    w = Path(weights)
    if w.suffix != ".safetensors":
        return None
    meta = paths(w)[1]
    try:
        ours = json.loads(meta.read_text()).get("format") == FORMAT
    except (OSError, ValueError, AttributeError, RecursionError):
        return None
    return meta if ours else None


def owner_id(token: str) -> str:
    """What a sidecar stores about its owner: a digest of the browser's token, never the token.

    Args:
        token: the browser's owner token.

    Returns:
        32 hex digits.
    """
    return hashlib.sha256(f"cnnviz-owner:{token}".encode()).hexdigest()[:32]


def visible_to(meta: dict, token: str | None) -> bool:
    """Whether a browser may see and open a model: its own, one shared with the class, or one
    without an owner (trained on the command line, shipped).

    Args:
        meta: the model's sidecar.
        token: the browser's owner token, or None.

    Returns:
        True when it may.
    """
    owner = meta.get("owner")
    return not owner or meta.get("shared") is True or (token is not None and owner == owner_id(token))


def owned_by(meta: dict, token: str | None) -> bool:
    """Whether a browser owns a model (may share, unshare or delete it).

    Args:
        meta: the model's sidecar.
        token: the browser's owner token, or None.

    Returns:
        True for its owner only.
    """
    return token is not None and meta.get("owner") == owner_id(token)


def free_name(name: str, directory: Path) -> str:
    """A name no model in a folder uses yet.

    Args:
        name: the wanted name.
        directory: the models' folder.

    Returns:
        ``name`` if free, else the first free ``name_2``, ``name_3``...
    """

    def taken(n: str) -> bool:
        return any((directory / f"{n}{suffix}").exists() for suffix in (".json", ".safetensors"))

    if not taken(name):
        return name
    stem = name[:44]
    return next(f"{stem}_{i}" for i in range(2, 10_000) if not taken(f"{stem}_{i}"))


def save(model: nn.Module, meta: dict, path: str | Path, *, exclusive: bool = False) -> Path:
    """Save a model's state dict as ``P.safetensors`` with the sidecar ``P.json``.

    Writes to temporary names first and renames, so a crash never leaves half a model that
    the picker would list.

    Args:
        model: the trained network.
        meta: the sidecar's fields; ``format`` and ``name`` are filled in.
        path: ``P``, ``P.safetensors`` or ``P.json``.
        exclusive: (the app) claim the name by hard-linking the finished weights into place,
            which fails if the name exists, so no save ever replaces another's model and two
            concurrent saves of one name cannot pair one's weights with the other's sidecar.

    Returns:
        The ``.safetensors`` path.

    Raises:
        NameTaken: with ``exclusive``, the name is taken (it carries a free name to
            suggest); nothing is left behind.
    """
    weights, meta_path = paths(path)
    weights.parent.mkdir(parents=True, exist_ok=True)
    meta = {**meta, "format": FORMAT, "name": meta_path.stem}
    # Unique temporary names: two writers of the same model never share a temporary file.
    tag = f"{os.getpid()}.{threading.get_ident()}.{secrets.token_hex(4)}"
    tmp_w, tmp_m = weights.with_name(f".{weights.name}.{tag}.tmp"), meta_path.with_name(f".{meta_path.name}.{tag}.tmp")
    try:
        save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}, str(tmp_w))
        tmp_m.write_text(json.dumps(meta, indent=2))
        if exclusive:
            if meta_path.exists():
                raise FileExistsError(meta_path)
            os.link(tmp_w, weights)  # atomic claim: FileExistsError if the name is taken
            tmp_m.replace(meta_path)  # only the claimant ever writes this name's sidecar
        else:
            tmp_w.replace(weights)
            tmp_m.replace(meta_path)
    except FileExistsError:
        raise NameTaken(meta_path.stem, free_name(meta_path.stem, weights.parent)) from None
    finally:
        tmp_w.unlink(missing_ok=True)
        tmp_m.unlink(missing_ok=True)
    return weights


class NameTaken(CheckpointError):
    """A save under a name that is already used; ``suggestion`` is free."""

    def __init__(self, name: str, suggestion: str):
        super().__init__(
            _("The name {name} is already taken; save under another, e.g. {suggestion}.").format(
                name=repr(name), suggestion=repr(suggestion)
            )
        )
        self.name, self.suggestion = name, suggestion
