"""Reading and writing state dicts safely.

Checkpoints are data, never code: ``.safetensors`` is read with safetensors, anything else
with ``torch.load(..., weights_only=True)``, whose unpickler refuses every object that is
not a tensor or a plain container, so a pickle that tries to run code is refused unrun.
"""

from __future__ import annotations

import pickle
import re
import zipfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from torch import nn

from cnnviz.errors import CheckpointError
from cnnviz.i18n import N_, Message, _

MAX_CHECKPOINT_BYTES = 600 << 20  # unpacked: VGG-16 (528 MB) fits, and one upload stays within budget
# torch.save stores its entries uncompressed; a deflated entry that grows more than this
# is a zip bomb (deflate reaches ~1000:1: a 2.9 MB file asked torch.load for 3 GB).
MAX_ZIP_RATIO = 20
MAX_ZIP_ENTRIES = 100_000

_ZIP_MAGIC = b"PK\x03\x04"
# Opcodes a pickle needs to name a class or call something: torch's weights-only
# unpickler refuses every one it does not know.
# Any class or function a pickle uses is first named: by GLOBAL/INST ("module name") or by
# STACK_GLOBAL on two strings just pushed (each maybe memoised).
_GLOBAL_ARG = re.compile(r"[A-Za-z_][\w.]* [A-Za-z_][\w.]*\Z")
_STRING_OPS = frozenset(
    {"SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "UNICODE", "BINGET", "LONG_BINGET", "GET", "MEMOIZE"}
)


def load_state_dict_file(path: str | Path, *, name: str | None = None) -> dict[str, torch.Tensor]:
    """Read a state dict (name -> tensor) from ``.safetensors`` or a torch file.

    A torch file may hold the dict itself or wrap it as ``{"state_dict": ...}`` /
    ``{"model": ...}`` (common training-script layouts); a ``module.`` prefix left by
    DataParallel is stripped. ``name``: what messages call the file (the student's own
    file name; default the path's).
    """
    path = Path(path)
    label = _label(name or path.name)
    if not path.exists():
        raise CheckpointError(_("No checkpoint file at {label}.").format(label=label))
    if not path.is_file():
        # A FIFO or a device would block or never end: refuse anything but a regular file.
        raise CheckpointError(_("{label} is not a regular file, so it was not read.").format(label=label))
    size = path.stat().st_size
    if size > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(
            _("{label} is larger than {limit} MB; that is not a model this app can explore.").format(
                label=label, limit=MAX_CHECKPOINT_BYTES >> 20
            )
        )
    with path.open("rb") as f:
        head = f.read(8)
    if path.suffix == ".safetensors":
        return _load_safetensors(path, label)
    if head.startswith(_ZIP_MAGIC):
        _check_zip(path, label)
    elif not head.startswith(b"\x80"):  # every torch pickle starts with a PROTO opcode
        raise CheckpointError(_("{label} is not a PyTorch checkpoint or a safetensors file.").format(label=label))
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        if _names_code(path):
            raise CheckpointError(
                _(
                    "{label} contains Python objects, not just tensors; it was refused without running it (save a "
                    "state dict: torch.save(model.state_dict(), path))."
                ).format(label=label)
            ) from e
        raise CheckpointError(
            _("{label} is damaged: it is not a readable PyTorch checkpoint.").format(label=label)
        ) from e
    except MemoryError as e:
        raise CheckpointError(_("{label} is too large to load on this server.").format(label=label)) from e
    except Exception as e:  # untrusted bytes: malformed pickles raise KeyError, IndexError, ...
        raise CheckpointError(
            _("{label} is damaged: it is not a readable PyTorch checkpoint.").format(label=label)
        ) from e
    return _as_state_dict(obj, label)


def _label(name: str) -> str:
    """The file's quoted base name, one line, at most 60 characters."""
    base = " ".join(Path(str(name).replace("\\", "/")).name.split()) or "checkpoint"
    return repr(base if len(base) <= 60 else base[:57] + "...")


def _check_zip(path: Path, label: str) -> None:
    """Refuse a zip whose entries would unpack beyond the budget, before torch inflates any."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise CheckpointError(
            _("{label} is damaged: it is not a readable PyTorch checkpoint.").format(label=label)
        ) from e
    if len(infos) > MAX_ZIP_ENTRIES:
        raise CheckpointError(
            _("{label} has {n} entries; a PyTorch checkpoint this app can explore has far fewer.").format(
                label=label, n=len(infos)
            )
        )
    total = sum(i.file_size for i in infos)
    if total > MAX_CHECKPOINT_BYTES:
        raise CheckpointError(
            _("{label} would unpack to {mb} MB; at most {limit} MB are allowed.").format(
                label=label, mb=total >> 20, limit=MAX_CHECKPOINT_BYTES >> 20
            )
        )
    for i in infos:
        if i.file_size > (1 << 20) and i.file_size > MAX_ZIP_RATIO * max(1, i.compress_size):
            raise CheckpointError(
                _(
                    "{label} holds an entry that expands {times} times (a zip bomb?); it was refused before unpacking."
                ).format(label=label, times=i.file_size // max(1, i.compress_size))
            )


def _names_code(path: Path) -> bool:
    """Whether the file's pickle names classes or calls functions (rather than being broken)."""
    import pickletools

    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                pkl = next((n for n in zf.namelist() if n.endswith("data.pkl")), None)
                if pkl is None or zf.getinfo(pkl).file_size > (16 << 20):
                    return False
                data = zf.read(pkl)
        else:
            data = path.read_bytes()
        ops = [(op.name, arg) for op, arg, _ in pickletools.genops(data)]
    except Exception:  # not even a well-formed opcode stream: damaged, not code
        return False
    # Noise after a PROTO byte often decodes a few opcodes, a REDUCE or BUILD among them
    # (3 % of random tails did): only a whole pickle that names a global is code.
    if ops[-1:] != [("STOP", None)]:
        return False
    return any(
        (name in ("GLOBAL", "INST") and isinstance(arg, str) and _GLOBAL_ARG.match(arg))
        or (name == "STACK_GLOBAL" and i >= 2 and {ops[i - 1][0], ops[i - 2][0]} <= _STRING_OPS)
        for i, (name, arg) in enumerate(ops)
    )


def _load_safetensors(path: Path, label: str) -> dict[str, torch.Tensor]:
    try:
        return load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError, TypeError) as e:
        raise CheckpointError(_("{label} is not a readable safetensors file.").format(label=label)) from e


