"""Grad-CAM cost (CPU time of one thread) vs its floor (one forward with gradients on) and vs pytorch-grad-cam.

Our Grad-CAM (parameters frozen) only back-propagates down to the layer, so it should cost
about one forward pass; it runs on a copy with BatchNorm folded into the convs and weights in
channels_last (cnnviz.models.fast_copy). pytorch-grad-cam runs a full backward through every
parameter, on its own copy of the model as built.
"""

from __future__ import annotations

import copy
import statistics
import time

import numpy as np
import torch

import bench
from bench import Row, ms, paired, ratios, spread


def _case(name: str, weights: str) -> list[Row]:
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    from cnnviz.explain import explain
    from cnnviz.inputs.images import load_sample
    from cnnviz.models.zoo import load_model
    from cnnviz.trace import resolve

    lm = load_model(name, weights, device="cpu")
    x = lm.preprocess(load_sample("grace_hopper"))
    layer = lm.info.default_layer
    target = explain(lm, x, "gradcam").target

    def ours():
        explain(lm, x, "gradcam", target=target)

    def floor():  # one forward with autograd recording: input requires grad, no backward
        with lm.use() as model, torch.enable_grad():
            model(x.clone().requires_grad_())

    # pytorch-grad-cam as it is normally used: its own copy of the model as built (default
    # memory format, BatchNorm unfolded), parameters requiring grad. Ours runs on the faster
    # copy LoadedModel keeps for Grad-CAM (cnnviz.models.fast_copy), which the peer never sees.
    with lm.use() as model:
        theirs = copy.deepcopy(model).eval()
    for p in theirs.parameters():
        p.requires_grad_(True)

    def peer():
        with GradCAM(theirs, target_layers=[resolve(theirs, layer)]) as cam:
            cam(input_tensor=x, targets=[ClassifierOutputTarget(target)])

    # Paired round by round (the order rotating): a second process slowing the machine for a
    # while slows both sides of a round, so it moves the ratios far less than the times.
    # CPU time of this thread (all three run on one torch thread): on a shared machine the
    # wall clock of one round ranged from 0.2x to 12x while CPU time stayed within a few per cent.
    t, times = paired({"ours": ours, "floor": floor, "peer": peer}, repeat=REPEAT, clock=time.thread_time)
    vs_floor, faster = ratios(times, "ours", "floor"), ratios(times, "peer", "ours")
    floor_limit, faster_goal = bench.target("gradcam_floor", 1.10), bench.target("gradcam_peer", 3.0)
    return [
        Row(
            f"gradcam {name} vs forward-with-grad",
            ms(t["ours"]),
            ms(t["floor"]),
            statistics.median(vs_floor),
            f"≤ {floor_limit:.2f} ({spread(vs_floor)})",
            statistics.median(vs_floor) <= floor_limit,
        ),
        Row(
            f"gradcam {name} vs pytorch-grad-cam (×faster; margin: lower quartile)",
            ms(t["ours"]),
            ms(t["peer"]),
            statistics.median(faster),
            f"≥ {faster_goal:.0f}, quartile ≥ {faster_goal:.0f} ({spread(faster)})",
            float(np.percentile(faster, 25)) >= faster_goal,
        ),
    ]


REPEAT = 41


def run() -> list[Row]:
    # One thread: on a shared 2-core machine a 2-thread op waits for its slower half, and
    # that wait (not the work) dominated the spread between runs. Same setting for all three.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _case("efficientnet_lite0", "pretrained") + _case("resnet18", "random")
    finally:
        torch.set_num_threads(threads)
