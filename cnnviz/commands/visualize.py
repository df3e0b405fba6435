"""`visualize --layer L --channel C`: an input optimised to excite one channel (feature visualisation)."""

from cnnviz.cli import add_model_args, load_from_args, print_json, write_npy, write_output


def register(sub) -> None:
    """Add the ``visualize`` command to the CLI: optimise an input that excites one channel (feature visualisation)."""
    p = sub.add_parser("visualize", help="optimise an input that excites one channel (feature visualisation)")
    add_model_args(p, required=True)
    p.add_argument("--layer", required=True, help="layer name, as `layers` lists it (a linear layer: its units/logits)")
    p.add_argument("--channel", type=int, required=True, help="channel (or unit) number")
    p.add_argument("--size", type=int, default=None, help="picture side in pixels (default: the model's input size)")
    p.add_argument("--steps", type=int, default=256, help="optimisation steps (default 256)")
    p.add_argument("--seed", type=int, default=0, help="random seed: same seed, same picture (default 0)")
    p.add_argument("--out", help="save the picture as PNG (as the model sees it, before normalisation)")
    p.add_argument("--npy", help="save the optimised input exactly as fed: (C, H, W) float32, normalised")
    p.add_argument("--json", action="store_true", help='print {"layer", "channel", "activation", "seconds"}')
    p.set_defaults(func=run)


def run(args) -> int:
    """Optimise the input and save it as a PNG and/or raw .npy."""
    from cnnviz import render
    from cnnviz.channels import featvis

    lm = load_from_args(args)
    req = featvis.Request(args.layer, args.channel, args.size, args.steps, args.seed)
    res = featvis.visualize(lm, req)
    if args.npy:
        write_npy(args.npy, res.x)
    if args.out:
        write_output(args.out, render.to_png(res.picture))
    if args.json:
        print_json({"layer": res.layer, "channel": res.channel, "activation": res.activation, "seconds": res.seconds})
    else:
        how = "from the cache" if res.cached else f"in {res.seconds:.1f} s"
        print(f"{res.layer} channel {res.channel}: mean activation {res.activation:.4g} ({how})")
    return 0
