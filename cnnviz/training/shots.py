"""Your own classes from the camera (Teachable Machine's idea): a few shots per class, named
by the student, become a dataset like an uploaded folder of class folders.

The shots are kept small (a JPEG of at most ``SHOT_SIDE`` px) and few, because they live in
the student's session on a server shared by a class.
"""

from __future__ import annotations

import io

from cnnviz.errors import DatasetError
from cnnviz.i18n import _, ngettext
from cnnviz.inputs.images import decode_image
from cnnviz.training.imageset import MIN_PER_CLASS

MAX_CLASSES = 8
MAX_SHOTS = 40  # per class
SHOT_SIDE = 160  # px, the longer side of a kept shot (every training size is ≤ 64)
MAX_NAME = 40


def shrink_shot(data: bytes) -> bytes:
    """A camera photo (any size) as a small JPEG: longer side ``SHOT_SIDE``. Raises ImageError."""
    img = decode_image(data, name="camera photo", max_side=SHOT_SIDE)
    out = io.BytesIO()
    img.save(out, format="JPEG", quality=90)
    return out.getvalue()


def class_name(name: str) -> str:
    """The name cleaned (spaces trimmed), or DatasetError saying what is wrong with it."""
    name = " ".join(str(name).split())
    if not name:
        raise DatasetError(_("Give the class a name first (what is in front of the camera: 'thumbs up', 'cup'…)."))
    if len(name) > MAX_NAME:
        raise DatasetError(_("Class names can be at most {most} characters long.").format(most=MAX_NAME))
    if any(c in name for c in "/\\") or name.startswith("."):
        raise DatasetError(_("A class name cannot contain / or \\ or start with a dot."))
    return name


def add_shot(shots: dict[str, list[bytes]], name: str, photo: bytes) -> dict[str, list[bytes]]:
    """``shots`` with ``photo`` added to class ``name`` (a new dict; the input is not changed).
    Raises DatasetError when the name is bad or a limit is reached, ImageError for a bad photo."""
    name = class_name(name)
    if name not in shots and len(shots) >= MAX_CLASSES:
        raise DatasetError(_("At most {most} classes, please: this server is shared.").format(most=MAX_CLASSES))
    if len(shots.get(name, ())) >= MAX_SHOTS:
        raise DatasetError(
            _("Class {name} already has {most} shots; that is plenty for a small CNN.").format(
                name=repr(name), most=MAX_SHOTS
            )
        )
    return {**shots, name: [*shots.get(name, ()), shrink_shot(photo)]}


def missing(shots: dict[str, list[bytes]]) -> str | None:
    """What is still needed before training, or None when the shots make a dataset."""
    full = [n for n, s in shots.items() if len(s) >= MIN_PER_CLASS]
    if len(full) >= 2 and len(full) == len(shots):
        return None
    short = [n for n, s in shots.items() if len(s) < MIN_PER_CLASS]
    if short:
        return ngettext(
            "Take at least {least} shots in every class and at least 2 classes ({names} still needs more).",
            "Take at least {least} shots in every class and at least 2 classes ({names} still need more).",
            len(short),
        ).format(least=MIN_PER_CLASS, names=", ".join(repr(n) for n in short[:3]))
    return _("Take at least {least} shots in every class and at least 2 classes: add a second class.").format(
        least=MIN_PER_CLASS
    )


def as_files(shots: dict[str, list[bytes]]) -> list[tuple[str, bytes]]:
    """(``class/shot_N.jpg``, bytes) pairs for :func:`cnnviz.training.class_folders.from_files`."""
    return [(f"{name}/shot_{i}.jpg", data) for name, photos in shots.items() for i, data in enumerate(photos)]
