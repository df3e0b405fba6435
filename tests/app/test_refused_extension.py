"""A file of a type the uploader does not offer, sent anyway (the browser filters, a script
need not): a clear message from our own checks, and the session keeps working."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from cnnviz.inputs.gallery import sample_bytes

APP = str(Path(__file__).resolve().parents[2] / "app.py")


def _app(**state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=300)
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    return at


def test_a_photo_with_a_refused_extension_is_read_by_content():
    at = _app(image_source="Upload")
    at.file_uploader(key="image_upload").upload("photo.exe", sample_bytes("coffee"), "application/octet-stream").run()
    assert not at.exception, at.exception
    at.run()  # and every later run too
    assert not at.exception, at.exception
    assert at.session_state["image_name"] == "photo.exe"  # it is a PNG inside: decoded by its content


def test_a_non_image_with_a_refused_extension_gets_the_usual_message():
    at = _app(image_source="Upload")
    at.file_uploader(key="image_upload").upload("notes.txt", b"just some text", "text/plain").run()
    assert not at.exception, at.exception
    assert any("notes.txt" in e.value for e in at.error), [e.value for e in at.error]
    at.run()
    assert not at.exception, at.exception


def test_a_weights_file_with_a_refused_extension_is_refused_without_a_crash():
    at = _app(weights_choice="file")
    at.file_uploader(key="weights_upload").upload(
        "weights.exe", b"MZ\x90\x00 not a checkpoint", "application/x-msdownload"
    ).run()
    assert not at.exception, at.exception
    at.run()
    assert not at.exception, at.exception


def test_a_training_upload_with_a_refused_extension_gets_a_message():
    at = _app(train_source="zip")
    at.switch_page("pages/train.py").run()
    at.file_uploader(key="train_zip_upload").upload(
        "classes.rar", b"Rar!\x1a\x07\x00 not a zip", "application/x-rar"
    ).run()
    assert not at.exception, at.exception
    assert at.error, "no message for a file that is not a zip"
    at.run()
    assert not at.exception, at.exception
