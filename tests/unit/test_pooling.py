"""Hand-rolled pooling against hand-computed values, F.max_pool2d / F.avg_pool2d and real layers."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from cnnviz.errors import CnnvizError
from cnnviz.inside.catalogue import pooling_layers
from cnnviz.teaching import pooling as pl
from testing.helpers import hook_count

X4 = np.array([[1, 3, 2, 0],
               [4, 2, 1, 5],
               [0, 1, 7, 2],
               [6, 2, 3, 3]], dtype=np.float32)  # fmt: skip


def test_hand_case_2x2():
    np.testing.assert_array_equal(pl.pool2d(X4, 2, mode="max"), [[4, 5], [6, 7]])
    # (1+3+4+2)/4 = 2.5, (2+0+1+5)/4 = 2, (0+1+6+2)/4 = 2.25, (7+2+3+3)/4 = 3.75
    np.testing.assert_array_equal(pl.pool2d(X4, 2, mode="avg"), [[2.5, 2.0], [2.25, 3.75]])
    np.testing.assert_array_equal(pl.winners(X4, 2), [[0, 0, 0, 0], [1, 0, 0, 1], [0, 0, 1, 0], [1, 0, 0, 0]])


def test_zoom():
    z = pl.zoom(X4, 2, 2, row=1, col=1)
    np.testing.assert_array_equal(z.window, [[7, 2], [3, 3]])
    assert z.winner == (0, 0) and z.max == 7 and z.mean == 3.75 and (z.top, z.left) == (2, 2)
    with pytest.raises(CnnvizError):
        pl.zoom(X4, 2, 2, row=2, col=0)


@pytest.mark.parametrize("k,stride,padding", [(2, 2, 0), (3, 2, 0), (3, 2, 1), (3, 1, 1), (4, 3, 2), (5, 5, 0)])
def test_matches_torch(k, stride, padding):
    rng = np.random.default_rng(k * 100 + stride * 10 + padding)
    x = rng.normal(size=(4, 19, 14)).astype(np.float32)
    t = torch.from_numpy(x)[None]
    np.testing.assert_allclose(
        pl.pool2d(x, k, stride, "max", padding), F.max_pool2d(t, k, stride, padding)[0].numpy(), atol=1e-6
    )
    np.testing.assert_allclose(
        pl.pool2d(x, k, stride, "avg", padding), F.avg_pool2d(t, k, stride, padding)[0].numpy(), atol=1e-6
    )


def test_winners_match_torch_indices():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(15, 15)).astype(np.float32)
    _, idx = F.max_pool2d(torch.from_numpy(x)[None, None], 3, 2, return_indices=True)
    want = np.zeros(x.size, bool)
    want[idx.flatten().numpy()] = True
    np.testing.assert_array_equal(pl.winners(x, 3, 2), want.reshape(x.shape))


def test_bad_input():
    with pytest.raises(CnnvizError):
        pl.pool2d(X4, 2, mode="median")
    with pytest.raises(CnnvizError):
        pl.pool2d(X4, 5)


def test_pooling_layers_and_layer_io(effnet):
    names = [n for n, _ in pooling_layers(effnet.model)]
    assert names == ["pool"]
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    inp, out = pl.layer_io(effnet, x, "pool")
    assert inp.shape == (1280, 7, 7) and out.shape == (1280, 1, 1)
    # global average pooling: each of the 1280 numbers is the mean of its 7×7 map
    np.testing.assert_allclose(out[:, 0, 0], inp.mean(axis=(1, 2)), atol=1e-5)
    assert hook_count(effnet.model) == 0  # the hook is gone


def test_layer_io_maxpool_matches_hand_pooling():
    from torchvision.models import resnet18

    from cnnviz.models.loaded_model import LoadedModel
    from cnnviz.models.zoo import get_info

    torch.manual_seed(0)
    lm = LoadedModel(get_info("resnet18"), resnet18().eval(), "random", torch.device("cpu"))
    assert [n for n, m in pooling_layers(lm.model) if isinstance(m, nn.MaxPool2d)] == ["maxpool"]
    inp, out = pl.layer_io(lm, torch.randn(1, 3, 64, 64), "maxpool")
    assert inp.shape == (64, 32, 32) and out.shape == (64, 16, 16)  # conv1 halves 64, maxpool halves again
    np.testing.assert_allclose(pl.pool2d(inp, 3, 2, "max", padding=1), out, atol=1e-6)
