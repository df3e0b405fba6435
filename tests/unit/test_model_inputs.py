"""LoadedModel.preprocess remembers a picture's input while the picture lives: the same
numbers as preprocessing it again, a copy of its own for each caller, and nothing that keeps
the picture or the model alive."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import torch
from PIL import Image
from torch import nn

from cnnviz.models import loaded_model
from testing.helpers import wrap


def tiny_cnn() -> nn.Module:
    model = nn.Sequential()
    model.add_module("conv", nn.Conv2d(3, 2, 3))
    model.add_module("act", nn.ReLU())
    model.add_module("pool", nn.AdaptiveAvgPool2d(1))
    model.add_module("flat", nn.Flatten())
    model.add_module("fc", nn.Linear(2, 3))
    return model


def _photo(seed: int) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (300, 400, 3), dtype=np.uint8))


def test_an_input_is_computed_once_per_picture_and_each_caller_gets_its_own(monkeypatch):
    lm = wrap(tiny_cnn(), size=32, channels=3, classes=3, layer="act")
    calls = []
    real = type(lm.info.preprocess).__call__
    monkeypatch.setattr(type(lm.info.preprocess), "__call__", lambda self, img: (calls.append(1), real(self, img))[1])
    photo = _photo(0)
    first = lm.preprocess(photo)
    assert torch.equal(first, real(lm.info.preprocess, photo))
    first.add_(1.0)  # a caller that changes its copy in place
    again = lm.preprocess(photo)
    assert torch.equal(again, real(lm.info.preprocess, photo)) and len(calls) == 1
    other = _photo(1)
    assert not torch.equal(lm.preprocess(other), again) and len(calls) == 2


def test_a_gone_picture_leaves_no_entry_and_the_model_can_go(monkeypatch):
    monkeypatch.setattr(loaded_model, "INPUTS_KEPT", 3)
    lm = wrap(tiny_cnn(), size=32, channels=3, classes=3, layer="act")
    photos = [_photo(i) for i in range(5)]
    for p in photos:
        lm.preprocess(p)
    assert len(lm._inputs) == 3  # the oldest went first
    del photos, p
    assert len(lm._inputs) == 0  # refcounting alone: no collection needed
    kept = _photo(9)
    lm.preprocess(kept)
    gone = weakref.ref(lm)
    gc.disable()
    try:
        del lm
        assert gone() is None  # no cycle through the remembered inputs
    finally:
        gc.enable()
