"""Reading and writing state dicts safely.

Checkpoints are data, never code: ``.safetensors`` is read with safetensors, anything else
with ``torch.load(..., weights_only=True)``, whose unpickler refuses every object that is
not a tensor or a plain container, so a pickle that tries to run code is refused unrun.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from cnnviz.errors import CheckpointError

MAX_CHECKPOINT_BYTES = 1 << 30  # 1 GiB: bigger than any model this app explores


def load_state_dict_file(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a state dict (name -> tensor) from ``.safetensors`` or a torch file.

    A torch file may hold the dict itself or wrap it as ``{"state_dict": ...}`` /
    ``{"model": ...}`` (common training-script layouts); a ``module.`` prefix left by
    DataParallel is stripped.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"No checkpoint file at {path.name!r}.")
    if path.stat().st_size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(f"{path.name} is larger than 1 GiB; that is not a model this app can explore.")
    if path.suffix == ".safetensors":
        return _load_safetensors(path)
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        raise CheckpointError(
            f"{path.name} contains Python objects, not just tensors; it was refused without running it "
            "(save a state dict: torch.save(model.state_dict(), path))."
        ) from e
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError, AttributeError) as e:
        raise CheckpointError(f"{path.name} is not a readable PyTorch checkpoint.") from e
    return _as_state_dict(obj, path.name)


def _load_safetensors(path: Path) -> dict[str, torch.Tensor]:
    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{path.name} is not a readable safetensors file.") from e


def _as_state_dict(obj: object, name: str) -> dict[str, torch.Tensor]:
    if isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"{name} does not hold a state dict (a mapping of parameter names to tensors).")
    if all(k.startswith("module.") for k in obj):
        obj = {k.removeprefix("module."): v for k, v in obj.items()}
    return obj


def apply_state_dict(model: nn.Module, state: dict[str, torch.Tensor], *, source: str = "checkpoint") -> None:
    """Load ``state`` into ``model`` strictly, with a readable error on any mismatch."""
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    unexpected = [k for k in state if k not in own]
    wrong = [
        f"{k} {tuple(state[k].shape)} vs {tuple(v.shape)}"
        for k, v in own.items()
        if k in state and tuple(state[k].shape) != tuple(v.shape)
    ]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing (e.g. {', '.join(missing[:3])})")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected (e.g. {', '.join(unexpected[:3])})")
    if wrong:
        problems.append(f"{len(wrong)} with the wrong shape (e.g. {'; '.join(wrong[:2])})")
    if problems:
        raise CheckpointError(f"The {source} does not fit this architecture: " + ", ".join(problems) + ".")
    model.load_state_dict(state, strict=True)
