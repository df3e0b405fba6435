"""The Channel page through AppTest: a link's layer/channel, the feature visualisation and
top images computed in the background, the weights; a zoo model and a 1-channel user model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from streamlit.testing.v1 import AppTest

from cnnviz.channels import examples, featvis
from cnnviz.inputs.images import load_sample
from cnnviz.inside.capture import hooked_outputs
from cnnviz.inside.catalogue import catalogue, find_layer
from cnnviz.models.zoo import load_model
from cnnviz.serving import jobs, memguard, reclaim
from testing.helpers import run, save_digits_model

APP = str(Path(__file__).resolve().parents[2] / "app.py")
PAGE = "pages/channel.py"
MB = 1 << 20


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def texts(at: AppTest) -> str:
    return "\n".join(
        e.value for kind in (at.markdown, at.caption, at.header, at.subheader, at.title, at.text) for e in kind
    )


def open_page(model: str, layer: str, channel: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page(PAGE)
    at.query_params["layer"] = layer
    at.query_params["channel"] = channel
    return run(at, model)


def loaders_image(at: AppTest):
    """The session's photo: the gallery sample it names (the default is a gallery photo)."""
    return load_sample(at.session_state["gallery_choice"])


def finish(at: AppTest, kind: str, model: str) -> None:
    job = jobs.ENGINE.get(at.session_state["job_tab"], kind)
    assert job is not None
    assert job.join(timeout=240)
    assert job.snapshot().status == "done", job.snapshot().message
    run(at, model)


def test_zoo_model_link_featvis_examples_and_weights():
    at = open_page("tinyvgg_mnist", "features.2.act", "3")
    assert at.selectbox(key="ch_layer").value == "features.2.act"
    assert at.number_input(key="ch_channel").value == 3
    text = texts(at)
    assert "filter 3 of features.2.conv" in text  # deeper layer: per-input-channel norms
    assert "Not made yet" in text

    at.select_slider(key="ch_steps").set_value(32)
    run(at, "tinyvgg_mnist")
    at.button(key="ch_featvis_start").click()
    run(at, "tinyvgg_mnist")
    finish(at, "featvis", "tinyvgg_mnist")
    lm = load_model("tinyvgg_mnist", device="cpu")
    res = featvis.cached(lm, featvis.Request("features.2.act", 3, 28, 32, 0))
    assert res is not None
    assert f"mean activation {res.activation:.3g}" in texts(at)

    at.button(key="ch_examples_start").click()
    run(at, "tinyvgg_mnist")
    finish(at, "examples", "tinyvgg_mnist")
    layer = find_layer(catalogue(lm), "features.2.act")
    parts = [examples.parse(s) for s in examples.default_parts(lm)]
    assert [p.key for p in parts] == ["mnist5k", "fashion2k"]  # Debian's Fashion-MNIST is installed here
    best = examples.top_k(parts, [examples.score_part(lm, p, [layer]) for p in parts], layer, 3, 28, 9)
    shown = [t.value for t in at.text]
    assert shown[:9] == [f"{e.score:.3g}\nmean {e.mean:.2g}\n{e.source}" for e in best]
    assert "Best of 7000 images from 7000 photos, one crop per photo" in texts(at)

    # another channel of the same layer: its top images are there at once (one pass for all)
    at.number_input(key="ch_channel").set_value(5)
    run(at, "tinyvgg_mnist")
    assert len([t for t in at.text if t.value.endswith(("mnist5k", "fashion2k"))]) == 9
    assert at.query_params["channel"] == ["5"] or at.query_params["channel"] == "5"


def test_bad_links_get_a_warning():
    at = open_page("tinyvgg_mnist", "nope", "999")
    warnings = " ".join(w.value for w in at.warning)
    assert "layer `nope` does not exist" in warnings and "channel `999` does not exist" in warnings
    # the channel falls back to the one most active on the photo (the default layer's)
    lm = load_model("tinyvgg_mnist", device="cpu")
    layer = at.selectbox(key="ch_layer").value
    x = lm.preprocess(loaders_image(at))
    with lm.use() as model, torch.inference_mode(), hooked_outputs(model, [layer]) as store:
        model(x)
    means = store[layer][0].double().mean(dim=(1, 2))
    assert at.number_input(key="ch_channel").value == int(means.argmax()) and means.max() > 0


def test_one_channel_user_model_first_layer_filter_and_featvis(_isolated_user_models):
    _, model = save_digits_model(
        _isolated_user_models, "chan1", "Digits, one channel (test)", batchnorm=True, dataset="mnist5k"
    )
    at = open_page("chan1", "features.0.act", "1")
    assert at.selectbox(key="ch_layer").value == "features.0.act"
    text = texts(at)
    assert "The 3×3 filter 1 of features.0.conv" in text
    at.select_slider(key="ch_steps").set_value(32)
    run(at, "chan1")
    at.button(key="ch_featvis_start").click()
    run(at, "chan1")
    finish(at, "featvis", "chan1")
    assert "28×28 px, 32 steps · mean activation" in texts(at)
    w = model.state_dict()["features.0.conv.weight"][1].numpy()
    assert np.isfinite(w).all()


@pytest.mark.parametrize("page", ["pages/network.py", "pages/features.py"])
def test_network_and_feature_maps_offer_the_channel_page(page):
    # AppTest 1.67 runs a switched-to page without app.py, so the click itself is exercised
    # in Chromium (tests/browser/test_channel_browser.py); here: the button is there.
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page(page)
    at.query_params["layer"] = "features.2.conv"
    at.query_params["channel"] = "5"
    run(at, "tinyvgg_mnist")
    assert "look for?" in at.button(key="ch_open").label


def test_a_featvis_the_memory_guard_refuses_shows_its_sentence(monkeypatch):
    """Issue 23: with other work in flight leaving no room, the queued feature visualisation
    is refused by the guard, and the page shows the guard's sentence in the job's view (an
    error box, no traceback); before, it ran past the budget."""
    at = open_page("tinyvgg_mnist", "features.2.act", "4")
    at.select_slider(key="ch_steps").set_value(32)
    run(at, "tinyvgg_mnist")
    reclaim.sweep(min_interval_s=0)  # the guard's own sweep before refusing then finds little
    monkeypatch.setenv("CNNVIZ_MEMORY_BUDGET_MB", str((memguard.rss_bytes() >> 20) + 411))
    with memguard.reserve(400 * MB, "a training"):  # 10 MB left: under any job's estimate
        at.button(key="ch_featvis_start").click()
        at.session_state["model_name"] = "tinyvgg_mnist"
        at.run()
        job = jobs.ENGINE.get(at.session_state["job_tab"], "featvis")
        assert job is not None and job.join(timeout=120)
    at.session_state["model_name"] = "tinyvgg_mnist"
    at.run()
    assert not at.exception, at.exception
    said = [e.value for e in at.error]
    assert len(said) == 1 and said[0].startswith("The server is busy (memory "), said
    assert "so this feature visualisation cannot start right now; try again in a minute." in said[0]
