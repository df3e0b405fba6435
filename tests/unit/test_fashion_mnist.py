"""Fashion-MNIST from Debian's ``dataset-fashion-mnist`` package: the IDX reader against
hand-written files and against the package's own reader; the CLI trains on it offline."""

from __future__ import annotations

import gzip
import importlib.util
import json
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cnnviz.errors import DatasetError
from cnnviz.training import datasets, imageset, published

ROOT = Path(__file__).resolve().parents[2]
debian = pytest.mark.skipif(
    not published.DEBIAN_FASHION_DIR.is_dir(),
    reason="Debian's dataset-fashion-mnist is not installed (make datasets)",
)


def _write_idx(path: Path, arr: np.ndarray) -> None:
    head = struct.pack(">BBBB", 0, 0, 8, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    path.write_bytes(gzip.compress(head + arr.astype(np.uint8).tobytes()))


def _fake_fashion(folder: Path, n: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    y = np.arange(n, dtype=np.uint8) % 10
    _write_idx(folder / "train-images-idx3-ubyte.gz", x)
    _write_idx(folder / "train-labels-idx1-ubyte.gz", y)
    return x, y


def test_reads_hand_written_idx_files(tmp_path, monkeypatch):
    x, y = _fake_fashion(tmp_path)
    monkeypatch.setenv("CNNVIZ_FASHION_MNIST_DIR", str(tmp_path))
    assert published.fashion_mnist_available()
    ds = datasets.load("fashionmnist")
    assert ds.classes[0] == "T-shirt/top" and ds.classes[9] == "Ankle boot"
    assert ds.x.shape == (60, 1, 28, 28) and ds.x.dtype == np.uint8
    assert np.array_equal(ds.x[:, 0], x) and np.array_equal(ds.y, y)
    assert len(ds.train_idx) + len(ds.val_idx) == 60


@pytest.mark.parametrize(
    "damage",
    ["truncated", "wrong-magic", "not-gzip", "labels-mismatch"],
)
def test_damaged_files_are_a_clear_message(damage, tmp_path, monkeypatch):
    _fake_fashion(tmp_path)
    images = tmp_path / "train-images-idx3-ubyte.gz"
    if damage == "truncated":
        images.write_bytes(gzip.compress(gzip.decompress(images.read_bytes())[:-100]))
    elif damage == "wrong-magic":
        images.write_bytes(gzip.compress(b"\0\0\x0d\x03" + gzip.decompress(images.read_bytes())[4:]))
    elif damage == "not-gzip":
        images.write_bytes(b"hello")
    else:
        _write_idx(tmp_path / "train-labels-idx1-ubyte.gz", np.zeros(7, np.uint8))
    monkeypatch.setenv("CNNVIZ_FASHION_MNIST_DIR", str(tmp_path))
    with pytest.raises(DatasetError) as e:
        datasets.load("fashionmnist")
    assert "\n" not in str(e.value)


@debian
def test_debian_package_matches_its_own_reader():
    """The first 12,000 training images equal what the package's mnist_reader.py returns."""
    spec = importlib.util.spec_from_file_location(
        "mnist_reader", "/usr/share/doc/dataset-fashion-mnist/utils/mnist_reader.py"
    )
    reader = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reader)
    images, labels = reader.load_mnist(str(published.DEBIAN_FASHION_DIR), kind="train")
    ds = datasets.load("fashionmnist")
    assert len(ds.y) == 12000 and len(ds.classes) == 10
    assert np.array_equal(ds.x.reshape(12000, 784), images[:12000])
    assert np.array_equal(ds.y, labels[:12000])
    assert set(np.bincount(ds.y)) <= set(range(1100, 1300))  # roughly balanced
    grid = imageset.preview(ds, per_class=8)
    assert grid.shape == (10 * 28 + 9 * 2, 8 * 28 + 7 * 2, 3)  # 10 rows of clothes, 28-px tiles, 2-px gaps


@debian
def test_cli_trains_on_it_offline(tmp_path):
    env = {"CNNVIZ_DATA": str(tmp_path / "no_torchvision_data"), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    r = subprocess.run(
        [sys.executable, "-m", "cnnviz", "train", "--dataset", "fashionmnist", "--epochs", "1", "--json"]
        + ["--out", str(tmp_path / "fashion")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["dataset"] == "fashionmnist" and out["classes"][9] == "Ankle boot"
    assert out["val_accuracy"] > 0.6  # ten classes: chance is 0.1
