"""A background job's words, kept as their catalogue id and parameters until a page shows them.

A job's thread has no session, so ``_()`` there gives English; and the student may change
language while the job waits or runs. A :class:`Message` is the English sentence (logs, the
CLI and tests read it as before) that also keeps its message id and parameters;
:func:`shown` translates it into the reader's language where the page draws it.
"""

from __future__ import annotations

from babel.numbers import format_decimal

from cnnviz import i18n


class Message(str):
    """``Message(N_("Stopped after {epochs} epochs."), epochs=2.5)``: the English text, plus
    ``msgid`` and ``params`` for :func:`shown`. Parameters that are Messages are translated
    too; floats get the reader's decimal separator (at most two decimals)."""

    msgid: str
    params: dict[str, object]

    def __new__(cls, msgid: str, **params: object) -> Message:
        self = super().__new__(cls, msgid.format(**_filled(params, i18n.SOURCE)))
        self.msgid, self.params = msgid, params
        return self

    def __reduce__(self):  # pickled (a copied snapshot) as what it is, not as a plain string
        return _rebuild, (self.msgid, self.params)


def _rebuild(msgid: str, params: dict[str, object]) -> Message:
    return Message(msgid, **params)


def _filled(params: dict[str, object], lang: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in params.items():
        if isinstance(v, Message):
            v = str.__str__(v) if lang == i18n.SOURCE else shown(v)
        elif isinstance(v, float):
            v = format_decimal(v, format="#,##0.##", locale=lang)
        out[k] = v
    return out


def shown(message: str) -> str:
    """``message`` in the current reader's language (a plain string is returned as it is).

    Args:
        message: a :class:`Message` (a job's status line, an exception's text) or any string.

    Returns:
        The text to draw.
    """
    if not isinstance(message, Message):
        return message
    lang = i18n.current()
    if lang == i18n.SOURCE:
        return str.__str__(message)
    return i18n._(message.msgid).format(**_filled(message.params, lang))


def of_error(e: BaseException) -> str:
    """An exception's text, kept as a :class:`Message` when it was raised with one."""
    return e.args[0] if len(e.args) == 1 and isinstance(e.args[0], Message) else str(e)
