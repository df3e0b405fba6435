"""Issue 10: a model saved in one browser is private unless shared; another browser's
picker does not list it, and a link naming it falls back to the default model."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from cnnviz.lessons.links import PRIVATE_LINK
from cnnviz.models.small_cnn import build_model, preset
from cnnviz.models.usermodels import user_models_dir
from cnnviz.training import results

ROOT = Path(__file__).resolve().parents[2]
ALICE, BOB = "a1" * 16, "b2" * 16


@pytest.fixture(scope="module")
def alices_models():
    torch.manual_seed(0)
    model = build_model(preset("tinyvgg"), in_channels=1, num_classes=2, size=28)
    meta = {
        "title": "Alice's cats",
        "arch": preset("tinyvgg"),
        "classes": ["cat", "dog"],
        "preprocess": {"size": 28, "resize": 28, "mean": [0.5], "std": [0.5], "channels": 1, "invert": False},
    }
    made = []
    for name, shared in (("alice_private", False), ("alice_shared", True)):
        made.append(results.save_model(model, {**meta, "name": name}, owner=ALICE, shared=shared))
    yield
    for p in made:
        p.unlink(missing_ok=True)
        p.with_suffix(".json").unlink(missing_ok=True)
    assert user_models_dir().is_dir()


def _app(token: str, **state) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["owner_token"] = token
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def test_owner_sees_both_others_only_the_shared_one(alices_models):
    alice = _app(ALICE).selectbox(key="model_name")
    bob = _app(BOB).selectbox(key="model_name")
    a_opts, b_opts = alice.options, bob.options
    assert "Alice's cats (yours)" in a_opts and "Alice's cats (yours, shared)" in a_opts
    assert "Alice's cats (shared)" in b_opts and "Alice's cats (yours)" not in b_opts
    assert sum("Alice's cats" in o for o in b_opts) == 1  # the private one is not listed


def test_a_link_to_a_private_model_falls_back_for_others(alices_models):
    at = _app(BOB, model_name="alice_private")
    assert at.session_state["model_name"] == "efficientnet_lite0"
    at = _app(ALICE, model_name="alice_private")
    assert at.session_state["model_name"] == "alice_private"


@pytest.mark.parametrize("name", ["alice_private", "nobody_has_this"])
def test_a_feature_maps_link_to_a_private_or_unknown_model_says_so_in_one_sentence(alices_models, name):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["owner_token"] = BOB
    at.run()
    at.switch_page("pages/features.py")
    at.query_params.update(model=name, layer="features.0.act", channel="3")
    at.run()
    assert not at.exception, at.exception
    assert at.session_state["model_name"] == "efficientnet_lite0"
    # one sentence: private or unknown alike (no existence oracle), the fallback named, and the
    # layer the fallback lacks dropped in the same sentence, not "does not exist for this model"
    assert [w.value for w in at.warning] == [
        f"{PRIVATE_LINK} (`{name}`), so EfficientNet-Lite0 (ImageNet) is shown instead, without the link's layer "
        "`features.0.act`, which it does not have."
    ]
    assert at.session_state["feat_channel"] == 3  # the rest of the view stays where it can
