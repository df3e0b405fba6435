"""Shared results live in the project's caches: Streamlit's clear_cache (any client can send
it) leaves them in place, and a model saved again under its name is a new cache key."""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

from cnnviz.serving import cache
from cnnviz.ui import loaders

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def home_text(at: AppTest) -> str:
    return "\n".join(e.value for kind in (at.markdown, at.caption) for e in kind)


def _computes() -> dict[str, int]:
    return {c.name: c.stats.computes for c in cache.ALL}


def test_streamlit_clear_cache_leaves_the_shared_results():
    at = AppTest.from_file(APP, default_timeout=180)
    at.run()
    assert not at.exception and "forward pass" in home_text(at)
    model_key = ("model", "efficientnet_lite0", "pretrained", "")
    assert model_key in cache.MODELS
    kept = {c.name: set(c) for c in cache.ALL}
    assert any(k[1] == "_prediction" for k in kept["results"])
    lm = cache.MODELS.get(model_key)
    before = _computes()

    # what Streamlit runs for a client's clear_cache message
    st.cache_data.clear()
    st.cache_resource.clear()
    at.run()

    assert not at.exception
    assert "forward pass" in home_text(at)
    assert _computes() == before  # nothing was loaded or computed again
    assert cache.MODELS.get(model_key) is lm
    assert {c.name: set(c) for c in cache.ALL} == kept


def test_the_model_version_follows_the_saved_files():
    folder = loaders.user_models_dir()
    meta, tensors = folder / "same_name.json", folder / "same_name.safetensors"
    assert loaders.model_version("efficientnet_lite0", "pretrained") == ""
    meta.write_text('{"format": "cnnviz-model/1"}')
    tensors.write_bytes(b"first weights")
    try:
        first = loaders.model_version("same_name", "pretrained")
        assert first
        tensors.write_bytes(b"other weights, saved over the first")
        os.utime(tensors, ns=(1, 1))  # even with an old time stamp: the size changed
        second = loaders.model_version("same_name", "pretrained")
        assert second and second != first
    finally:
        meta.unlink()
        tensors.unlink()


def test_a_model_saved_again_under_its_name_is_not_served_from_the_cache():
    # Issue: after a model was overwritten, Predict showed the old model's answer (its cache
    # key was the name). The key holds a digest of the saved files now.
    import torch

    from cnnviz.models import small_cnn, usermodels

    arch = {"kind": "tinyvgg"}
    classes = ["alpha", "bravo", "charlie", "delta"]
    meta = {
        "title": "Saved twice",
        "arch": arch,
        "classes": classes,
        "preprocess": {"size": 28, "resize": 28, "mean": [0.5], "std": [0.5], "channels": 1},
        "dataset": "test",
    }

    def save(winner: int) -> None:
        model = small_cnn.build_model(arch, in_channels=1, num_classes=len(classes), size=28)
        with torch.no_grad():  # a constant answer: only the output bias speaks
            model.classifier.fc.weight.zero_()
            model.classifier.fc.bias.zero_()
            model.classifier.fc.bias[winner] = 5.0
        usermodels.save(model, meta, loaders.user_models_dir() / "saved_twice")

    def headline(at: AppTest) -> str:
        return at.header[0].value  # the prediction, under the title

    save(1)
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["model_name"] = "saved_twice"
    at.run()
    assert not at.exception and headline(at).startswith("bravo"), headline(at)
    save(3)
    at.run()
    assert not at.exception and headline(at).startswith("delta"), headline(at)


def test_a_model_bigger_than_the_model_cache_gets_a_sentence_not_a_load(monkeypatch):
    """Issue 23: VGG-16 did not fit the model cache with its copies and was loaded again on
    every page view. A model that could not stay is refused before it loads, in one sentence."""
    # a fresh, small model cache: ResNet-18 with its copies (~130 MB) cannot stay in it, and no
    # earlier test's ResNet-18 is already there to be served without a load
    monkeypatch.setattr(cache, "MODELS", cache.SharedCache("models", 100 << 20))
    at = AppTest.from_file(APP, default_timeout=180)
    at.session_state["weights_choice"] = "random"
    at.session_state["model_name"] = "resnet18"
    at.run()
    assert not at.exception
    said = [e.value for e in at.error]
    assert any("ResNet-18 (ImageNet) needs about 130 MB" in e and "CNNVIZ_MODEL_CACHE_MB" in e for e in said), said
    assert not any(k[1] == "resnet18" for k in cache.MODELS)
