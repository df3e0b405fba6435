"""The Compare-methods page's slow steps for one user: Integrated Gradients, Occlusion and the
deletion/insertion curves on EfficientNet-Lite0 (224², the gallery's Grace Hopper).

Each step is timed with today's defaults and reported twice: against the target of 5 s on
2 cores (with its cost in single-picture forwards, the floor measured in the same run, so a
loaded machine shows up as a slow floor), and against the settings used before (IG 24 steps
in batches of 16, a 9×9 occlusion grid, 16-step curves one map at a time) run right after.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch
from captum.attr import Occlusion

from bench import Row, ms

TARGET_S = 5.0


def _seconds(fn: Callable[[], object], repeat: int = 2) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def run() -> list[Row]:
    from cnnviz import explain as E
    from cnnviz import faithfulness as FA
    from cnnviz.images import load_sample
    from cnnviz.zoo import load_model

    lm = load_model("efficientnet_lite0", "pretrained", device="cpu")
    x = lm.preprocess(load_sample("grace_hopper"))
    target = E.explain(lm, x, "gradcam").target
    maps = {m: E.explain(lm, x, m, target=target).map for m in E.METHODS}  # the page's six maps

    def floor():
        with lm.use() as model, torch.inference_mode():
            model(x)

    def old_occlusion():
        with lm.use() as model:
            Occlusion(model).attribute(
                x.clone(), sliding_window_shapes=(3, 44, 44), strides=(3, 22, 22), baselines=0.0, target=target,
                perturbations_per_eval=32,
            )  # fmt: skip

    def old_curves():
        all_maps = {**maps, "random": FA.random_importance((224, 224))}
        for m in all_maps.values():
            FA.curves(lm, x, m, target, steps=16)

    floor()
    f = _seconds(floor, repeat=9)
    steps = {
        "Integrated Gradients": (
            lambda: E.explain(lm, x, "ig", target=target),
            lambda: E.explain(lm, x, "ig", target=target, ig_steps=24),
        ),
        "Occlusion": (lambda: E.explain(lm, x, "occlusion", target=target), old_occlusion),
        f"deletion/insertion, {len(maps)} maps + random": (lambda: FA.compare(lm, x, maps, target), old_curves),
    }
    rows = []
    for name, (new, old) in steps.items():
        t_new, t_old = _seconds(new), _seconds(old, repeat=1)
        rows.append(
            Row(
                f"{name}, efficientnet_lite0",
                f"{t_new:.2f} s",
                f"forward {ms(f)} ({t_new / f:.0f} forwards)",
                t_new / TARGET_S,
                f"≤ 1 (≤ {TARGET_S:g} s)",
                t_new <= TARGET_S,
            )
        )
        rows.append(
            Row(
                f"{name} vs the old settings",
                f"{t_new:.2f} s",
                f"{t_old:.2f} s",
                t_old / t_new,
                "≥ 1.3 (×faster)",
                t_old / t_new >= 1.3,
            )  # fmt: skip
        )
    return rows
