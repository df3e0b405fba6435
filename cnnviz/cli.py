"""``python -m cnnviz``: the command line. Subcommands live in ``cnnviz/commands/``.

Bad input (an unreadable image, an unknown model, a refused checkpoint) ends with exit
code 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import json
import math
import os
import sys
from pathlib import Path

from cnnviz.errors import CnnvizError

# Each module exposes register(subparsers); its parser sets func=run(args) -> int.
COMMANDS = [
    "cnnviz.commands.models",
    "cnnviz.commands.predict",
    "cnnviz.commands.layers",
    "cnnviz.commands.features",
    "cnnviz.commands.filters",
    "cnnviz.commands.train",
    "cnnviz.commands.explain",
    "cnnviz.commands.adversarial",
    "cnnviz.commands.visualize",
    "cnnviz.commands.examples",
    "cnnviz.commands.lesson",
]


class UsageError(CnnvizError):
    """A command line that does not parse."""


class OutputError(CnnvizError):
    """An output file (``--out``, ``--npy``, ``--save-input``) or stdout that cannot be written."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line instead of usage + error
        raise UsageError(f"{self.prog}: {message} (see --help)")


DEFAULT_MODEL = "efficientnet_lite0"
FIXED_WEIGHTS = ("pretrained", "random")


def add_model_args(p: argparse.ArgumentParser, *, required: bool = False, weights: str = "pretrained") -> None:
    """The --model/--weights pair every model command takes.

    ``required``: no default model; a --weights file of a CNN Explorer model (its .json
    beside it) still names one. ``weights``: the default of --weights ("random" where only
    the architecture matters, so nothing needs downloading).
    """
    p.add_argument(
        "--model",
        default=None,
        help="model name (see `models`), the .json of a saved model, or an ONNX file (.onnx, any framework)"
        + ("" if required else f"; default {DEFAULT_MODEL}")
        + "; may be left out when --weights is a model saved by `train --out`",
    )
    p.add_argument(
        "--weights",
        default=weights,
        help=f"'pretrained', 'random', or a state-dict file (.safetensors / .pt, tensors only); default {weights}. "
        "A .safetensors saved by `train --out` brings its own architecture and classes (the .json beside it)",
    )
    p.set_defaults(default_model=None if required else DEFAULT_MODEL)


def model_choice(args: argparse.Namespace) -> tuple[str, str]:
    """(model, weights) for load_model from --model/--weights.

    Without --model, a weights file with a CNN Explorer JSON beside it is that model."""
    from cnnviz.models import usermodels  # torch-heavy imports wait until a command runs: --help stays instant

    model, weights = args.model, args.weights
    if model is None and weights not in FIXED_WEIGHTS:
        sidecar = usermodels.sidecar_of(weights)
        if sidecar is not None:
            return str(sidecar), weights
    if model is None:
        model = args.default_model
    if model is None:
        raise UsageError(
            f"python -m cnnviz {args.command}: give --model, or --weights FILE.safetensors of a model "
            "saved by `train --out` (its .json beside it) (see --help)"
        )
    return model, weights


def load_from_args(args: argparse.Namespace):
    """The LoadedModel named by --model/--weights (downloads missing torchvision weights)."""
    from cnnviz.models.zoo import load_model

    model, weights = model_choice(args)
    lm = load_model(model, weights, download=True)
    for note in lm.warnings:
        print(f"warning: {note}", file=sys.stderr)
    return lm


def read_image(path: str):
    """An RGB PIL image decoded from a file path, with the app's safety checks."""
    from cnnviz.inputs.files import read_regular_file
    from cnnviz.inputs.images import MAX_FILE_BYTES, decode_image

    return decode_image(read_regular_file(path, limit=MAX_FILE_BYTES), name=Path(path).name)


def write_output(path: str, data: bytes) -> None:
    """Write ``data`` to the file ``path`` names; OutputError (one line) when it cannot be
    written: a folder, no permission, a full disk, /dev/full. A file left half-written by a
    failed write is removed (its old content was already gone when it was opened)."""
    try:
        f = open(path, "wb")  # noqa: SIM115 - closed below, where its own errors are caught too
    except OSError as e:
        raise OutputError(f"cannot write {path}: {e.strerror or e}.") from None
    try:
        with f:
            f.write(data)
    except OSError as e:
        with contextlib.suppress(OSError):
            if Path(path).is_file():
                os.unlink(path)
        raise OutputError(f"cannot write {path}: {e.strerror or e}.") from None


def write_npy(path: str, array) -> None:
    """``array`` in NumPy's ``.npy`` format at exactly ``path``, through :func:`write_output`.

    Not ``np.save(path)``: it appends ``.npy`` to a name without it, so ``--npy /dev/full``
    made ``/dev/full.npy`` and ``--npy some_folder`` a file beside the folder, and the
    ``npy`` that ``explain --json`` reported was not the file written."""
    import numpy as np

    buf = io.BytesIO()
    np.save(buf, array)
    write_output(path, buf.getvalue())


def _finite(obj):
    """``obj`` with NaN/Infinity floats as None: JSON has no NaN (json.dumps would print it)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_finite(v) for v in obj]
    return obj


def print_json(obj) -> None:
    """Valid JSON on stdout, always (allow_nan=False after NaN became null)."""
    print(json.dumps(_finite(obj), indent=2, allow_nan=False, default=float))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m cnnviz", description="CNN Explorer from the command line.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def _stdout_to_devnull() -> None:
    """Point stdout at /dev/null: Python's final flush of what is left must not fail again."""
    with contextlib.suppress(OSError, ValueError):  # io.UnsupportedOperation is a ValueError
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # here, where a failing write (stdout on a full disk) is still caught
        return code
    except CnnvizError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _stdout_to_devnull()  # the reader went away (`... | head`): nothing more to say
        return 1
    except OSError as e:
        # A write the commands do not make through write_output: stdout redirected to a full
        # disk or /dev/full, a folder a library writes into. One line, as for bad input.
        _stdout_to_devnull()
        where = f" ({e.filename})" if e.filename else ""
        print(f"error: cannot write the output{where}: {e.strerror or e}.", file=sys.stderr)
        return 2
