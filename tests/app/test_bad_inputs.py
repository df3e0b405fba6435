"""Every bad input of the catalogue: a clear message in the app and on the CLI, nothing
crashes, and the app keeps serving good input afterwards."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.cli import main
from cnnviz.inputs.gallery import sample_bytes
from testing.catalogue import BAD_IMAGES, ODD_IMAGES
from testing.helpers import make_app, page_text


def _one_clean_line(msg: str) -> None:
    assert msg.strip() and "\n" not in msg.strip()
    assert "Traceback" not in msg and "Error(" not in msg


def _upload(at: AppTest, name: str, data: bytes) -> None:
    # The uploader lives in the first run's sidebar tree (see make_app); re-make if gone.
    at.file_uploader(key="image_upload").upload(name, data, "application/octet-stream").run()


@pytest.mark.parametrize("kind", list(BAD_IMAGES))
def test_bad_image_gets_a_message_in_the_app(kind):
    name, make = BAD_IMAGES[kind]
    at = make_app(image_source="Upload")
    _upload(at, name, make())
    assert not at.exception, at.exception
    assert at.error, f"{kind}: no message shown"
    _one_clean_line(at.error[0].value)
    # the same session recovers with a good image
    at.session_state["image_bytes"] = sample_bytes("chelsea")
    at.session_state["image_name"] = "chelsea"
    at.run()
    assert not at.exception and not at.error
    assert "forward pass" in page_text(at)


@pytest.mark.parametrize("kind", list(ODD_IMAGES))
def test_odd_image_is_predicted_in_the_app(kind):
    name, make = ODD_IMAGES[kind]
    at = make_app(image_source="Upload")
    _upload(at, name, make())
    assert not at.exception, at.exception
    assert not at.error, at.error[0].value if at.error else ""
    assert "forward pass" in page_text(at)


@pytest.mark.parametrize("kind", list(BAD_IMAGES))
def test_bad_image_on_the_cli(kind, tmp_path, capsys):
    name, make = BAD_IMAGES[kind]
    f = tmp_path / name
    f.write_bytes(make())
    assert main(["predict", str(f), "--model", "squeezenet1_1", "--weights", "random"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    _one_clean_line(err)


@pytest.mark.parametrize("kind", list(ODD_IMAGES))
def test_odd_image_on_the_cli(kind, tmp_path, capsys):
    name, make = ODD_IMAGES[kind]
    f = tmp_path / name
    f.write_bytes(make())
    assert main(["predict", str(f), "--model", "squeezenet1_1", "--weights", "random", "--json"]) == 0
    assert '"top"' in capsys.readouterr().out


def _zip(files: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return buf.getvalue()


def _png() -> bytes:
    from testing.catalogue import encode, photo

    return encode(photo(16, 16), "PNG")


BAD_DATASETS = {
    "zip with ../ paths": ("zip", lambda: _zip({"a/../../evil.png": _png(), "b/x.png": _png()})),
    "zip that expands enormously": ("zip", lambda: _zip({"a/bomb.png": b"\0" * (5 << 20), "b/x.png": _png()})),
    "not a zip": ("zip", lambda: b"PK\x03\x04 not a zip"),
    "one class only": ("zip", lambda: _zip({f"cats/{i}.png": _png() for i in range(6)})),
    "empty folders": ("folder", lambda: {"cats/": None, "dogs/": None}),
}


@pytest.mark.parametrize("kind", list(BAD_DATASETS))
def test_bad_dataset_on_the_cli(kind, tmp_path, capsys):
    form, make = BAD_DATASETS[kind]
    if form == "zip":
        path = tmp_path / "data.zip"
        path.write_bytes(make())
    else:
        path = tmp_path / "data"
        for sub in make():
            (path / sub).mkdir(parents=True)
    assert main(["train", "--dataset", f"{form}:{path}", "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    _one_clean_line(err)
