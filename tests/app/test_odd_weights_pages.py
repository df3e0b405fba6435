"""Issue 10: a checkpoint full of NaN/Inf (or stored as int8) loads with a warning, and
every page still renders: no generic error box, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from streamlit.testing.v1 import AppTest

from cnnviz.models.zoo import SHIPPED_DIR
from testing.helpers import nav_pages

ROOT = Path(__file__).resolve().parents[2]
PAGES = [path for path, _ in nav_pages()]


@pytest.fixture(scope="module")
def nan_checkpoint(tmp_path_factory) -> Path:
    state = load_file(SHIPPED_DIR / "tinyvgg_mnist.safetensors")
    g = torch.Generator().manual_seed(0)
    for k, v in state.items():
        if v.is_floating_point():
            r = torch.rand(v.shape, generator=g)
            state[k] = v.masked_fill(r < 0.2, float("nan")).masked_fill(r > 0.9, float("inf"))
    f = tmp_path_factory.mktemp("nan") / "broken.pt"
    torch.save(state, f)
    return f


@pytest.mark.parametrize("page", PAGES)
def test_nan_weights_every_page_renders_with_a_warning(page, nan_checkpoint):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["model_name"] = "tinyvgg_mnist"
    at.session_state["weights_choice"] = "file"
    at.session_state["weights_path"] = str(nan_checkpoint)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, f"{page}: {at.exception}"
    assert not at.error, f"{page}: {[e.value for e in at.error]}"
    # The Train page trains its own model; Compare models has its own pickers (trained or random
    # only); the Lesson page shows no model.
    if page not in ("pages/train.py", "pages/compare_models.py", "pages/lesson.py"):
        assert any("NaN or infinite" in w.value for w in at.warning), page


def test_memory_guard_message_instead_of_a_crash(monkeypatch):
    from cnnviz.inputs.gallery import sample_bytes
    from cnnviz.serving import memguard

    # no room left, even after the guard's sweep: the decode's estimate (from the header) does not fit
    monkeypatch.setenv("CNNVIZ_MEMORY_BUDGET_MB", str(memguard.rss_bytes() >> 21))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["image_bytes"] = sample_bytes("coffee") + b"\0"  # new bytes: a decode is needed
    at.session_state["image_name"] = "coffee.png"
    at.run()
    assert not at.exception, at.exception
    assert any("server is busy" in e.value for e in at.error), [e.value for e in at.error]