def _as_state_dict(obj: object, name: str) -> dict[str, torch.Tensor]:
    if isinstance(obj, dict):
        for key in ("state_dict", "model_state_dict", "model"):
            if isinstance(obj.get(key), dict):
                obj = obj[key]
                break
    if not isinstance(obj, dict) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(
            _("{name} does not hold a state dict (a mapping of parameter names to tensors).").format(name=name)
        )
    if not all(isinstance(k, str) for k in obj):
        raise CheckpointError(
            _("{name} does not hold a state dict (its keys are not parameter names).").format(name=name)
        )
    if all(k.startswith("module.") for k in obj):
        obj = {k.removeprefix("module."): v for k, v in obj.items()}
    return obj


def weight_warnings(state: dict[str, torch.Tensor], *, source: str | None = None) -> list[Message]:
    """One sentence per oddity a student should know about: NaN/infinite values, and
    tensors stored as integers, booleans or complex numbers (converted to float on load).

    Args:
        state: the state dict read; source: what the sentences call it (None: "This
            checkpoint"; a :class:`Message` is translated with them).
    Returns: :class:`Message` sentences: a loaded model keeps them for every session that
        uses it, each reading them in its own language.
    """
    source = Message(N_("This checkpoint")) if source is None else source
    out = []
    odd = {k: str(v.dtype).removeprefix("torch.") for k, v in state.items() if not v.is_floating_point()}
    odd = {k: d for k, d in odd.items() if not k.endswith("num_batches_tracked")}  # an int by design
    if odd:
        kinds = ", ".join(sorted(set(odd.values())))
        first = next(iter(odd))
        if any("complex" in d for d in odd.values()):
            msgid = N_(
                "{source} has {n} tensor(s) stored as {kinds} (e.g. {first}), not floating point; "
                "they were converted to float (the imaginary part is dropped)."
            )
        else:
            msgid = N_(
                "{source} has {n} tensor(s) stored as {kinds} (e.g. {first}), not floating point; "
                "they were converted to float."
            )
        out.append(Message(msgid, source=source, n=len(odd), kinds=kinds, first=first))
    bad, where = 0, ""
    for k, v in state.items():
        if v.is_floating_point() or v.is_complex():
            n = int(v.numel() - torch.isfinite(v).sum())
            if n and not where:
                where = k
            bad += n
    if bad:
        msgid = N_(
            "{source} has {n} NaN or infinite value(s) (e.g. in {where}); "
            "the outputs may be NaN too, and pictures show them as blank."
        )
        out.append(Message(msgid, source=source, n=bad, where=where))
    return out


def apply_state_dict(model: nn.Module, state: dict[str, torch.Tensor], *, source: str | None = None) -> None:
    """Load ``state`` into ``model`` strictly, with a readable error on any mismatch (``source``:
    what it calls the weights; None: "checkpoint")."""
    source = _("checkpoint") if source is None else source
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
        problems.append(_("{n} missing (e.g. {names})").format(n=len(missing), names=", ".join(missing[:3])))
    if unexpected:
        problems.append(_("{n} unexpected (e.g. {names})").format(n=len(unexpected), names=", ".join(unexpected[:3])))
    if wrong:
        problems.append(_("{n} with the wrong shape (e.g. {names})").format(n=len(wrong), names="; ".join(wrong[:2])))
    if problems:
        raise CheckpointError(
            _("The {source} does not fit this architecture: {problems}.").format(
                source=source, problems=", ".join(problems)
            )
        )
    # Complex tensors would be cast with a torch warning; take the real part explicitly.
    state = {k: (v.real if v.is_complex() else v) for k, v in state.items()}
    model.load_state_dict(state, strict=True)
