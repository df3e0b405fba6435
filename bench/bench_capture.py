"""Capture every map layer in one pass vs a plain forward; numpy grid vs matplotlib subplots."""

from __future__ import annotations

import numpy as np
import torch

from bench import Row, interleaved, ms


def _capture_rows() -> list[Row]:
    from cnnviz.capture import capture_layers, captured_bytes
    from cnnviz.catalogue import catalogue, map_layers
    from cnnviz.zoo import load_model

    rows = []
    for name, weights in (("efficientnet_lite0", "pretrained"), ("resnet18", "random")):
        lm = load_model(name, weights, device="cpu")
        layers = map_layers(catalogue(lm))
        x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))

        def plain(lm=lm, x=x):
            with lm.use() as model, torch.inference_mode():
                model(x)

        t = interleaved(
            {"plain": plain, "capture": lambda lm=lm, x=x, layers=layers: capture_layers(lm, x, layers)}, repeat=21
        )
        mb = captured_bytes(capture_layers(lm, x, layers)) / 2**20
        ratio = t["capture"] / t["plain"]
        rows.append(
            Row(
                f"capture {len(layers)} layers ({mb:.0f} MB), {name}",
                ms(t["capture"]),
                f"forward {ms(t['plain'])}",
                ratio,
                "≤ 1.15x",
                ratio <= 1.15,
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
    from cnnviz import featuremaps, render

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


def run() -> list[Row]:
    return _capture_rows() + _grid_rows()
