"""`predict IMAGE`: the model's top-k classes for an image."""

from cnnviz.cli import add_model_args, load_from_args, print_json, read_image


def register(sub) -> None:
    """Add the ``predict`` command to the CLI: classify an image."""
    p = sub.add_parser("predict", help="classify an image")
    p.add_argument("image", help="image file (JPEG, PNG, GIF, BMP, WEBP, TIFF)")
    add_model_args(p)
    p.add_argument("--top", type=int, default=5, help="how many classes to show (default 5)")
    p.add_argument("--json", action="store_true", help='{"model": ..., "top": [{"index", "label", "prob"}, ...]}')
    p.set_defaults(func=run)


def run(args) -> int:
    """Print the image's top classes (JSON with --json)."""
    from cnnviz.inside.predict import predict

    img = read_image(args.image)
    lm = load_from_args(args)
    pred = predict(lm, lm.preprocess(img), top=args.top)
    if args.json:
        print_json(pred.as_dict())
        return 0
    for t in pred.top:
        print(f"{t.prob:7.2%}  {t.label} ({t.index})")
    return 0
