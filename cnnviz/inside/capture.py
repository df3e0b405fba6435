"""Activation capture: the outputs of chosen layers for one image, in one forward pass,
with hooks that never outlive the call.

Keys are the catalogue's layer names (:mod:`cnnviz.inside.catalogue`): a module that runs more
than once per forward gets ``name``, ``name#2``, ``name#3``... so no call overwrites
another.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from cnnviz.i18n import _
from cnnviz.inside.catalogue import LayerInfo
from cnnviz.models.loaded_model import LoadedModel
from cnnviz.trace import StopForward, tracing


@dataclass
class _InPlaceMemo:
    """What earlier guarded passes learned about one model: which layers were watched, and
    which of their outputs the model overwrites in place. That is a property of the
    forward code (ResNet's ``out += identity`` runs for every input), so once every wanted
    layer has been watched, later passes clone just those outputs in the hook and skip the
    per-op guard, which costs a large share of a small model's forward."""

    watched: set[str]
    overwritten: set[str]


_MEMOS: weakref.WeakKeyDictionary[nn.Module, _InPlaceMemo] = weakref.WeakKeyDictionary()


@contextmanager
def hooked_outputs(
    model: nn.Module, names: Iterable[str], *, until: Iterable[str] | None = None
) -> Iterator[dict[str, torch.Tensor]]:
    """Forward hooks recording the outputs of ``names`` into the yielded dict.

    The hooks are removed when the block exits, also on error. Repeated calls of a module
    get ``#2``, ``#3`` keys. An output that the model later overwrites in place is copied
    first, so every record is the value the module returned.

    Args:
        model: the network; the caller owns it for the block (``with lm.use() as model``).
        names: ``named_modules()`` paths of the layers to record.
        until: record keys (``name``, ``name#2``...); once all are recorded a hook raises
            :class:`StopForward` out of the forward (catch it, as :func:`capture_layers`
            does). Only once this model's in-place writes are learned for ``names``: the
            learning pass runs the whole forward, since a write after the last record still
            has to be seen. None: the forward always runs to its end.

    Yields:
        A dict filled while the model runs: record key -> detached output tensor (the first
        tensor of a tuple output), with the batch axis, e.g. (N, C, H, W) or (N, F), in the
        model's dtype and on its device.

    Raises:
        ModelError: a path in ``names`` that the model does not have.
    """
    names = list(names)
    memo = _MEMOS.setdefault(model, _InPlaceMemo(set(), set()))
    learned = set(names) <= memo.watched
    with tracing(
        model,
        keep=names,
        in_place=memo.overwritten if learned else None,
        stop_after=until if learned else None,
    ) as t:
        yield t.outputs
    if not learned and all(n in t.outputs for n in names):  # learn only from a pass that ran through every layer
        memo.overwritten |= t.overwritten
        memo.watched |= set(names)


def capture(lm: LoadedModel, x: torch.Tensor, names: Iterable[str]) -> dict[str, np.ndarray]:
    """One forward pass of one image; the outputs of ``names`` for that image.

    Runs under ``lm.use()``, so concurrent sessions never see each other's activations.

    Args:
        lm: the shared model.
        x: the preprocessed image, (1, C, H, W); moved to the model's device.
        names: ``named_modules()`` paths of the layers to record.

    Returns:
        Record key (``name``, ``name#2``... for a module that runs more than once) ->
        float32 array without the batch axis: (C, H, W) for conv-like layers, (F,) for
        flat ones.

    Raises:
        ModelError: a path in ``names`` that the model does not have.
    """
    names = list(names)
    with lm.use() as model, torch.inference_mode(), hooked_outputs(model, names) as store:
        model(x.to(lm.device))
    return {k: v[0].float().cpu().numpy() for k, v in store.items()}


@contextmanager
def _layer_progress(model: nn.Module, paths: list[str], progress) -> Iterator[None]:
    """Report ``progress(fraction, text)`` each time another of ``paths`` has run (a module
    that runs twice counts once). Registered on the model this caller holds, inside its lock."""
    if progress is None:
        yield
        return
    seen: set[str] = set()

    def tick(name: str, _m, _inputs, _out) -> None:
        if name not in seen:
            seen.add(name)
            progress(
                len(seen) / len(paths),
                _("Running the photo through the network: layer {n} of {total}").format(n=len(seen), total=len(paths)),
            )

    with tracing(model, on=paths, forward=tick):
        yield


def capture_layers(
    lm: LoadedModel, x: torch.Tensor, layers: list[LayerInfo], *, progress=None
) -> dict[str, np.ndarray]:
    """One forward pass, stopped after the last of ``layers`` has run; their outputs.

    A container's output that is its last child's output is stored once: both names map
    to the same array, so the memory is that of distinct tensors only.

    Args:
        lm: the shared model.
        x: the preprocessed image, (1, C, H, W); moved to the model's device.
        layers: catalogue entries (:func:`cnnviz.inside.catalogue.catalogue`) of ``lm``.
        progress: a :mod:`cnnviz.inside.progress` callback, or None; told while the model is
            busy with other callers, then layer by layer.

    Returns:
        ``LayerInfo.name`` -> read-only float32 array without the batch axis, (C, H, W) (or
        (F,) for a flat layer).

    Raises:
        ModelError: a layer whose path the model does not have.
        Stopped: raised by ``progress`` (a stopped job's callback); it ends the forward.
    """
    wanted = {layer.name for layer in layers}
    paths = list(dict.fromkeys(layer.path for layer in layers))
    if progress is not None:
        progress(0.0, _("Waiting for the network (it is busy with other photos)…"))
    with (
        lm.use() as model,
        torch.inference_mode(),
        hooked_outputs(model, paths, until=wanted) as store,
        _layer_progress(model, paths, progress),
    ):
        with suppress(StopForward):
            model(x.to(lm.device))
        by_storage: dict[tuple, np.ndarray] = {}
        result: dict[str, np.ndarray] = {}
        for key, t in store.items():
            if key not in wanted:
                continue
            ident = (t.data_ptr(), tuple(t.shape), t.stride(), t.storage_offset())
            if ident not in by_storage:
                arr = t[0].float().cpu().numpy()
                arr.flags.writeable = False
                by_storage[ident] = arr
            result[key] = by_storage[ident]
    return result


def captured_bytes(maps: dict[str, np.ndarray]) -> int:
    """Memory held by a capture.

    Args:
        maps: a capture's result (:func:`capture_layers`, :func:`capture`).

    Returns:
        The bytes of its arrays; an array shared between names counts once.
    """
    return sum(a.nbytes for a in {id(a): a for a in maps.values()}.values())
