"""`explain IMAGE`: why the model chose a class — a map saved as an overlay PNG and/or raw .npy."""

from cnnviz.cli import add_model_args, load_from_args, print_json, read_image, write_npy, write_output


class RegisteredMethods:
    """argparse ``choices``: the names in cnnviz.explain's registry, read when argparse first
    asks (importing the registry imports torch and captum, ~3 s that `python -m cnnviz
    models` or `--help` of another command should not pay)."""

    def _names(self) -> list[str]:
        from cnnviz.explain import METHODS

        return list(METHODS)

    def __contains__(self, name: object) -> bool:
        return name in self._names()

    def __iter__(self):
        return iter(self._names())


def register(sub) -> None:
    """Add the ``explain`` command to the CLI: explain a prediction with one of the registered methods."""
    p = sub.add_parser(
        "explain",
        help="explain a prediction (Grad-CAM, Grad-CAM++, Guided Grad-CAM, IG, ...)",
        description="Explain the model's score for one class on an image.",
    )
    p.add_argument("image", help="image file (JPEG, PNG, GIF, BMP, WEBP, TIFF)")
    add_model_args(p)
    p.add_argument(
        "--method",
        choices=RegisteredMethods(),
        metavar="METHOD",
        default="gradcam",
        help="%(choices)s; default gradcam",
    )
    p.add_argument(
        "--layer",
        default=None,
        help="layer for gradcam/gradcampp/guided_gradcam (a named_modules path, see `layers`); "
        "default: the model's last conv block",
    )
    p.add_argument("--target", type=int, default=None, help="class index to explain; default: the top-1 class")
    p.add_argument("--out", default=None, help="write the map over the model's input picture to this PNG")
    p.add_argument(
        "--npy",
        default=None,
        help="write the raw map, before any normalisation, as .npy: for gradcam/gradcampp at the "
        "layer's resolution after Grad-CAM's ReLU; for guided_gradcam/ig/saliency/occlusion at "
        "the input resolution (H, W), channels combined (ig: summed, occlusion: mean, "
        "saliency/guided_gradcam: max |value|)",
    )
    p.add_argument("--signed", action="store_true", help="PNG: signed colours (red for, blue against), real scale")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(func=run)


def run(args) -> int:
    """Explain the image's prediction and save the map as an overlay PNG and/or raw .npy."""
    from cnnviz.explain import get_method
    from cnnviz.render import display, overlay_png

    img = read_image(args.image)
    lm = load_from_args(args)
    method = get_method(args.method)
    e = method(lm, lm.preprocess(img), target=args.target, layer=args.layer)
    if args.npy:
        write_npy(args.npy, e.map)
    if args.out:
        write_output(args.out, overlay_png(lm.preprocess_spec.crop(img), display(e.map, signed=args.signed)))
    summary = {
        "model": lm.name,
        "method": e.method,
        "layer": e.layer,
        "target": e.target,
        "label": e.label,
        "prob": round(e.prob, 6),
        "map_shape": list(e.map.shape),
        "seconds": round(e.seconds, 4),
        "out": args.out,
        "npy": args.npy,
    }
    if args.json:
        print_json(summary)
        return 0
    where = f" at {e.layer}" if method.kind == "cam" else ""
    print(
        f"{method.title}{where} for {e.label} ({e.target}, p={e.prob:.2%}): "
        f"map {e.map.shape[0]}×{e.map.shape[1]} in {e.seconds * 1000:.0f} ms"
    )
    for path in (args.out, args.npy):
        if path:
            print(f"wrote {path}")
    return 0
