"""ZF-mini's pieces: the architecture, its weight-file errors, the distillation steps
(the shipped weights: test_zfmini_shipped.py)."""

from __future__ import annotations

import pytest
import torch

from cnnviz.errors import CheckpointError, WeightsUnavailable
from cnnviz.inside.filter_spectrum import orientation_selectivity
from cnnviz.models import classic_cnn as zf
from cnnviz.training import distil


def test_architecture_shapes_and_size():
    model = zf.build_zfmini().eval()
    assert model.features.conv1.weight.shape == (zf.CONV1_CHANNELS, 3, 7, 7)
    n = sum(p.numel() for p in model.parameters())
    assert 1_000_000 < n < 1_500_000  # about 2 MB as float16
    with torch.no_grad():
        assert model(torch.zeros(2, 3, zf.PREPROCESS["size"], zf.PREPROCESS["size"])).shape == (2, 1000)


def test_random_first_layer_is_not_oriented():
    """The control for the Gabor check: the initialisation is noise (0 of 64 filters oriented)."""
    torch.manual_seed(0)
    w = zf.build_zfmini().features.conv1.weight.detach().numpy()
    assert orientation_selectivity(w).fraction_oriented <= 0.1


def test_a_missing_or_broken_file_says_so(tmp_path):
    with pytest.raises(WeightsUnavailable):
        zf.load_pretrained_state_dict(tmp_path / "nope.safetensors")
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"not safetensors")
    with pytest.raises(CheckpointError):
        zf.load_pretrained_state_dict(bad)


def test_agreement_counts_by_hand():
    teacher = torch.tensor([[0.0, 5.0, 1.0, 0, 0, 0], [3.0, 0, 0, 0, 0, 0]])
    student = torch.tensor([[0.0, 4.0, 0, 0, 0, 0], [0.0, 1, 2, 3, 4, 5]])  # row 2: class 0 is 6th
    assert distil.agreement(student, teacher) == {"top1_agreement": 0.5, "teacher_top1_in_top5": 0.5}


def test_a_short_distillation_moves_the_student_towards_the_teacher(tmp_path):
    cfg = distil.DistilConfig(crops=48, holdout=16, epochs=3, batch_size=16, ica_patches=5000, freeze_epochs=1)
    gen = torch.Generator().manual_seed(1)
    # 32×32 crops: the net is convolutional up to a global pool, and small inputs keep this quick.
    small = torch.randint(0, 256, (48, 3, 32, 32), dtype=torch.uint8, generator=gen)
    logits = torch.zeros(48, 1000)
    logits[:, 7] = 8.0  # a teacher that always says class 7
    logs: list[str] = []
    model, metrics = distil.train(cfg, small, logits, log=logs.append)
    assert len(logs) == 3 and not model.training
    assert metrics["top1_agreement"] == 1.0  # learned on 32 crops, true on the 16 held out
    out = tmp_path / "zf.safetensors"
    distil.save(model, cfg, metrics, out)
    state = zf.load_pretrained_state_dict(out)  # float16 on disk, float32 back
    assert state["features.conv1.weight"].dtype == torch.float32
    fresh = zf.build_zfmini()
    fresh.load_state_dict(state)
    assert torch.allclose(fresh.features.conv1.weight, model.features.conv1.weight, atol=1e-3)


def test_the_first_layer_starts_as_ica_filters_and_stays_while_frozen():
    """conv1 is the ICA of the training crops' patches, at the default init's norm, untouched
    by the frozen epochs (the layers above learn; conv1's BatchNorm may)."""
    cfg = distil.DistilConfig(crops=40, holdout=8, epochs=2, batch_size=16, ica_patches=5000, freeze_epochs=2)
    gen = torch.Generator().manual_seed(2)
    small = torch.randint(0, 256, (40, 3, 32, 32), dtype=torch.uint8, generator=gen)
    logits = torch.randn(40, 1000, generator=gen)
    before = distil.ica_conv1(small[:32], torch.Size((64, 3, 7, 7)), cfg.ica_patches, cfg.seed)
    assert torch.allclose(before.flatten(1).norm(dim=1), torch.ones(64), atol=1e-5)
    model, _ = distil.train(cfg, small, logits, log=lambda _: None)
    assert torch.equal(model.features.conv1.weight, before * distil.CONV1_NORM)
    torch.manual_seed(cfg.seed)  # train()'s initialisation
    assert not torch.allclose(model.features.conv2.weight, zf.build_zfmini().features.conv2.weight, atol=1e-4)
