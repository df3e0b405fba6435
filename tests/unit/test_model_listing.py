"""The saved models' listing is kept while the folder is unchanged (cnnviz/models/listing.py): every page
run lists the models several times, and each listing read the folder and stat'ed every file.
A save, a delete or a copy shows at once; a sidecar rewritten in place within LISTED_FOR_S."""

from __future__ import annotations

import os

import pytest

from cnnviz.models import listing, small_cnn, usermodels, zoo


def _meta(name: str, title: str) -> dict:
    return {
        "format": zoo.CHECKPOINT_FORMAT,
        "name": name,
        "title": title,
        "arch": {"kind": "tinyvgg"},
        "classes": ["a", "b"],
        "preprocess": {"size": 28, "resize": 28, "mean": [0.5], "std": [0.5], "channels": 1},
        "dataset": "test",
    }


def _save(folder, name: str, title: str = "T") -> None:
    model = small_cnn.build_model({"kind": "tinyvgg"}, in_channels=1, num_classes=2, size=28)
    usermodels.save(model, _meta(name, title), folder / name)


def _age(folder) -> None:
    """The folder's mtime set to a fixed moment in the past: as a folder last changed a while
    ago (and, set again, as one whose mtime a change in place left as it was)."""
    os.utime(folder, (1.7e9, 1.7e9))


@pytest.fixture
def listed(monkeypatch):
    """How many times the folder was read (globbed) by scan."""
    calls = []
    real = type(zoo.SHIPPED_DIR).glob

    def glob(self, pattern):
        calls.append(str(self))
        return real(self, pattern)

    monkeypatch.setattr(type(zoo.SHIPPED_DIR), "glob", glob)
    return calls


def test_an_unchanged_folder_is_read_once(tmp_path, listed):
    _save(tmp_path, "one")
    _age(tmp_path)
    first = listing.scan(tmp_path)
    for _ in range(5):
        assert [m.name for m in listing.scan(tmp_path)] == [m.name for m in first] == ["one"]
    assert listed.count(str(tmp_path)) == 1


def test_a_save_and_a_delete_show_at_once(tmp_path, listed):
    _save(tmp_path, "one")
    _age(tmp_path)
    assert [m.name for m in listing.scan(tmp_path)] == ["one"]
    _save(tmp_path, "two")  # renamed into place: the folder's mtime moves
    assert [m.name for m in listing.scan(tmp_path)] == ["one", "two"]
    for p in usermodels.paths(tmp_path / "one"):
        p.unlink()
    assert [m.name for m in listing.scan(tmp_path)] == ["two"]


def test_a_folder_changed_within_its_clock_tick_is_read_again(tmp_path, listed):
    """A folder whose mtime was under 0.1 s old when listed is not trusted: a second change
    in the same tick of the file system's clock would leave its mtime as it was."""
    _save(tmp_path, "one")  # just now
    listing.scan(tmp_path)
    listing.scan(tmp_path)
    assert listed.count(str(tmp_path)) == 2


def test_a_sidecar_rewritten_in_place_shows_within_the_listing_s_life(tmp_path, listed, monkeypatch):
    _save(tmp_path, "one", "Old title")
    _age(tmp_path)
    assert listing.scan(tmp_path)[0].meta["title"] == "Old title"
    sidecar = usermodels.paths(tmp_path / "one")[1]
    sidecar.write_text(sidecar.read_text().replace("Old title", "New title"))  # in place: the folder keeps its mtime
    _age(tmp_path)
    assert listing.scan(tmp_path)[0].meta["title"] == "Old title"  # kept
    monkeypatch.setattr(listing, "LISTED_FOR_S", 0.0)  # as LISTED_FOR_S later
    assert listing.scan(tmp_path)[0].meta["title"] == "New title"


def test_a_missing_folder_lists_nothing(tmp_path):
    assert listing.scan(tmp_path / "nowhere") == []
    (tmp_path / "file").write_text("x")
    assert listing.scan(tmp_path / "file") == []


def test_built_in_models_are_never_looked_for_as_files(tmp_path, monkeypatch):
    """A file named as a built-in model in the user's folder is left out of the list, and of
    the model's version (cnnviz.ui.loaders.model_version): no file is stat'ed for it."""
    from cnnviz.ui.loaders import model_version

    monkeypatch.setenv("CNNVIZ_USER_MODELS", str(tmp_path))
    _save(tmp_path, "efficientnet_lite0")
    _save(tmp_path, "mine")
    assert zoo.built_in("efficientnet_lite0") and not zoo.built_in("mine")
    infos = [i for i in zoo.list_models() if i.name == "efficientnet_lite0"]
    assert len(infos) == 1 and infos[0].family != "user"
    assert model_version("efficientnet_lite0", "pretrained") == ""
    assert len(model_version("mine", "trained")) == 32  # the two files' digests
