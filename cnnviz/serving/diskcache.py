"""Results worth keeping across restarts (feature visualisations, example scores) on disk.

Files are named by a digest of everything that decides their content, and written
atomically (a temporary file in the same folder, then ``os.replace``): a reader sees the
whole file or none, also when the writer was stopped or killed halfway.

The folder is ``$CNNVIZ_DISK_CACHE``, else ``cache`` in ``$CNNVIZ_SHARED_DIR`` (what several
replicas share), by default the user's cache folder (``~/.cache/cnnviz``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
import weakref
from pathlib import Path

import numpy as np
from torch import nn

from cnnviz.serving.shared_dir import store_path


def cache_dir() -> Path:
    """Where cached results live (created on first write)."""
    env = store_path("CNNVIZ_DISK_CACHE")
    if env:
        return env
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cnnviz"


def digest(parts: dict) -> str:
    """A short hex digest of a JSON-able dict (keys sorted): the name of a cache file."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:32]


_MODEL_DIGESTS: weakref.WeakKeyDictionary[nn.Module, str] = weakref.WeakKeyDictionary()


def model_digest(model: nn.Module) -> str:
    """A digest of a model's parameters and buffers: two checkpoints saved under one name
    never share a cache entry. Computed once per model object (~30 ms for 5 M parameters)."""
    if model not in _MODEL_DIGESTS:
        h = hashlib.sha256()
        for name, t in model.state_dict().items():
            h.update(f"{name}:{tuple(t.shape)}:{t.dtype}".encode())
            h.update(t.detach().cpu().contiguous().numpy().tobytes())
        _MODEL_DIGESTS[model] = h.hexdigest()[:32]
    return _MODEL_DIGESTS[model]


def path_for(kind: str, key: str, suffix: str = ".npz") -> Path:
    return cache_dir() / kind / f"{key}{suffix}"


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that no reader ever sees a partial file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_arrays(path: Path, arrays: dict[str, np.ndarray]) -> bytes:
    """Store arrays as one .npz file, atomically; returns the bytes written."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    data = buf.getvalue()
    write_atomic(path, data)
    return data


def load_arrays(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays of a cache file, or None when it is missing or unreadable (then recomputed)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError, EOFError):
        return None
