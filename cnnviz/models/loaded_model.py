"""What a model is (``ModelInfo``, a registry entry) and the built model every session shares
(``LoadedModel``: weights loaded, replicas, ``use()``). ``cnnviz.models.zoo`` registers, lists and
builds them.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from PIL import Image
from torch import nn

from cnnviz.i18n import _
from cnnviz.models.fast_copy import FastCopy, copy_key, light_copy, make_fast_copy
from cnnviz.models.preprocess import Preprocess
from cnnviz.serving.page_activity import HOLDING as _HOLDING


@dataclass(frozen=True)
class ModelInfo:
    """A registry entry. ``builder`` makes the architecture with random weights;
    ``pretrained`` returns its state dict (or raises WeightsUnavailable)."""

    name: str
    title: str
    family: str  # "imagenet" | "digits" | "user"
    source: str
    preprocess: Preprocess
    default_layer: str
    builder: Callable[[], nn.Module] = field(repr=False, compare=False)
    pretrained: Callable[[bool], dict[str, torch.Tensor]] = field(repr=False, compare=False)
    classes: Callable[[], list[str]] = field(repr=False, compare=False)
    available: Callable[[], bool] = field(repr=False, compare=False)
    description: str = ""
    metadata: dict = field(default_factory=dict, repr=False, compare=False)


def _forget_input(model_ref: weakref.ref, key: int, _gone: weakref.ref) -> None:
    """A remembered input's picture is gone: its entry goes too (references to the model are
    weak both ways, so no cycle keeps an evicted model alive)."""
    lm = model_ref()
    if lm is None:
        return
    with lm._inputs_lock:
        hit = lm._inputs.get(key)
        if hit is not None and hit[0]() is None:
            del lm._inputs[key]


INPUTS_KEPT = 8  # model inputs remembered per model (one 224² RGB input: 0.6 MB)


class LoadedModel:
    """A built model with its weights, shared by every session of the server.

    Run it only inside ``with lm.use() as model:``: that gives the caller a copy of the
    model no other thread is running (a hook registered by one thread would fire on another
    thread's forward) and restores the mode, ``requires_grad`` and ``.grad`` of every
    parameter afterwards. :meth:`add_replicas` lets more forwards run at once (torch
    releases the GIL): a class on a 2-core server keeps both cores busy with one torch
    thread per forward (docs/PERFORMANCE.md, "Both cores").
    """

    def __init__(self, info: ModelInfo, model: nn.Module, weights: str, device: torch.device):
        self.info = info
        self.name = info.name
        self.model = model
        self.weights = weights
        self.device = device
        self.classes = info.classes()
        # Sentences about odd weights (NaN, integer tensors...) to show beside the model.
        self.warnings: tuple[str, ...] = ()
        self._free: list[nn.Module] = [model]  # replicas no thread is using
        self._cond = threading.Condition()
        self._held = threading.local()  # the replica this thread holds, and how deeply
        self._fast: dict[int, FastCopy] = {}  # by id() of the replica it was made from
        self._inputs: OrderedDict[int, tuple[weakref.ref, torch.Tensor]] = OrderedDict()  # by id() of the picture
        self._inputs_lock = threading.Lock()

    @property
    def title(self) -> str:
        """The model's name as shown to a student; untrained weights are part of the name."""
        if self.weights == "random":
            return _("{title} · random weights (untrained)").format(title=self.info.title)
        return self.info.title

    @property
    def preprocess_spec(self) -> Preprocess:
        return self.info.preprocess

    def preprocess(self, img: Image.Image) -> torch.Tensor:
        """(1, C, H, W) input on this model's device: a copy of its own for each caller.

        A picture's input is remembered while the picture lives (at most :data:`INPUTS_KEPT`
        of them): a decoded photo is one object shared by every page that asks (prediction,
        feature maps, Grad-CAM), and resizing a phone's photo is most of what preprocessing
        costs. Callers must not change the picture in place (no cached picture is)."""
        key = id(img)
        with self._inputs_lock:
            hit = self._inputs.get(key)
        if hit is not None and hit[0]() is img:
            return hit[1].clone()
        x = self.info.preprocess(img).to(self.device)
        ref = weakref.ref(img, functools.partial(_forget_input, weakref.ref(self), key))
        with self._inputs_lock:
            self._inputs[key] = (ref, x)
            while len(self._inputs) > INPUTS_KEPT:
                self._inputs.popitem(last=False)
        return x.clone()

    def label(self, index: int) -> str:
        return self.classes[index] if 0 <= index < len(self.classes) else f"class {index}"

    def add_replicas(self, n: int) -> None:
        """``n`` more copies of the model, sharing its weights' memory (:func:`light_copy`:
        their own modules, hooks and ``Parameter`` objects). Call it before sharing: a copy
        taken while a thread runs the model would carry that thread's hooks."""
        with self.use() as model:  # copies of a model nobody else is running
            copies = [light_copy(model) for _ in range(n)]
        with self._cond:
            self._free.extend(copies)
            self._cond.notify_all()

    def fast_forward(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """``x`` through the fast copy of ``model`` (the replica held from :meth:`use`), no
        layer read: the plain forward's output within float rounding, in ~0.7 of the CPU."""
        fast = self.fast_copy(model, [], x)
        if fast is not model and x.dim() == 4:
            x = x.contiguous(memory_format=torch.channels_last)
        return fast(x)

    def make_fast_copies(self) -> None:
        """Each replica's :meth:`fast_copy` now, with one forward through it, rather than in
        the first Grad-CAM on it (~0.1 s each; under a class that first Grad-CAM came while
        thirty sessions waited). Call it before sharing, as :meth:`add_replicas`."""
        example = self.blank_input()
        with self._cond:
            replicas = list(self._free)
        for model in replicas:
            with torch.inference_mode():
                self.fast_forward(model, example)

    def blank_input(self) -> torch.Tensor:
        """A zero input (1, C, H, W) of the model's size, on its device."""
        spec = self.preprocess_spec
        return torch.zeros(1, spec.channels, spec.size, spec.size, device=self.device)

    def _acquire(self) -> nn.Module:
        with self._cond:
            while not self._free:
                self._cond.wait()
            return self._free.pop()

    def _release(self, model: nn.Module) -> None:
        with self._cond:
            self._free.append(model)
            self._cond.notify()

    @contextmanager
    def use(self) -> Iterator[nn.Module]:
        """Exclusive use of one replica of the model, in eval mode; its state is restored on
        exit. Re-entrant: a nested use() in the same thread gets the same replica."""
        held = getattr(self._held, "model", None)
        model = held if held is not None else self._acquire()
        self._held.model, self._held.depth = model, getattr(self._held, "depth", 0) + 1
        _HOLDING.n = getattr(_HOLDING, "n", 0) + 1
        modes = [(m, m.training) for m in model.modules()]
        params = [(p, p.requires_grad, p.grad) for p in model.parameters()]
        try:
            if any(training for _, training in modes):
                model.eval()
            yield model
        finally:
            # Only what changed is written back (nn.Module.__setattr__ is slow): an enter and
            # exit on EfficientNet-Lite0 went from 1.3 to 0.4 ms, ResNet-18 0.5 to 0.15 ms.
            for m, training in modes:
                if m.training != training:
                    m.training = training
            for p, requires_grad, grad in params:
                if p.requires_grad != requires_grad:
                    p.requires_grad_(requires_grad)
                if p.grad is not grad:
                    p.grad = grad
            self._held.depth -= 1
            _HOLDING.n -= 1
            if self._held.depth == 0:
                self._held.model = None
                self._release(model)

    def fast_copy(self, model: nn.Module, layers: Iterable[str], example: torch.Tensor) -> nn.Module:
        """A faster stand-in (:mod:`cnnviz.models.fast_copy`) for ``model``, the replica this thread
        holds from :meth:`use` (so its copy is this thread's too), for a forward that hooks
        ``layers`` on inputs like ``example``; ``model`` itself when a copy cannot stand in: a hook on ``model``, or a
        requested layer is a conv whose output the copy changed. Made on first use, remade
        when the replica's weights change. Costs the memory of what it changes (folded and
        channels_last conv weights, packed ones), once for all replicas; the rest is shared."""
        key = copy_key(model)
        if key is None:  # a hook on the model
            return model
        fast = self._fast.get(id(model))
        if fast is None or fast.key != key:
            fast = self._fast[id(model)] = self._sibling_copy(key) or make_fast_copy(model, example, key)
        return model if fast.folded.intersection(layers) else fast.model

    def _sibling_copy(self, key: tuple) -> FastCopy | None:
        """Another replica's fast copy of the same weights (replicas share their storage, so
        their keys are equal), as a :func:`light_copy`: the folded, channels_last and packed
        weights are paid once per model rather than once per replica. Not one that carries
        a hook (another thread is running it: the copy would carry that thread's hooks)."""
        for fast in list(self._fast.values()):
            if fast.key == key and copy_key(fast.model) is not None:
                return FastCopy(light_copy(fast.model), fast.folded, key)
        return None

    def __repr__(self) -> str:
        return f"LoadedModel({self.name!r}, weights={self.weights!r}, device={self.device})"
