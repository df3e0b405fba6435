"""`examples --layer L --channel C --pool P`: the images of a pool that excite one channel most."""

from cnnviz.cli import add_model_args, load_from_args, print_json


def register(sub) -> None:
    """Add the ``examples`` command to the CLI: the images of a pool that excite one channel most."""
    p = sub.add_parser("examples", help="the images of a pool that excite one channel most")
    add_model_args(p, required=True)
    p.add_argument("--layer", required=True, help="layer name, as `layers` lists it")
    p.add_argument("--channel", type=int, required=True, help="channel number")
    p.add_argument("--pool", required=True, help="mnist5k, fashion2k, gallery, training:NAME or folder:PATH")
    p.add_argument("--k", type=int, default=9, help="how many images (default 9)")
    p.add_argument("--per-photo", type=int, default=1, help="at most this many crops of one photo (0: any)")
    p.add_argument(
        "--json", action="store_true", help='print [{"source", "index", "score", "mean", "box"}], best first'
    )
    p.set_defaults(func=run)


def run(args) -> int:
    """Rank the pool's images for the channel and print the best (JSON with --json)."""
    from cnnviz.channels import examples
    from cnnviz.channels.featvis import check_target
    from cnnviz.errors import CnnvizError
    from cnnviz.inside.catalogue import catalogue

    if args.k < 1 or args.per_photo < 0:
        raise CnnvizError("--k must be at least 1 and --per-photo at least 0.")
    lm = load_from_args(args)
    layer = check_target(catalogue(lm), args.layer, args.channel)
    part = examples.parse(args.pool)
    scores = examples.score_part(lm, part, [layer])
    per_photo = args.per_photo or None
    best = examples.top_k([part], [scores], layer, args.channel, lm.preprocess_spec.size, args.k, per_photo)
    if args.json:
        print_json([e.as_dict() for e in best])
    else:
        for e in best:
            print(f"{e.score:10.4g} {e.mean:9.3g}  #{e.index:<5} {e.source}  box (top, left, bottom, right) {e.box}")
    return 0
