"""Training: architectures, datasets (and bad input), augmentation, the loop, save → load, CLI."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from torch import nn

from cnnviz.errors import DatasetError, ModelError
from cnnviz.inside.catalogue import catalogue_model
from cnnviz.models import small_cnn as arch
from cnnviz.training import class_folders, datasets, imageset, results
from cnnviz.training.augment import Augment
from cnnviz.training.fit import TrainConfig, build_and_fit, fit


def png(color=(255, 0, 0), size=(20, 20), mode="RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size, color).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="module")
def shapes_ds():
    return datasets.shapes(seed=1)  # 400 per class, 32×32


# ------------------------------------------------------------------------------- arch
def test_tinyvgg_names_shapes_and_params():
    m = arch.build_model(arch.preset("tinyvgg"), in_channels=1, num_classes=10, size=28)
    names = dict(m.named_modules())
    for n in ("features.0.conv", "features.0.act", "features.1.pool", "features.3.act", "classifier.fc"):
        assert n in names
    acts = [mod for n, mod in m.named_modules() if n.endswith(".act")]
    assert len(acts) == 4 and len({id(a) for a in acts}) == 4  # no module reused
    rows = {r.name: r for r in catalogue_model(m.eval(), (1, 1, 28, 28))}
    assert rows["features.1.pool"].out_shape == (8, 14, 14)
    assert rows["features.3.pool"].out_shape == (16, 7, 7)
    assert rows["classifier.fc"].out_shape == (10,)
    # by hand: convs 1→8, 8→8, 8→16, 16→16 (3×3 + bias), then 16·7·7 → 10
    expected = (9 * 1 * 8 + 8) + (9 * 8 * 8 + 8) + (9 * 8 * 16 + 16) + (9 * 16 * 16 + 16) + (16 * 49 * 10 + 10)
    assert arch.count_params(m) == expected == 12002
    assert arch.default_layer(arch.preset("tinyvgg")) == "features.3.act"


def test_lenet_and_builder_options():
    m = arch.build_model(arch.preset("lenet"), 1, 10, 28)
    rows = {r.name: r for r in catalogue_model(m.eval(), (1, 1, 28, 28))}
    assert rows["features.1.pool"].out_shape == (16, 7, 7)
    assert rows["classifier.fc1"].out_shape == (120,) and isinstance(m.classifier.act2, nn.Tanh)
    m = arch.build_model(
        arch.preset("tinyvgg", batchnorm=True, dropout=0.5, activation="sigmoid", pool="avg"), 3, 4, 32
    )
    assert isinstance(m.features[0].bn, nn.BatchNorm2d) and isinstance(m.features[1].pool, nn.AvgPool2d)
    assert m(torch.zeros(2, 3, 32, 32)).shape == (2, 4)


def test_too_many_pools_and_bad_arch_are_clear():
    with pytest.raises(ModelError, match="pooling"):
        arch.build_model(arch.preset("tinyvgg", channels=[4] * 12), 1, 10, 8)
    with pytest.raises(ModelError, match="activation"):
        arch.build_model(arch.preset("tinyvgg", activation="swish"), 1, 10, 28)
    with pytest.raises(ModelError, match="two classes"):
        arch.build_model(arch.preset("tinyvgg"), 1, 1, 28)


# ---------------------------------------------------------------------------- datasets
def test_split_is_stratified_fixed_and_disjoint():
    y = np.repeat(np.arange(3), [10, 20, 5])
    tr, va = imageset.split(y)
    assert np.bincount(y[va]).tolist() == [2, 4, 1]
    assert not set(tr) & set(va) and len(tr) + len(va) == len(y)
    tr2, va2 = imageset.split(y)
    assert (va == va2).all()


def test_mnist5k_and_digits():
    ds = datasets.mnist5k()
    assert ds.x.shape == (5000, 1, 28, 28) and ds.x.dtype == np.uint8
    assert len(ds.val_idx) == 1000 and all(v == (400, 100) for v in ds.counts().values())
    pre = ds.preprocess()
    assert pre["channels"] == 1 and abs(pre["mean"][0] - 0.13) < 0.01 and not pre["invert"]
    d = datasets.digits()
    assert d.x.shape == (1797, 1, 28, 28) and d.x.max() == 255


def test_shapes_are_seeded_and_varied():
    a, b = datasets.shapes(n_per_class=5, seed=3), datasets.shapes(n_per_class=5, seed=3)
    assert (a.x == b.x).all() and a.classes == ["circle", "square", "triangle", "star"]
    assert a.x.shape == (20, 3, 32, 32) and len({tuple(a.x[i, :, 0, 0]) for i in range(20)}) > 10


def test_folder_upload_classes_skips_and_mixed_images():
    buf = io.BytesIO()
    Image.fromarray(np.full((30, 50), 40000, np.uint16)).save(buf, format="PNG")  # 16-bit grey
    files = [
        ("dataset/dog/d2.png", png((0, 0, 255), (64, 48))),
        ("dataset/cat/c1.png", png((255, 0, 0))),
        ("dataset/cat/c2.png", png((200, 0, 0, 128), mode="RGBA")),
        ("dataset/cat/broken.png", png()[:40]),  # truncated
        ("dataset/cat/notes.txt", b"hello"),
        ("dataset/dog/d1.png", png(128, mode="L")),
        ("dataset/dog/d3.png", buf.getvalue()),
        ("dataset/cat/c3.gif", png(3, mode="P")),
        ("dataset/.DS_Store", b"junk"),
    ]
    ds = class_folders.from_files(files, size=16)
    assert ds.classes == ["cat", "dog"] and ds.skipped == 2
    assert ds.x.shape == (6, 3, 16, 16) and sorted(ds.y.tolist()) == [0, 0, 0, 1, 1, 1]
    assert "2 files skipped" in ds.summary()


@pytest.mark.parametrize(
    ("files", "match"),
    [
        ([("d/cat/a.png", png()), ("d/cat/b.png", png()), ("d/cat/c.png", png())], "one class"),
        ([("d/cat/a.txt", b"x"), ("d/dog/b.txt", b"y")], "No usable images"),
        ([("d/cat/a.png", png())] * 3 + [("d/dog/b.png", png())], "only 1 image"),
        ([("../cat/a.png", png()), ("d/dog/b.png", png())], "unsafe path"),
        ([("/etc/cat/a.png", png())], "unsafe path"),
    ],
)
def test_bad_folders_have_clear_messages(files, match):
    with pytest.raises(DatasetError, match=match):
        class_folders.from_files(files)


def make_zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, d in entries.items():
            zf.writestr(n, d)
    return buf.getvalue()


def test_zip_of_class_folders():
    z = make_zip(
        {f"{c}/{i}.png": png(col) for c, col in (("red", (255, 0, 0)), ("blue", (0, 0, 255))) for i in range(4)}
        | {"readme.md": b"# hi", "red/bad.jpg": b"\xff\xd8\xffnot really"}
    )
    ds = class_folders.read_zip(z, size=8)
    assert ds.classes == ["blue", "red"] and ds.skipped == 2  # a loose file + a damaged one
    assert ds.x[ds.y == 1][:, 0].min() > 200 and ds.x[ds.y == 1][:, 2].max() < 50  # red is red


def test_zip_traversal_bomb_and_garbage_are_refused():
    with pytest.raises(DatasetError, match="unsafe path"):
        class_folders.read_zip(make_zip({"a/../../evil.png": png(), "b/x.png": png()}))
    with pytest.raises(DatasetError, match="expands"):
        class_folders.read_zip(make_zip({"a/bomb.png": b"\0" * (5 << 20), "b/x.png": png()}))
    with pytest.raises(DatasetError, match="not a readable zip"):
        class_folders.read_zip(b"PK\x03\x04 not a zip")


def test_torchvision_offline_is_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_DATA", str(tmp_path))
    monkeypatch.setenv("CNNVIZ_FASHION_MNIST_DIR", str(tmp_path))  # as if Debian's package were absent
    with pytest.raises(DatasetError, match="not on this machine.*apt-get install dataset-fashion-mnist"):
        datasets.load("fashionmnist")  # download=False: never touches the network
    with pytest.raises(DatasetError, match="Unknown dataset"):
        datasets.load("imagenet")


# --------------------------------------------------------------------------- augment
def test_augment_flip_and_brightness_match_torch():
    x = torch.rand(16, 3, 8, 8)
    out = Augment(flip=True)(x, torch.Generator().manual_seed(0))
    for a, o in zip(x, out, strict=True):
        assert torch.allclose(o, a, atol=1e-5) or torch.allclose(o, a.flip(-1), atol=1e-5)
    assert any(torch.allclose(o, a.flip(-1), atol=1e-5) for a, o in zip(x, out, strict=True))
    out = Augment(brightness=0.3)(x, torch.Generator().manual_seed(0))
    ratio = (out / x.clamp_min(1e-6))[x > 0.1].reshape(-1)
    assert out.max() <= 1 and ratio.min() >= 0.7 - 1e-4 and ratio.max() <= 1.3 + 1e-4
    assert Augment()(x) is x


def _blob(side: int = 33, offset: int = 10) -> torch.Tensor:
    """(1, 1, side, side): a Gaussian spot ``offset`` pixels right of the centre."""
    yy, xx = torch.meshgrid(
        torch.arange(side, dtype=torch.float32), torch.arange(side, dtype=torch.float32), indexing="ij"
    )
    c = (side - 1) / 2
    return torch.exp(-((xx - c - offset) ** 2 + (yy - c) ** 2) / (2 * 1.5**2))[None, None]


@pytest.mark.parametrize("seed", [0, 1, 7, 2024, 99991])
def test_augment_rotation_turns_about_the_centre_within_the_range(seed):
    """Whatever the seed: each copy is the picture turned about its centre by at most ±30°
    (the spot keeps its distance from the centre and its brightness, its angle stays in the
    range), and the draws use the range rather than sticking to one angle."""
    x = _blob()
    out = Augment(rotate=30.0)(x.repeat(64, 1, 1, 1), torch.Generator().manual_seed(seed))
    side = x.shape[-1]
    yy, xx = torch.meshgrid(
        torch.arange(side, dtype=torch.float32), torch.arange(side, dtype=torch.float32), indexing="ij"
    )
    c = (side - 1) / 2
    mass = out.sum(dim=(1, 2, 3))
    cx = (out[:, 0] * xx).sum(dim=(1, 2)) / mass - c
    cy = (out[:, 0] * yy).sum(dim=(1, 2)) / mass - c
    angle = torch.rad2deg(torch.atan2(cy, cx))
    assert torch.allclose(torch.hypot(cx, cy), torch.full_like(cx, 10.0), atol=0.3)
    assert torch.allclose(mass, x.sum().expand_as(mass), rtol=0.05)
    assert angle.abs().max() <= 30.0 + 1.0
    assert angle.min() < -10 and angle.max() > 10


# ------------------------------------------------------------------------------- fit
def test_the_loop_learns_shapes_quickly(shapes_ds):
    a = arch.preset("tinyvgg", batchnorm=True)
    model, r = build_and_fit(shapes_ds, a, TrainConfig(epochs=3, batch_size=32))
    train = [p["train_loss"] for p in r.history if "train_loss" in p]
    assert train[-1] < 0.8 * train[0]  # the loss falls
    assert r.val_accuracy > 0.5  # chance is 0.25
    assert not r.stopped and r.epochs_done == 3 and r.images_per_second > 0
    # the reported accuracy is what the model really does on the validation images
    res = results.evaluate(model, shapes_ds)
    assert res.accuracy == pytest.approx(r.val_accuracy, abs=1e-6)
    from sklearn.metrics import confusion_matrix

    x = torch.from_numpy(shapes_ds.x[shapes_ds.val_idx]).float() / 255
    pre = shapes_ds.preprocess()
    xn = (x - torch.tensor(pre["mean"])[:, None, None]) / torch.tensor(pre["std"])[:, None, None]
    with torch.no_grad():
        pred = model.eval()(xn).argmax(1).numpy()
    y = shapes_ds.y[shapes_ds.val_idx]
    assert (res.confusion == confusion_matrix(y, pred, labels=range(4))).all()
    wrong_conf = F.softmax(model(xn), 1).max(1).values.detach().numpy()[pred != y]
    if len(res.wrong):
        assert res.wrong_conf[0] == pytest.approx(wrong_conf.max(), abs=1e-5)


def test_training_never_touches_the_global_generator_and_a_seed_repeats_it(shapes_ds):
    """A training thread must not change what other sessions' random draws give: the global
    torch generator is the same after building and fitting (dropout and augmentation on) as
    before, and the seed alone decides the result, whatever the global state was."""
    a = arch.preset("tinyvgg", dropout=0.3, hidden=[16])
    cfg = TrainConfig(epochs=1, batch_size=32, seed=3, augment=Augment(flip=True, rotate=10.0))
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    m1, r1 = build_and_fit(shapes_ds, a, cfg)
    assert torch.equal(torch.random.get_rng_state(), before)
    torch.manual_seed(999)  # a different global state changes nothing
    m2, r2 = build_and_fit(shapes_ds, a, cfg)
    assert r1.history == r2.history
    assert all(torch.equal(v, m2.state_dict()[k]) for k, v in m1.state_dict().items())
    _, r3 = build_and_fit(shapes_ds, a, TrainConfig(epochs=1, batch_size=32, seed=4, augment=cfg.augment))
    assert r3.history != r1.history
    # dropout really drew masks from the run's generator: training with p=0.3 differs from p=0
    _, r0 = build_and_fit(shapes_ds, arch.preset("tinyvgg", dropout=0.0, hidden=[16]), cfg)
    assert r0.history != r1.history


def test_seeded_build_equals_building_after_manual_seed():
    """build_model(seed=s) gives PyTorch's default initialisation as after torch.manual_seed(s)."""
    for a in (arch.preset("tinyvgg"), arch.preset("lenet"), arch.preset("tinyvgg", batchnorm=True, hidden=[20])):
        m = arch.build_model(a, 1, 10, 28, seed=5)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(5)
            # the reference: the same layers made one by one with torch's own initialisation
            ref = [
                nn.Conv2d(ci, co, a["kernel"], padding=a["kernel"] // 2, bias=not a["batchnorm"])
                for ci, co in zip([1, *a["channels"][:-1]], a["channels"], strict=True)
            ]
        got = [m.features[i].conv.weight for i in range(len(ref))]
        assert all(torch.equal(g, r.weight) for g, r in zip(got, ref, strict=True))


def test_stop_midway_keeps_the_model(shapes_ds):
    calls = {"n": 0}

    def stop() -> bool:
        calls["n"] += 1
        return calls["n"] > 5

    model = arch.build_model(arch.preset("tinyvgg"), 3, 4, 32)
    before = model.features[0].conv.weight.clone()
    r = fit(model, shapes_ds, TrainConfig(epochs=3), should_stop=stop)
    assert r.stopped and 0 < r.epochs_done < 1 and np.isfinite(r.val_accuracy)
    assert not torch.equal(before, model.features[0].conv.weight)  # five steps were taken


def test_save_load_through_the_zoo_gives_identical_outputs(shapes_ds):
    from cnnviz.models.zoo import list_models, load_model

    a = arch.preset("tinyvgg")
    model, r = build_and_fit(shapes_ds, a, TrainConfig(epochs=1))
    meta = results.checkpoint_meta("unit_shapes", a, shapes_ds, r)
    path = results.save_model(model, meta)
    assert "unit_shapes" in {i.name for i in list_models() if i.family == "user"}
    lm = load_model("unit_shapes", device="cpu")
    assert lm.classes == shapes_ds.classes and lm.info.default_layer == "features.3.act"
    img = Image.fromarray(shapes_ds.x[0].transpose(1, 2, 0))
    x = lm.preprocess(img)
    with lm.use() as m, torch.no_grad():
        got = m(x)
    with torch.no_grad():
        want = model.eval()(x)
    assert torch.equal(got, want)
    meta_back = json.loads(path.with_suffix(".json").read_text())
    assert meta_back["format"] == "cnnviz-model/1" and meta_back["dataset"] == "shapes"
    with zipfile.ZipFile(io.BytesIO(results.export_zip(path))) as zf:
        assert sorted(zf.namelist()) == ["unit_shapes.json", "unit_shapes.safetensors"]
    with pytest.raises(results.SaveError, match="built-in"):
        results.check_name("efficientnet_lite0")
    with pytest.raises(results.SaveError, match="letters"):
        results.check_name("../evil")


def test_shipped_tinyvgg_mnist():
    from cnnviz.inputs.images import load_sample
    from cnnviz.models.zoo import SHIPPED_DIR, load_model

    meta = json.loads((SHIPPED_DIR / "tinyvgg_mnist.json").read_text())
    assert meta["metrics"]["val_accuracy"] >= 0.97 and meta["preprocess"]["invert"] is False
    assert (SHIPPED_DIR / "tinyvgg_mnist.safetensors").stat().st_size < 200_000
    lm = load_model("tinyvgg_mnist", device="cpu")
    assert lm.info.family == "digits" and lm.preprocess_spec.channels == 1
    # its accuracy on the fixed validation split is what its metadata says
    ds = datasets.mnist5k()
    assert results.evaluate(lm.model, ds).accuracy == pytest.approx(meta["metrics"]["val_accuracy"], abs=0.002)
    with lm.use() as m, torch.no_grad():
        assert int(m(lm.preprocess(load_sample("digit_7"))).argmax()) == 7
