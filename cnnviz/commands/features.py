"""`features IMAGE --layer L`: one layer's feature maps for an image, as a grid and/or raw array."""

from cnnviz.cli import add_model_args, load_from_args, read_image, write_npy, write_output
from cnnviz.errors import CnnvizError


def register(sub) -> None:
    """Add the ``features`` command to the CLI: one layer's feature maps for an image."""
    p = sub.add_parser("features", help="one layer's feature maps for an image")
    p.add_argument("image", help="image file (JPEG, PNG, GIF, BMP, WEBP, TIFF)")
    add_model_args(p, required=True)
    p.add_argument("--layer", required=True, help="layer name, as `layers` lists it (e.g. layer1.0.relu#2)")
    p.add_argument("--out", help="save the grid of all channels as PNG")
    p.add_argument("--npy", help="save the layer's raw output (C, H, W) float32")
    p.add_argument("--save-input", help="save the exact input tensor the model was fed (1, C, H, W) float32")
    p.add_argument("--sort", choices=("channel", "mean", "max"), default="channel", help="grid order")
    p.add_argument("--norm", choices=("channel", "layer"), default="channel", help="grid normalisation")
    p.set_defaults(func=run)


def run(args) -> int:
    """Capture the layer's feature maps and save them as a grid PNG and/or raw .npy."""
    from cnnviz import render
    from cnnviz.inside import featuremaps
    from cnnviz.inside.capture import capture_layers
    from cnnviz.inside.catalogue import catalogue, find_layer

    img = read_image(args.image)
    lm = load_from_args(args)
    layer = find_layer(catalogue(lm), args.layer)
    x = lm.preprocess(img)
    maps = capture_layers(lm, x, [layer])[layer.name]
    if args.npy:
        write_npy(args.npy, maps)
    if args.save_input:
        write_npy(args.save_input, x.cpu().numpy())
    if args.out:
        if maps.ndim != 3:
            raise CnnvizError(f"{layer.name} outputs a flat vector {maps.shape}, not maps: use --npy.")
        grid = featuremaps.feature_grid(maps, sort=args.sort, norm=args.norm)
        write_output(args.out, render.to_png(grid.rgb))
    print(
        f"{layer.name}: {layer.type} {'×'.join(map(str, maps.shape))}, min {maps.min():.4g}, "
        f"max {maps.max():.4g}, mean {maps.mean():.4g}"
    )
    return 0
