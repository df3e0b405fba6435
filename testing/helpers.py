"""Helpers shared by several test modules (test modules never import each other)."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF
from PIL import Image
from streamlit.testing.v1 import AppTest
from torch import nn

from cnnviz import compat
from cnnviz.models.loaded_model import LoadedModel, ModelInfo
from cnnviz.models.preprocess import Preprocess
from cnnviz.serving import jobs

APP = str(Path(__file__).resolve().parents[1] / "app.py")
MENU = Path(__file__).resolve().parents[1] / "cnnviz" / "ui" / "menu.py"  # the st.Page(...) calls app.py draws


# ------------------------------------------------------------------------------- models
def wrap(model: nn.Module, *, size: int, channels: int, classes: int, layer: str) -> LoadedModel:
    """A LoadedModel around a hand-made module, as zoo.load_model would leave it."""
    spec = Preprocess(size=size, resize=size, mean=(0.5,) * channels, std=(0.5,) * channels, channels=channels)
    info = ModelInfo(
        name="tiny",
        title="tiny",
        family="user",
        source="test",
        preprocess=spec,
        default_layer=layer,
        builder=lambda: model,
        pretrained=lambda d: {},
        classes=lambda: [f"c{i}" for i in range(classes)],
        available=lambda: True,
    )
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return LoadedModel(info, model, "random", torch.device("cpu"))


def hook_count(model: nn.Module) -> int:
    """Forward, forward-pre, backward and backward-pre hooks left on any module of ``model``."""
    return sum(compat.hook_count(m) for m in model.modules())


def fgsm_by_hand(
    model: nn.Module, picture: Image.Image, mean, std, eps: float
) -> tuple[int, int, torch.Tensor, torch.Tensor]:
    """FGSM written out with torch and torchvision alone, the reference for cnnviz.explain.adversarial.

    ``picture``: the cropped RGB picture the model sees. Returns (top-1 before, top-1 after,
    clean pixels, adversarial pixels), pixels (1, C, H, W) in 0..1."""
    clean = torch.from_numpy(np.asarray(picture, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]
    p = clean.clone().requires_grad_()
    logits = model(TF.normalize(p, list(mean), list(std)))
    before = int(logits[0].argmax())
    (grad,) = torch.autograd.grad(F.cross_entropy(logits, torch.tensor([before])), p)
    adv = (clean + eps * grad.sign()).clamp(0, 1)
    with torch.no_grad():
        after = int(model(TF.normalize(adv, list(mean), list(std)))[0].argmax())
    return before, after, clean, adv


def targeted_by_hand(
    model: nn.Module, clean: torch.Tensor, mean, std, eps: float, goal: int, steps: int
) -> torch.Tensor:
    """Targeted iterative FGSM written out in plain torch: steps of 2.5·ε/steps down the goal's
    cross-entropy, clipped to the ε-box and 0..1, stopping once the goal is the top-1."""
    adv = clean.clone()
    for _ in range(steps):
        x = adv.clone().requires_grad_()
        logits = model(TF.normalize(x, list(mean), list(std)))
        if int(logits[0].argmax()) == goal:
            break
        (g,) = torch.autograd.grad(F.cross_entropy(logits, torch.tensor([goal])), x)
        adv = (adv - 2.5 * eps / steps * g.sign()).clamp(clean - eps, clean + eps).clamp(0, 1)
    return adv


# ---------------------------------------------------------------------------------- app
def page_text(at: AppTest) -> str:
    """Every text element of the main area: markdown, captions, headers."""
    return "\n".join(e.value for kind in (at.markdown, at.caption, at.header, at.subheader, at.title) for e in kind)


def run(at: AppTest, model: str, weights: str = "pretrained") -> AppTest:
    """Run ``at`` with the sidebar's model and weights set; no exception, no error box.

    AppTest (1.67) drops the sidebar's widgets after a page switch: set the choice each run."""
    at.session_state["model_name"] = model
    at.session_state["weights_choice"] = weights
    at.run()
    assert not at.exception, f"{model}: {at.exception}"
    assert not at.error, f"{model}: {[e.value for e in at.error]}"
    return at


