"""After training: how good is the model (confusion matrix, per-class accuracy, the most
confidently wrong pictures), and saving it so that every page of the app can open it.
"""

from __future__ import annotations

import io
import re
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from cnnviz.errors import CnnvizError
from cnnviz.i18n import _
from cnnviz.models import small_cnn as archs
from cnnviz.models import usermodels, zoo
from cnnviz.models.preprocess import Preprocess
from cnnviz.training.fit import FitResult, predict_batches, tensors
from cnnviz.training.imageset import ImageDataset

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,47}$")


class SaveError(CnnvizError):
    """A model name that cannot be used."""


@dataclass
class Results:
    """Validation results. ``confusion[i, j]``: images of class i predicted as j.

    ``wrong``: validation positions (into ``ds.val_idx``) of mistakes, most confident first,
    with ``wrong_pred`` and ``wrong_conf`` (the probability given to the wrong class).
    """

    accuracy: float
    confusion: np.ndarray  # (K, K) int64
    per_class: np.ndarray  # (K,) float, NaN for a class with no validation images
    wrong: np.ndarray
    wrong_pred: np.ndarray
    wrong_conf: np.ndarray


def evaluate(model: nn.Module, ds: ImageDataset, device: torch.device | str = "cpu") -> Results:
    """Run the validation split through ``model`` (eval mode) and tabulate the results."""
    device = torch.device(device)
    x, y = tensors(ds, ds.val_idx, device)
    norm = Preprocess.from_dict(ds.preprocess()).normalize
    probs = predict_batches(model.to(device), x, norm).cpu().numpy()
    y = y.cpu().numpy()
    pred = probs.argmax(1)
    k = len(ds.classes)
    confusion = np.bincount(y * k + pred, minlength=k * k).reshape(k, k)
    totals = confusion.sum(1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = np.where(totals > 0, np.diag(confusion) / np.maximum(totals, 1), np.nan)
    wrong = np.flatnonzero(pred != y)
    conf = probs[wrong, pred[wrong]]
    order = np.argsort(-conf, kind="stable")
    return Results(float((pred == y).mean()), confusion, per_class, wrong[order], pred[wrong][order], conf[order])


def check_name(name: str) -> str:
    """``name`` if it is a usable file name not taken by a built-in model; else SaveError."""
    name = (name or "").strip()
    if not NAME_RE.match(name):
        raise SaveError(_("Use 1–48 letters, digits, '-' or '_' for the model name (no spaces or dots)."))
    taken = {i.name for i in zoo.list_models() if i.family != "user"}
    if name in taken:
        raise SaveError(_("{name} is the name of a built-in model; choose another name.").format(name=repr(name)))
    return name


# Lower-case letters and digits without 0/o, 1/l/i, u (Crockford's base 32): read aloud or
# copied by hand without mistakes.
_TAG_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
TAG_BITS = 65  # 13 characters of 5 bits


def name_tag() -> str:
    """A fresh random part for default model names: 65 bits from ``secrets`` as 13 characters
    in groups (``k7f3-9xm2-b4cqz``). A private model is hidden only as long as its name cannot
    be guessed: the old 4 hex digits of the owner's token (65,536 names, a session tries ~25 a
    second) fell in 45 minutes and also gave away part of the token."""
    n = secrets.randbits(TAG_BITS)
    chars = "".join(_TAG_ALPHABET[(n >> (5 * i)) & 31] for i in range(TAG_BITS // 5))
    return f"{chars[:4]}-{chars[4:8]}-{chars[8:]}"


def default_name(kind: str, dataset: str, tag: str) -> str:
    """A name for a student's model that nobody has used yet: ``my_<arch>_<data>_<tag>`` (``tag``:
    :func:`name_tag`, kept by the session so the field does not change under the student),
    with ``_2``, ``_3``... if even that is taken (a fixed default made every student save
    over the same model). At most 44 characters, so that free_name's ``_2`` keeps the whole tag."""
    base = re.sub(r"[^A-Za-z0-9_-]+", "_", f"my_{kind}_{dataset}")[:28].strip("_-") or "my_model"
    return usermodels.free_name(f"{base}_{tag}", usermodels.user_models_dir())


def checkpoint_meta(
    name: str, arch: dict, ds: ImageDataset, fit: FitResult, *, title: str | None = None, config: dict | None = None
) -> dict:
    """The JSON metadata of docs/ARCHITECTURE.md for a model trained on ``ds``."""
    return {
        "format": usermodels.FORMAT,
        "name": name,
        "title": title or name,
        "arch": arch,
        "classes": list(ds.classes),
        "preprocess": ds.preprocess(),
        "default_layer": archs.default_layer(arch),
        "metrics": {
            "val_accuracy": round(fit.val_accuracy, 4),
            "val_loss": round(fit.val_loss, 4),
            "epochs": fit.epochs_done,
            "seconds": round(fit.seconds, 2),
            "images_per_second": round(fit.images_per_second, 1),
            "stopped_early": fit.stopped,
        },
        "dataset": ds.name,
        "train": config or {},
        # Saved with the model and read by everyone who picks it: data, kept in English.
        "description": f"{arch.get('kind', 'custom')} trained on {ds.name}: "
        f"{fit.val_accuracy:.1%} validation accuracy after {fit.epochs_done:g} epochs.",
    }


def save_model(
    model: nn.Module, meta: dict, path: str | Path | None = None, *, owner: str | None = None, shared: bool = False
) -> Path:
    """Save as ``<path>.safetensors`` + ``<path>.json`` (default: the user-models folder,
    under ``meta["name"]``). Returns the .safetensors path.

    ``owner`` (the app: the browser's token): the model belongs to it, is visible to others
    only when ``shared``, and a taken name is refused (usermodels.NameTaken) instead of
    overwriting anyone's model.
    """
    if path is None:
        path = usermodels.user_models_dir() / check_name(meta["name"])
    if owner is None:
        return usermodels.save(model, meta, path)
    meta = {**meta, "owner": usermodels.owner_id(owner), "shared": bool(shared)}
    return usermodels.save(model, meta, path, exclusive=True)


def export_zip(weights_path: str | Path) -> bytes:
    """A zip holding ``name.safetensors`` and ``name.json`` (the download button's bytes)."""
    w = Path(weights_path)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(w, w.name)
        zf.write(w.with_suffix(".json"), w.with_suffix(".json").name)
    return buf.getvalue()
