"""Looking inside a forward pass: capture layer outputs with hooks that never outlive the call.

Layer names are the model's own ``named_modules()`` paths. A module that runs more than
once per forward (ResNet's ``BasicBlock.relu``) gets one entry per call: ``name`` for the
first, ``name#2``, ``name#3``... after it, so no call overwrites another.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from cnnviz.errors import ModelError
from cnnviz.zoo import LoadedModel


def resolve(model: nn.Module, name: str) -> nn.Module:
    """The submodule called ``name`` (a ``named_modules()`` path), or a clear error."""
    modules = dict(model.named_modules())
    if name not in modules:
        raise ModelError(f"This model has no layer called {name!r}.")
    return modules[name]


@contextmanager
def hooked_outputs(model: nn.Module, names: Iterable[str]) -> Iterator[dict[str, torch.Tensor]]:
    """Forward hooks recording the outputs of ``names`` into the yielded dict.

    The hooks are removed when the block exits, also on error. Outputs are detached
    tensors (the first tensor of a tuple output); repeated calls get ``#2``, ``#3`` keys.
    """
    store: dict[str, torch.Tensor] = {}
    handles = []

    def make_hook(name: str):
        def hook(_module, _inputs, output):
            out = output[0] if isinstance(output, (tuple, list)) else output
            if not isinstance(out, torch.Tensor):
                return
            key, n = name, 1
            while key in store:
                n += 1
                key = f"{name}#{n}"
            store[key] = out.detach()

        return hook

    try:
        for name in names:
            handles.append(resolve(model, name).register_forward_hook(make_hook(name)))
        yield store
    finally:
        for h in handles:
            h.remove()


def capture(lm: LoadedModel, x: torch.Tensor, names: Iterable[str]) -> dict[str, np.ndarray]:
    """One forward pass of ``x`` (1, C, H, W); the outputs of ``names`` for that image.

    Returns name -> float32 array without the batch axis: (C, H, W) for conv-like layers,
    (F,) for flat ones. Runs under ``lm.use()``, so concurrent sessions never see each
    other's activations.
    """
    names = list(names)
    with lm.use() as model, torch.inference_mode(), hooked_outputs(model, names) as store:
        model(x.to(lm.device))
    return {k: v[0].float().cpu().numpy() for k, v in store.items()}
