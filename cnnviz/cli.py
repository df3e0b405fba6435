"""``python -m cnnviz``: the command line. Subcommands live in ``cnnviz/commands/``.

Bad input (an unreadable image, an unknown model, a refused checkpoint) ends with exit
code 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
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
]


class UsageError(CnnvizError):
    """A command line that does not parse."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line instead of usage + error
        raise UsageError(f"{self.prog}: {message} (see --help)")


def add_model_args(p: argparse.ArgumentParser, *, required: bool = False) -> None:
    """The --model/--weights pair every model command takes."""
    p.add_argument(
        "--model",
        default=None if required else "efficientnet_lite0",
        required=required,
        help="model name (see `models`); default efficientnet_lite0" if not required else "model name",
    )
    p.add_argument(
        "--weights",
        default="pretrained",
        help="'pretrained' (default), 'random', or a state-dict file (.safetensors / .pt, tensors only)",
    )


def load_from_args(args: argparse.Namespace):
    """The LoadedModel named by --model/--weights (downloads missing torchvision weights)."""
    from cnnviz.zoo import load_model

    return load_model(args.model, args.weights, download=True)


def read_image(path: str):
    """An RGB PIL image decoded from a file path, with the app's safety checks."""
    from cnnviz.images import decode_image

    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise CnnvizError(f"Cannot read {path}: {e.strerror or 'no such file'}.") from e
    return decode_image(data, name=p.name)


def print_json(obj) -> None:
    print(json.dumps(obj, indent=2))


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m cnnviz", description="CNN Explorer from the command line.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args) or 0)
    except CnnvizError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
