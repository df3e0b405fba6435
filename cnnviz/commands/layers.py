"""`layers`: every layer of a model with output shape, parameters and receptive field."""

import sys

from cnnviz.cli import add_model_args, load_from_args, print_json


def register(sub) -> None:
    """Add the ``layers`` command to the CLI: list a model's layers: shape, parameters, receptive field."""
    p = sub.add_parser("layers", help="list a model's layers: shape, parameters, receptive field")
    # Shapes, parameters and receptive fields need only the architecture: random weights by
    # default, so this works offline for every model, with nothing downloaded.
    add_model_args(p, required=True, weights="random")
    p.add_argument("--json", action="store_true", help='[{"name", "type", "out_shape", "params", "rf", "jump"}, ...]')
    p.set_defaults(func=run)


def run(args) -> int:
    """Print the model's layers (JSON with --json)."""
    from cnnviz.inside.catalogue import catalogue

    if args.weights == "random":
        print("note: random weights (shapes, parameters and receptive fields do not depend on them)", file=sys.stderr)
    rows = [la.as_dict() for la in catalogue(load_from_args(args))]
    if args.json:
        print_json(rows)
        return 0
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        shape = "×".join(map(str, r["out_shape"]))
        print(
            f"{r['name']:<{width}}  {r['type']:<18} {shape:<14} {r['params']:>10,}  rf {r['rf']:>4}  "
            f"jump {r['jump'] if r['jump'] is not None else '-'}"
        )
    return 0
