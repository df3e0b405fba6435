"""Sample photos come from the installed packages' files without importing those packages:
``skimage.data`` imports scipy.stats, a second of the interpreter's lock in a class's run."""

from __future__ import annotations

import importlib.resources
import subprocess
import sys

import pytest

from cnnviz.inputs.gallery import package_file


@pytest.mark.parametrize(
    ("package", "name"),
    [("skimage.data", "chelsea.png"), ("skimage.data", "lfw_subset.npy"), ("sklearn.datasets.images", "china.jpg")],
)
def test_the_bytes_are_the_package_s_own(package, name):
    assert package_file(package, name) == importlib.resources.files(package).joinpath(name).read_bytes()


def test_reading_a_sample_imports_neither_its_package_nor_scipy():
    code = (
        "import sys; from cnnviz.inputs.gallery import package_file; "
        "data = package_file('skimage.data', 'coffee.png'); "
        "print(len(data) > 1000, 'skimage.data' in sys.modules, 'scipy.stats' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "False", "False"]


def test_a_file_a_package_lacks_is_an_error():
    with pytest.raises(FileNotFoundError):
        package_file("skimage.data", "no_such_photo.png")
