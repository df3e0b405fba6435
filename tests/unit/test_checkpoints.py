"""Checkpoints are data, never code: pickles that run code are refused unrun."""

from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest
import torch
from torch import nn

from cnnviz.errors import CheckpointError
from cnnviz.inputs.checkpoints import apply_state_dict, load_state_dict_file
from cnnviz.models import usermodels, zoo


class _Boom:
    """Unpickling this would create a file: proof that code ran."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _evil_files(tmp_path: Path) -> list[tuple[Path, Path]]:
    out = []
    for i, wrap in enumerate(
        [lambda b: b, lambda b: {"state_dict": b}, lambda b: {"conv.weight": torch.ones(1), "x": b}]
    ):
        marker = tmp_path / f"pwned{i}"
        f = tmp_path / f"evil{i}.pt"
        torch.save(wrap(_Boom(str(marker))), f)  # torch.save pickles the object
        out.append((f, marker))
    raw = tmp_path / "evil_raw.pth"
    marker = tmp_path / "pwned_raw"
    raw.write_bytes(pickle.dumps(_Boom(str(marker))))  # a legacy, non-zip pickle
    out.append((raw, marker))
    return out


def test_pickle_that_runs_code_is_refused_and_runs_nothing(tmp_path):
    for f, marker in _evil_files(tmp_path):
        with pytest.raises(CheckpointError) as e:
            load_state_dict_file(f)
        assert not marker.exists(), f"{f.name} ran code"
        assert "\n" not in str(e.value)


def test_cli_refuses_evil_checkpoint(tmp_path, hopper_path):
    from cnnviz.cli import main

    f, marker = _evil_files(tmp_path)[0]
    assert main(["predict", str(hopper_path), "--model", "squeezenet1_1", "--weights", str(f)]) == 2
    assert not marker.exists()


def test_state_dict_roundtrip_pt_and_safetensors(tmp_path):
    ref = zoo.load_model("squeezenet1_1", "random", device="cpu")
    sd = {k: v + 1 if v.is_floating_point() else v for k, v in ref.model.state_dict().items()}
    torch.save({"state_dict": {f"module.{k}": v for k, v in sd.items()}}, tmp_path / "w.pt")
    from safetensors.torch import save_file

    save_file(sd, str(tmp_path / "w.safetensors"))
    for name in ["w.pt", "w.safetensors"]:
        lm = zoo.load_model("squeezenet1_1", str(tmp_path / name), device="cpu")
        for k, v in lm.model.state_dict().items():
            assert torch.equal(v, sd[k]), (name, k)


def test_mismatched_checkpoint_says_what_is_wrong(tmp_path):
    sd = zoo.load_model("squeezenet1_1", "random", device="cpu").model.state_dict()
    torch.save(sd, tmp_path / "sq.pt")
    with pytest.raises(CheckpointError) as e:
        zoo.load_model("resnet18", str(tmp_path / "sq.pt"))
    msg = str(e.value)
    assert "does not fit" in msg and "missing" in msg and "unexpected" in msg

    model = nn.Sequential(nn.Conv2d(3, 4, 3))
    with pytest.raises(CheckpointError, match="wrong shape"):
        apply_state_dict(model, {"0.weight": torch.zeros(4, 3, 5, 5), "0.bias": torch.zeros(4)})


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all", b"PK\x03\x04garbage"])
def test_garbage_files_are_checkpoint_errors(tmp_path, content):
    for suffix in [".pt", ".safetensors"]:
        f = tmp_path / f"bad{suffix}"
        f.write_bytes(content)
        with pytest.raises(CheckpointError):
            load_state_dict_file(f)


def test_non_tensor_contents_are_refused(tmp_path):
    torch.save({"epoch": 3, "lr": 0.1}, tmp_path / "meta.pt")
    with pytest.raises(CheckpointError, match="state dict"):
        load_state_dict_file(tmp_path / "meta.pt")
    with pytest.raises(CheckpointError, match="No checkpoint"):
        load_state_dict_file(tmp_path / "missing.pt")


def test_save_writes_both_files_atomically(tmp_path):
    model = nn.Sequential(nn.Conv2d(1, 2, 3))
    path = usermodels.save(model, {}, tmp_path / "m")
    assert path == tmp_path / "m.safetensors" and (tmp_path / "m.json").exists()
    assert json.loads((tmp_path / "m.json").read_text()) == {"format": "cnnviz-model/1", "name": "m"}
    assert not list(tmp_path.glob("*.tmp"))
    loaded = load_state_dict_file(path)
    assert torch.equal(loaded["0.weight"], model.state_dict()["0.weight"])