def make_app(**state) -> AppTest:
    """A fresh app with sidebar choices preset, after its first run.

    Sidebar widgets are set through session state before the first run: with
    st.navigation, AppTest (1.67) keeps the entry point's sidebar elements only in the
    first run's tree, so later runs cannot find them by key.
    """
    app = AppTest.from_file(APP, default_timeout=180)
    for k, v in state.items():
        app.session_state[k] = v
    app.run()
    assert not app.exception, app.exception
    return app


def nav_pages(url: bool = False) -> list[tuple[str, str]]:
    """(page file, English menu title) of every ``st.Page`` of the app's menu, in menu order (read with ast,
    so keyword order and line breaks do not matter); with ``url``, (URL path, menu title): "" for
    the default page."""
    import ast

    pages = []
    for node in ast.walk(ast.parse(MENU.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Page":
            kw = {
                k.arg: (k.value.args[0] if isinstance(k.value, ast.Call) else k.value).value  # title=_("...")
                for k in node.keywords
                if isinstance(k.value, ast.Constant)
                or (isinstance(k.value, ast.Call) and getattr(k.value.func, "id", None) == "_")
            }
            first = kw.get("url_path", "") if url else node.args[0].value
            pages.append((first, kw["title"], node.lineno))
    return [(path, title) for path, title, _ in sorted(pages, key=lambda p: p[2])]


def save_digits_model(
    folder, name: str, title: str, *, batchnorm: bool = False, invert: bool = False, **meta
) -> tuple[dict, nn.Module]:
    """A 1-channel 28×28 TinyVGG with random weights saved as a user model in ``folder``
    (safetensors + ``cnnviz-model/1`` JSON; ``meta`` adds fields such as ``dataset``): (arch, model)."""
    import json

    from safetensors.torch import save_file

    from cnnviz.models import small_cnn

    arch = small_cnn.preset("tinyvgg", batchnorm=batchnorm)
    model = small_cnn.build_model(arch, in_channels=1, num_classes=10, size=28, seed=0)
    folder = Path(folder)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, folder / f"{name}.safetensors")
    preprocess = {"size": 28, "resize": 28, "mean": [0.1307], "std": [0.3081], "channels": 1, "invert": invert}
    sidecar = {
        "format": "cnnviz-model/1",
        "name": name,
        "title": title,
        "arch": arch,
        "classes": [str(i) for i in range(10)],
        "preprocess": preprocess,
        "default_layer": small_cnn.default_layer(arch),
        **meta,
    }
    (folder / f"{name}.json").write_text(json.dumps(sidecar))
    return arch, model


# ------------------------------------------------------------------------------- the job queue
def finish_jobs(at: AppTest, timeout: float = 300) -> None:
    """Wait until every job the AppTest session's tab queued has ended (AppTest runs no
    fragment polls: the conftest's long heartbeat keeps the jobs alive meanwhile)."""
    if "job_tab" not in at.session_state:  # AppTest's session state has no .get
        return
    for job in jobs.ENGINE.of_tab(at.session_state["job_tab"]):
        assert job.join(timeout), f"the {job.key} job did not end"


def export_onnx(model: nn.Module, path: Path, *, size: int, channels: int = 3, meta: dict | None = None) -> Path:
    """``model`` exported to ONNX with the pinned torch's legacy exporter (opset 17, the one
    that works here: ../shared/RECIPES.md), ``meta`` written as ``metadata_props``."""
    with warnings.catch_warnings():  # the legacy exporter's deprecation notice
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model.eval(),
            torch.zeros(1, channels, size, size),
            str(path),
            dynamo=False,
            opset_version=17,
            input_names=["image"],
            output_names=["logits"],
        )
    if meta:
        proto = onnx.load(str(path))
        onnx.helper.set_model_props(proto, meta)
        onnx.save(proto, str(path))
    return path


def found_outside(allowed: Path, find: Callable[[str], list[str]]) -> dict[str, list[str]]:
    """What ``find`` reports in each module of cnnviz/ but ``allowed`` (the one module a rule
    lets do it): ``{"cnnviz/x.py": ["12: what", ...]}``, empty when the rule holds."""
    root = Path(__file__).resolve().parents[1] / "cnnviz"
    return {
        str(p.relative_to(root.parent)): hits
        for p in sorted(root.rglob("*.py"))
        if p.resolve() != allowed.resolve() and (hits := find(p.read_text(encoding="utf-8")))
    }
