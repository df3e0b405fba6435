"""Errors a user can act on. ``str(e)`` is one clear sentence, shown as-is in the app and CLI.

Their sentences are translated where they are raised (``cnnviz.i18n._``): the reader's
language in the app, English on the CLI. :class:`Message` is for a sentence made once and
read by many (kept in a shared cache, a module constant shown by another module).
"""

from __future__ import annotations

from cnnviz.i18n import _


class Message(str):
    """A sentence for the reader: English as its value (the CLI, logs and tests compare it),
    and in the reader's language whenever it is turned into text (``str(m)``, ``f"{m}"``;
    ``st.warning`` and ``st.error`` do that). For text made once and shown to many readers,
    e.g. a shared model's weight warnings: made in one language, it would reach every other.

    Args:
        msgid: the English sentence, marked for the catalogue with ``N_``, with named
            ``{placeholders}`` filled from ``params`` (data: not translated).
    """

    def __new__(cls, msgid: str, **params: object) -> Message:
        # the value is English throughout: a Message among the params gives its English value
        english = {k: str.__str__(v) if isinstance(v, Message) else v for k, v in params.items()}
        self = super().__new__(cls, msgid.format(**english) if params else msgid)
        self.msgid, self.params = msgid, params
        return self

    def __str__(self) -> str:
        text = _(self.msgid)
        return text.format(**self.params) if self.params else text


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
