"""Progress of a slow computation, without Streamlit: a callback ``progress(fraction, text)``.

``fraction`` runs from 0 to 1; ``text`` says what is being done ("Occlusion: 12 of 50
pictures"). The page turns it into a progress bar (:mod:`cnnviz.ui.progress_bar`); the CLI
and the tests pass nothing or a list's ``append``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from torch import nn

from cnnviz.i18n import ngettext
from cnnviz.trace import tracing

Progress = Callable[[float, str], None]


def report(progress: Progress | None, done: int, total: int, what: str) -> None:
    """Tell ``progress`` how many pictures of a slow computation are done.

    The fraction is ``done / total``, at most 1; the text reads "what: done of total
    pictures", in the reader's language.

    Args:
        progress: the callback, or None (then nothing happens).
        done: pictures done so far (more than ``total`` counts as ``total``).
        total: pictures in all; 0 reports 1.0 (nothing to do is done).
        what: what is being done, already translated by the caller ("Occlusion").

    Raises:
        Stopped: raised by ``progress`` (a stopped job's callback); it passes through.
    """
    if progress is not None:
        done = min(done, total)
        text = ngettext("{what}: {done} of {total} picture", "{what}: {done} of {total} pictures", total)
        progress(done / total if total else 1.0, text.format(what=what, done=done, total=total))


@contextmanager
def counting_forwards(model: nn.Module, total: int, what: str, progress: Progress | None) -> Iterator[None]:
    """Report after every forward of ``model`` the pictures (batch rows) it has seen of ``total``.

    A forward hook on the model itself (:func:`cnnviz.trace.tracing` on ""): methods that batch
    their own forwards (captum's Integrated Gradients, Occlusion) report without being changed.
    The hook is removed on exit. "0 of total" is reported on entry.

    Args:
        model: the network the block runs; the caller owns it (``with lm.use() as model``).
        total: the pictures (batch rows) the block's forwards will see in all.
        what: what is being done, already translated by the caller (see :func:`report`).
        progress: the callback, or None: then no hook is added.

    Yields:
        None, once the hook is on.

    Raises:
        Stopped: raised by ``progress`` (a stopped job's callback); it ends the forward.
    """
    if progress is None:
        yield
        return
    seen = [0]

    def count(_name: str, _m, inputs, _out) -> None:
        seen[0] += int(inputs[0].shape[0]) if inputs and hasattr(inputs[0], "shape") else 1
        report(progress, seen[0], total, what)

    report(progress, 0, total, what)
    with tracing(model, on=[""], forward=count):
        yield
