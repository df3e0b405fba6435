"""Errors a user can act on. ``str(e)`` is one clear sentence, shown as-is in the app and CLI.

Their sentences are translated where they are raised (``cnnviz.i18n._``): the reader's
language in the app, English on the CLI; or raised with a :class:`cnnviz.i18n.Message`, they
are translated where they are shown.
"""

from __future__ import annotations

from cnnviz.i18n import Message


class CnnvizError(Exception):
    """Base class: a problem with the user's input or environment, not a bug."""


class ImageError(CnnvizError):
    """An uploaded or given image cannot be used."""


class ModelError(CnnvizError):
    """An unknown model, or a model that cannot be built."""


class WeightsUnavailable(ModelError):
    """Pretrained weights are not on this machine and cannot be downloaded now."""


class CheckpointError(ModelError):
    """A checkpoint file is unreadable, unsafe, or does not fit the architecture."""


class DatasetError(CnnvizError):
    """A dataset cannot be read or is unusable for training."""


class Stopped(CnnvizError):
    """Long work (a feature visualisation, an examples pass) stopped before it finished."""


def of_error(e: BaseException) -> str:
    """An exception's text, kept as a :class:`~cnnviz.i18n.Message` when it was raised with
    one (so a job's error is shown in the language of whoever reads it).

    Args:
        e: the exception.

    Returns:
        Its Message, or ``str(e)``.
    """
    return e.args[0] if len(e.args) == 1 and isinstance(e.args[0], Message) else str(e)
