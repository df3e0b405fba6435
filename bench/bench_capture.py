"""Capture every map layer in one pass vs a plain forward; numpy grid vs matplotlib subplots."""

from __future__ import annotations

import statistics

import numpy as np
import torch

from bench import Row, interleaved, ms, paired, ratios, spread, target


def _capture_rows() -> list[Row]:
    """Pages capture the layer they show, on demand (``capture_layers`` with one layer stops
    the forward after it); the worst case is the deepest map layer, which runs the whole
    network: that row has the target. Every layer at once (only "global" normalisation
    needs it) is reported."""
    from cnnviz.inside.capture import capture_layers, captured_bytes
    from cnnviz.inside.catalogue import catalogue, map_layers
    from cnnviz.models.zoo import load_model

    limit = target("capture", 1.15)
    rows = []
    for name, weights in (("efficientnet_lite0", "pretrained"), ("resnet18", "random")):
        lm = load_model(name, weights, device="cpu")
        layers = map_layers(catalogue(lm))
        x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
        capture_layers(lm, x, layers)  # the model's first capture learns its in-place writes
        deepest, middle = [layers[-1]], [layers[len(layers) // 2]]

        def plain(lm=lm, x=x):
            with lm.use() as model, torch.inference_mode():
                model(x)

        med, times = paired(
            {
                "plain": plain,
                "deepest": lambda lm=lm, x=x, la=deepest: capture_layers(lm, x, la),
                "middle": lambda lm=lm, x=x, la=middle: capture_layers(lm, x, la),
                "all": lambda lm=lm, x=x, la=layers: capture_layers(lm, x, la),
            },
            repeat=REPEAT,
        )
        mb = captured_bytes(capture_layers(lm, x, layers)) / 2**20
        deep = ratios(times, "deepest", "plain")
        rows.append(
            Row(
                f"capture the page's layer, deepest ({deepest[0].name}), {name}: ratio median [min–max]",
                ms(med["deepest"]),
                f"forward {ms(med['plain'])}",
                statistics.median(deep),
                f"≤ {limit:.2f}x ({spread(deep)})",
                statistics.median(deep) <= limit,
            )
        )
        mid = ratios(times, "middle", "plain")
        rows.append(
            Row(
                f"capture the page's layer, middle ({middle[0].name}), {name}",
                ms(med["middle"]),
                f"forward {ms(med['plain'])}",
                statistics.median(mid),
                f"report ({spread(mid)})",
                True,
            )
        )
        every = ratios(times, "all", "plain")
        rows.append(
            Row(
                f"capture all {len(layers)} map layers ({mb:.0f} MB; global range only), {name}",
                ms(med["all"]),
                f"forward {ms(med['plain'])}",
                statistics.median(every),
                f"report ({spread(every)})",
                True,
            )
        )
    return rows


def _subplots_grid(maps: np.ndarray) -> bytes:
    """The slow way a notebook does it: one matplotlib axes per channel."""
    import io

    from matplotlib.figure import Figure

    n = maps.shape[0]
    cols = int(np.ceil(np.sqrt(n)))
    fig = Figure(figsize=(cols, cols))
    for i in range(n):
        ax = fig.add_subplot(cols, cols, i + 1)
        ax.imshow(maps[i], cmap="viridis")
        ax.axis("off")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _grid_rows() -> list[Row]:
    from cnnviz import render
    from cnnviz.inside import featuremaps

    rows = []
    rng = np.random.default_rng(0)
    for shape in ((64, 56, 56), (512, 7, 7)):
        maps = rng.random(shape, dtype=np.float32)

        def ours(maps=maps):
            return render.to_png(featuremaps.feature_grid(maps, norm="channel").rgb)

        t = interleaved({"ours": ours, "subplots": lambda maps=maps: _subplots_grid(maps)}, repeat=3, warmup=1)
        ratio = t["subplots"] / t["ours"]
        rows.append(
            Row(
                f"grid {'×'.join(map(str, shape))}: numpy vs subplots",
                ms(t["ours"]),
                f"subplots {ms(t['subplots'])}",
                ratio,
                "≥ 15x",
                ratio >= 15,
            )
        )
    return rows


# Enough rounds that a second process on the machine for part of the run does not decide
# the median; one torch thread, as bench_gradcam (two-thread ops wait for their slower half).
REPEAT = 41


def run() -> list[Row]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _capture_rows() + _grid_rows()
    finally:
        torch.set_num_threads(threads)
