"""Issue 10: hostile or odd checkpoint files get one clear sentence (naming the student's
file), before anything is inflated; odd weights load with a warning."""

from __future__ import annotations

import io
import os
import shutil
import time
import zipfile
from pathlib import Path

import pytest
import torch

from cnnviz.cli import main
from cnnviz.errors import CheckpointError
from cnnviz.inputs import checkpoints
from cnnviz.inputs.checkpoints import MAX_CHECKPOINT_BYTES, load_state_dict_file, weight_warnings
from cnnviz.models.zoo import SHIPPED_DIR, load_model
from cnnviz.serving import uploads

TINY = SHIPPED_DIR / "tinyvgg_mnist.safetensors"


def _refused(path: Path, **kw) -> str:
    with pytest.raises(CheckpointError) as e:
        load_state_dict_file(path, **kw)
    msg = str(e.value)
    assert "\n" not in msg and msg.endswith(".") and "Traceback" not in msg
    return msg


def _deflated_entry_pt(tmp_path: Path, unpacked: int) -> Path:
    """A real torch zip whose storage entry is replaced by ``unpacked`` deflated zeros."""
    buf = io.BytesIO()
    torch.save({"w": torch.zeros(4)}, buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = tmp_path / "bomb.pt"
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename.endswith("/data/0"):
                with dst.open(zipfile.ZipInfo(info.filename), "w", force_zip64=True) as f:
                    chunk = b"\0" * (1 << 20)
                    for _ in range(unpacked >> 20):
                        f.write(chunk)
            else:
                dst.writestr(info, src.read(info))
    # ZipInfo above defaults to STORED: recompress that one entry with deflate
    return _recompress(out)


def _recompress(path: Path) -> Path:
    data = {i: zipfile.ZipFile(path).read(i) for i in zipfile.ZipFile(path).namelist()}
    out = path.with_name("deflated_" + path.name)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        for name, blob in data.items():
            z.writestr(name, blob)
    return out


@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    d = tmp_path_factory.mktemp("bombs")
    return {"over the cap": _deflated_entry_pt(d, MAX_CHECKPOINT_BYTES + (8 << 20))}


def test_zip_bomb_over_the_unpacked_cap_is_refused_before_inflating(bombs):
    path = bombs["over the cap"]
    assert path.stat().st_size < 3 << 20  # a small upload
    msg = _refused(path, name="homework.pt")
    assert "'homework.pt' would unpack to" in msg and "MB" in msg


def test_deflated_entry_with_a_bomb_ratio_is_refused(tmp_path):
    path = _deflated_entry_pt(tmp_path, 64 << 20)
    assert path.stat().st_size < 1 << 20
    assert "expands" in _refused(path, name="w.pt")


def test_malformed_pickles_are_damaged_files_not_crashes(tmp_path):
    for i, blob in enumerate([b"\x80\x02h\x05.", b"\x80\x02]q\x00h\x05a.", b"\x80\x04\x95", b"\x80\x02"]):
        f = tmp_path / f"m{i}.pt"
        f.write_bytes(blob)
        msg = _refused(f, name="mine.pt")
        assert "'mine.pt' is damaged" in msg


def test_random_bytes_are_not_called_python_objects(tmp_path):
    f = tmp_path / "r.pt"
    f.write_bytes(os.urandom(4096).replace(b"\x80", b"\x81"))
    msg = _refused(f)
    assert "Python objects" not in msg and "not a PyTorch checkpoint" in msg
    g = tmp_path / "r2.pt"
    # Looks like a pickle, then noise: about 3 in 100 such tails decode a REDUCE or BUILD
    # before breaking, so try enough of them that calling those "code" cannot pass.
    for _ in range(300):
        g.write_bytes(b"\x80\x02" + os.urandom(4096))
        assert not checkpoints._names_code(g)
    assert "Python objects" not in _refused(g)


def test_messages_name_the_students_file_not_the_stored_digest(tmp_path):
    path = uploads.store(b"\x80\x02h\x05.", "Lisa's weights.pt")
    assert path.name == "Lisa's weights.pt" and len(path.parent.name) == 64
    msg = _refused(path)
    assert "Lisa's weights.pt" in msg and path.parent.name not in msg


def test_fifo_is_refused_without_reading(tmp_path):
    fifo = tmp_path / "pipe.pt"
    os.mkfifo(fifo)
    assert "not a regular file" in _refused(fifo)


@pytest.mark.parametrize(
    ("change", "expect"),
    [
        (lambda t: t.masked_fill(torch.rand_like(t) < 0.1, float("nan")), "NaN or infinite"),
        (lambda t: t.masked_fill(torch.rand_like(t) < 0.1, float("inf")), "NaN or infinite"),
        (lambda t: (t * 100).to(torch.int8), "int8"),
        (lambda t: t > 0, "bool"),
        (lambda t: torch.complex(t, t), "imaginary part is dropped"),
    ],
    ids=["nan", "inf", "int8", "bool", "complex"],
)
def test_odd_weights_load_with_a_warning(tmp_path, change, expect):
    from safetensors.torch import load_file

    state = load_file(TINY)
    key = next(k for k in state if k.endswith("weight"))
    state[key] = change(state[key])
    f = tmp_path / "odd.pt"
    torch.save(state, f)
    notes = weight_warnings(load_state_dict_file(f))
    assert len(notes) == 1 and expect in notes[0] and key in notes[0]
    lm = load_model("tinyvgg_mnist", str(f))
    assert lm.warnings == tuple(weight_warnings(load_state_dict_file(f), source="The checkpoint odd.pt"))
    # the loaded parameter equals the float (real part) of what was stored
    got = lm.model.state_dict()[key]
    ref = state[key].real if state[key].is_complex() else state[key]
    assert torch.equal(got.isnan(), ref.float().isnan())
    assert torch.allclose(torch.nan_to_num(got), torch.nan_to_num(ref.float()))


def test_clean_weights_have_no_warning():
    assert load_model("tinyvgg_mnist").warnings == ()
    assert load_model("tinyvgg_mnist", str(TINY)).warnings == ()


def test_cli_prints_the_warning_and_still_predicts(tmp_path, hopper_path, capsys):
    from safetensors.torch import load_file

    state = load_file(TINY)
    k = next(iter(state))
    state[k] = state[k].to(torch.int8)
    f = tmp_path / "int8.pt"
    torch.save(state, f)
    assert main(["predict", str(hopper_path), "--model", "tinyvgg_mnist", "--weights", str(f), "--json"]) == 0
    out = capsys.readouterr()
    assert "warning: The checkpoint int8.pt has 1 tensor(s) stored as int8" in out.err
    assert '"top"' in out.out


def _age_refs(path: Path, when: float) -> None:
    """Date every reference to the upload at ``path`` (its holders' last use) at ``when``."""
    for ref in (path.parent / ".refs").iterdir():
        os.utime(ref, (when, when))


def test_uploads_expire_and_stay_within_the_disk_budget(monkeypatch):
    monkeypatch.setattr(uploads, "UPLOAD_DISK_BYTES", 3000)
    for f in uploads.uploads_dir().iterdir():
        shutil.rmtree(f) if f.is_dir() else f.unlink()
    a = uploads.store(b"a" * 1000, "a.pt")
    b = uploads.store(b"b" * 1000, "b.pt")
    _age_refs(a, time.time() - 100)  # a is the oldest
    c = uploads.store(b"c" * 1500, "c.pt")  # 3500 bytes would not fit: a goes
    assert not a.exists() and b.exists() and c.exists()
    assert uploads.disk_usage() == (2500, 3000)
    assert uploads.sweep(now=time.time() + uploads.UPLOAD_TTL_S + 1) == 2500
    assert uploads.disk_usage()[0] == 0
    uploads.discard(Path(__file__))  # outside the uploads folder: never removed
    assert Path(__file__).exists()


def test_an_upload_is_found_by_the_sha256_of_its_bytes_until_it_expires():
    """What a link's weights=upload:<sha256> opens: hashlib's digest of the bytes names the file."""
    import hashlib

    data = b"some checkpoint bytes"
    path = uploads.store(data, "Lisa's weights.safetensors", owner="lisa")
    digest = hashlib.sha256(data).hexdigest()
    assert uploads.find(digest) == path and path.read_bytes() == data
    old = time.time() - 100
    _age_refs(path, old)
    assert uploads.find(digest, owner="tom") == path  # tom opened it: he holds it now too
    last_use = {r.name: r.stat().st_mtime for r in (path.parent / ".refs").iterdir()}
    assert sorted(v > old + 50 for v in last_use.values()) == [False, True]  # tom's is fresh, lisa's not
    for bad in ("0" * 64, digest.upper(), "../" + digest[3:], digest[:63], "", "<script>"):
        assert uploads.find(bad) is None
    assert uploads.find(digest, now=time.time() + uploads.UPLOAD_TTL_S + 1) is None  # expired: gone
    assert not path.exists() and uploads.find(digest) is None
