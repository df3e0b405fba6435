"""Issue 10: students' models kept apart. A save never replaces another model, two
concurrent saves of one name never pair the wrong files, and a private model is seen
only by the browser that saved it."""

from __future__ import annotations

import json
import re
import threading

import pytest
import torch
from safetensors.torch import load_file

from cnnviz.models import listing, usermodels
from cnnviz.models.small_cnn import build_model, preset
from cnnviz.training import results

ALICE, BOB, CAROL = "a" * 32, "b" * 32, "c" * 32


def _model(seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model(preset("tinyvgg"), in_channels=1, num_classes=3, size=28)


def _meta(name: str) -> dict:
    return {
        "name": name,
        "title": name,
        "arch": preset("tinyvgg"),
        "classes": ["a", "b", "c"],
        "preprocess": {"size": 28, "resize": 28, "mean": [0.5], "std": [0.5], "channels": 1, "invert": False},
    }


def _same_weights(path, model: torch.nn.Module) -> bool:
    saved, own = load_file(path), model.state_dict()
    return saved.keys() == own.keys() and all(torch.equal(saved[k], own[k]) for k in own)


def test_second_save_of_a_name_is_refused_with_a_free_suggestion(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_USER_MODELS", str(tmp_path))
    m1, m2 = _model(1), _model(2)
    p = results.save_model(m1, _meta("cats"), owner=ALICE)
    before = p.read_bytes(), p.with_suffix(".json").read_bytes()
    with pytest.raises(usermodels.NameTaken) as e:
        results.save_model(m2, _meta("cats"), owner=BOB)
    assert e.value.suggestion == "cats_2" and "'cats_2'" in str(e.value)
    with pytest.raises(usermodels.NameTaken):  # the owner cannot silently overwrite either
        results.save_model(m2, _meta("cats"), owner=ALICE)
    with pytest.raises(usermodels.NameTaken):  # nor a third browser
        results.save_model(m2, _meta("cats"), owner=CAROL)
    assert (p.read_bytes(), p.with_suffix(".json").read_bytes()) == before  # nothing lost
    q = results.save_model(m2, _meta(e.value.suggestion), owner=BOB)  # the suggestion works
    assert _same_weights(q, m2) and _same_weights(p, m1)
    assert sorted(f.name for f in tmp_path.iterdir()) == [
        "cats.json",
        "cats.safetensors",
        "cats_2.json",
        "cats_2.safetensors",
    ]  # no temporary file left behind


def test_concurrent_saves_of_one_name_pair_the_right_files(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_USER_MODELS", str(tmp_path))
    models = [_model(s) for s in range(8)]
    owners = [f"{i:032x}" for i in range(8)]
    won, lost = [], []
    barrier = threading.Barrier(8)

    def save(i: int) -> None:
        barrier.wait()
        try:
            results.save_model(models[i], _meta("same"), owner=owners[i])
            won.append(i)
        except usermodels.NameTaken:
            lost.append(i)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1 and len(lost) == 7
    meta = json.loads((tmp_path / "same.json").read_text())
    w = won[0]
    assert meta["owner"] == usermodels.owner_id(owners[w])  # sidecar and weights of one save
    assert _same_weights(tmp_path / "same.safetensors", models[w])
    assert sorted(f.name for f in tmp_path.iterdir()) == ["same.json", "same.safetensors"]


def test_private_models_are_seen_by_their_owner_only():
    private = {"owner": usermodels.owner_id(ALICE), "shared": False}
    shared = {"owner": usermodels.owner_id(ALICE), "shared": True}
    assert usermodels.visible_to(private, ALICE) and not usermodels.visible_to(private, BOB)
    assert not usermodels.visible_to(private, None)
    assert usermodels.visible_to(shared, BOB)
    assert usermodels.visible_to({}, BOB)  # trained on the command line: the class's
    assert usermodels.owner_id(ALICE) != ALICE and ALICE not in json.dumps(private)
    assert not usermodels.visible_to({"owner": usermodels.owner_id(ALICE), "shared": "true"}, BOB)


def test_default_names_carry_65_random_bits_and_skip_taken_ones(tmp_path, monkeypatch):
    monkeypatch.setenv("CNNVIZ_USER_MODELS", str(tmp_path))
    tags = [results.name_tag() for _ in range(2000)]
    assert len(set(tags)) == len(tags)
    assert all(re.fullmatch(r"[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{4}-[0-9a-hjkmnp-tv-z]{5}", t) for t in tags)
    # Every one of the 32 symbols at every one of the 13 places: the bits are all used.
    # (2000 draws miss a given symbol at a given place with probability (31/32)^2000 < 1e-27.)
    for place in range(13):
        assert len({t.replace("-", "")[place] for t in tags}) == 32
    assert results.TAG_BITS == 13 * 5 >= 64
    a, b = results.default_name("tinyvgg", "shapes", tags[0]), results.default_name("tinyvgg", "shapes", tags[1])
    assert a == f"my_tinyvgg_shapes_{tags[0]}" and a != b and results.NAME_RE.match(a)
    results.save_model(_model(0), _meta(a), owner=ALICE)
    assert results.default_name("tinyvgg", "shapes", tags[0]) == f"{a}_2"
    long = results.default_name("custom", "zip:a very long folder name/../x" * 3, tags[2])
    assert results.NAME_RE.match(long) and len(long) <= 44 and long.endswith(tags[2])
    results.save_model(_model(0), _meta(long), owner=ALICE)
    assert results.default_name("custom", "zip:a very long folder name/../x" * 3, tags[2]) == f"{long}_2"


def test_scan_sees_a_sidecar_rewritten_and_weights_that_arrive_late(tmp_path):
    results.save_model(_model(0), _meta("m"), tmp_path / "m", owner=ALICE)
    assert [u.meta["title"] for u in listing.scan(tmp_path)] == ["m"]
    usermodels.save(_model(0), {**_meta("m"), "title": "renamed"}, tmp_path / "m")
    assert [u.meta["title"] for u in listing.scan(tmp_path)] == ["renamed"]  # a new version, read again
    (tmp_path / "m.json").write_text("{not json")
    assert listing.scan(tmp_path) == []
    weights = (tmp_path / "m.safetensors").read_bytes()
    (tmp_path / "m.safetensors").unlink()
    (tmp_path / "m.json").write_text(json.dumps({**_meta("m"), "format": usermodels.FORMAT}))
    assert listing.scan(tmp_path) == []  # no weights yet
    (tmp_path / "m.safetensors").write_bytes(weights)
    assert [u.name for u in listing.scan(tmp_path)] == ["m"]  # not remembered as broken
