"""`filters --layer L`: a conv layer's filters as a picture and/or its raw weights."""

from cnnviz.cli import add_model_args, load_from_args, write_npy, write_output


def register(sub) -> None:
    """Add the ``filters`` command to the CLI: a convolution layer's filters."""
    p = sub.add_parser("filters", help="a convolution layer's filters")
    add_model_args(p, required=True)
    p.add_argument("--layer", required=True, help="conv layer name, as `layers` lists it")
    p.add_argument("--out", help="save the filters as a PNG grid")
    p.add_argument("--npy", help="save the weights (O, I, kH, kW) float32")
    p.add_argument(
        "--mode",
        choices=("average", "channel"),
        default="average",
        help="deeper layers: average over input channels, or one --channel",
    )
    p.add_argument("--channel", type=int, default=0)
    p.add_argument("--norm", choices=("filter", "layer"), default="filter")
    p.set_defaults(func=run)


def run(args) -> int:
    """Save the layer's filters as a grid PNG and/or raw .npy."""
    from cnnviz import render
    from cnnviz.inside import filters

    lm = load_from_args(args)
    w = filters.conv_weight(lm.model, args.layer)
    if args.npy:
        write_npy(args.npy, w)
    if args.out:
        write_output(
            args.out, render.to_png(filters.filter_grid(w, mode=args.mode, channel=args.channel, norm=args.norm))
        )
    print(
        f"{args.layer}: {w.shape[0]} filters of {'×'.join(map(str, w.shape[1:]))}, "
        f"mean norm {filters.filter_norms(w).mean():.4g}"
    )
    return 0
