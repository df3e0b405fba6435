"""`adversarial IMAGE --eps E`: an FGSM attack; the top-5 before and after."""

from cnnviz.cli import add_model_args, load_from_args, print_json, read_image
from cnnviz.errors import CnnvizError


def register(sub) -> None:
    """Add the ``adversarial`` command to the CLI: fool the model with FGSM; top-5 before and after."""
    p = sub.add_parser("adversarial", help="fool the model with FGSM; top-5 before and after")
    p.add_argument("image", help="image file (JPEG, PNG, GIF, BMP, WEBP, TIFF)")
    add_model_args(p)
    p.add_argument(
        "--eps",
        type=float,
        required=True,
        help="step per pixel in 0..1 pixel units before normalisation, e.g. 0.008 (= 2/255)",
    )
    p.add_argument(
        "--json", action="store_true", help='{"eps", "attacked_class", "before": [...], "after": [...], "fooled"}'
    )
    p.set_defaults(func=run)


def run(args) -> int:
    """Attack the image and print the top-5 before and after (JSON with --json)."""
    from cnnviz.explain.adversarial import fgsm

    if not 0.0 <= args.eps <= 1.0:
        raise CnnvizError(f"--eps must be between 0 and 1 (pixel units), not {args.eps}.")
    img = read_image(args.image)
    lm = load_from_args(args)
    att = fgsm(lm, img, args.eps)
    if args.json:
        print_json(att.as_dict())
        return 0
    print(f"FGSM, eps = {args.eps:g} ({args.eps * 255:.2g}/255): {'fooled' if att.fooled else 'not fooled'}")
    for title, top in (("before", att.before), ("after", att.after)):
        print(title)
        for t in top:
            print(f"  {t.prob:7.2%}  {t.label} ({t.index})")
    return 0
