"""`explain` and `adversarial` on the command line."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from cnnviz.cli import main
from cnnviz.explain import explain
from cnnviz.inputs.images import decode_image
from testing.helpers import fgsm_by_hand


def test_explain_writes_raw_map_and_png(tmp_path, hopper_path, hopper_bytes, effnet, capsys):
    npy, png = tmp_path / "m.npy", tmp_path / "o.png"
    assert (
        main(
            [
                "explain",
                str(hopper_path),
                "--method",
                "gradcampp",
                "--target",
                "281",
                "--npy",
                str(npy),
                "--out",
                str(png),
                "--json",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["target"] == 281 and out["layer"] == "head.act" and out["map_shape"] == [7, 7]
    ref = explain(effnet, effnet.preprocess(decode_image(hopper_bytes)), "gradcampp", target=281)
    np.testing.assert_allclose(np.load(npy), ref.map, atol=1e-6)  # raw: after the ReLU, not normalised
    assert Image.open(png).size == (224, 224)


def test_explain_pixel_method_is_input_resolution(tmp_path, hopper_path):
    npy = tmp_path / "s.npy"
    assert main(["explain", str(hopper_path), "--method", "saliency", "--npy", str(npy)]) == 0
    assert np.load(npy).shape == (224, 224)


@pytest.mark.parametrize("eps", [0.5 / 255, 2 / 255])
def test_adversarial_json_matches_fgsm_by_hand(hopper_path, hopper_bytes, effnet, capsys, eps):
    """The CLI's before/after top-1 and its "fooled" are what FGSM written out in plain torch
    gives on the same picture (whether or not this ε flips it)."""
    assert main(["adversarial", str(hopper_path), "--eps", str(eps), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    spec = effnet.preprocess_spec
    with effnet.use() as model:
        before, after, _, _ = fgsm_by_hand(model, spec.crop(decode_image(hopper_bytes)), spec.mean, spec.std, eps)
    assert out["attacked_class"] == out["before"][0]["index"] == before
    assert out["after"][0]["index"] == after
    assert out["fooled"] is (after != before)
    assert len(out["after"]) == 5


def test_bad_arguments_exit_2_with_one_line(hopper_path, capsys):
    assert main(["explain", str(hopper_path), "--layer", "classifier"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "no rows and columns" in err
    assert main(["explain", str(hopper_path), "--target", "1000"]) == 2
    assert "classes 0 to 999" in capsys.readouterr().err
    assert main(["adversarial", str(hopper_path), "--eps", "3"]) == 2


def test_method_choices_are_the_registry(hopper_path, capsys, monkeypatch):
    from cnnviz import explain as E
    from cnnviz.explain.cam import CamMethod

    # a method registered anywhere is a --method choice, with no list to keep in step
    @E.register
    class PlainCAM(CamMethod):
        name = "plaincam"
        title = "Plain CAM"
        about = "Every channel counts once."

        def weights(self, acts, grads):
            return grads.new_ones(grads.shape[:2] + (1, 1))

    try:
        with pytest.raises(SystemExit) as done:  # argparse's --help exits
            main(["explain", "--help"])
        assert done.value.code == 0
        help_text = " ".join(capsys.readouterr().out.split())
        assert all(name in help_text for name in E.METHODS)
        npy = hopper_path.parent / "plain.npy"
        assert main(["explain", str(hopper_path), "--method", "plaincam", "--npy", str(npy)]) == 0
        assert np.load(npy).shape == (7, 7)
    finally:
        del E.METHODS["plaincam"]
    assert main(["explain", str(hopper_path), "--method", "plaincam"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid choice" in err and "gradcam" in err
