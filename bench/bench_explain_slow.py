"""The Compare-methods page's slow steps for one user: Integrated Gradients, Occlusion and the
deletion/insertion curves on EfficientNet-Lite0 (224², the gallery's Grace Hopper).

Each step is timed with today's defaults and reported twice: against the target of 5 s on
2 cores (with its cost in single-picture forwards, the floor measured in the same rounds, so
a loaded machine shows up as a slow floor), and against the settings used before (a 9×9
occlusion grid, 16-step curves one map at a time). Integrated Gradients now refines its path
until its sum is within 5 % of the score's change (cnnviz/explain/path.py); its peer is
captum's fixed Gauss-Legendre rule at 128 points, the fewest of 32/64/128 that were within
5 % on this photo (32: −28 %, 64: +6.5 %). Floor, new and old run interleaved, round by
round, so that machine noise hits all of them alike.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch
from captum.attr import IntegratedGradients, Occlusion

from bench import Row, ms

TARGET_S = 5.0


def _rounds(fns: dict[str, Callable[[], object]], rounds: int) -> dict[str, float]:
    """Median seconds of each function over ``rounds`` rounds, one call of each per round."""
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def run() -> list[Row]:
    threads = torch.get_num_threads()
    torch.set_num_threads(2)  # one user on 2 cores
    try:
        return _run()
    finally:
        torch.set_num_threads(threads)


def _run() -> list[Row]:
    from cnnviz import explain as E
    from cnnviz.explain import faithfulness as FA
    from cnnviz.inputs.images import load_sample
    from cnnviz.models.zoo import load_model

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
    steps = {
        "Integrated Gradients": (
            lambda: E.explain(lm, x, "ig", target=target),
            lambda: IntegratedGradients(lm.model).attribute(
                x.clone(),
                baselines=E.black_input(lm.preprocess_spec, x),
                target=target,
                n_steps=128,
                internal_batch_size=E.IG_BATCH,
            ),
        ),
        "Occlusion": (lambda: E.explain(lm, x, "occlusion", target=target), old_occlusion),
        f"deletion/insertion, {len(maps)} maps + random": (lambda: FA.compare(lm, x, maps, target), old_curves),
    }
    rows = []
    for name, (new, old) in steps.items():
        t = _rounds({"floor": floor, "new": new, "old": old}, rounds=3)
        f, t_new, t_old = t["floor"], t["new"], t["old"]
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
