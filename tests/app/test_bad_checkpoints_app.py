"""Issue 10's hostile checkpoints and issue 29's hostile ONNX files uploaded in the app's
sidebar: a clear message naming the student's file, no traceback, the refused file deleted
at once, and the session still works."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from testing.catalogue import BAD_CHECKPOINTS, BAD_ONNX
from testing.helpers import make_app


@pytest.mark.parametrize(
    "kind", [k for k in BAD_CHECKPOINTS if "zip bomb" not in k] + list(BAD_ONNX) + ["zip bomb (3 GB of zeros)"]
)
def test_bad_checkpoint_upload_in_the_app(kind):
    name, make, says = BAD_CHECKPOINTS.get(kind) or BAD_ONNX[kind]
    uploads = Path(os.environ["CNNVIZ_UPLOADS"])
    before = {p for p in uploads.iterdir() if p.is_dir()}
    at = make_app(model_name="tinyvgg_mnist", weights_choice="file")
    at.file_uploader(key="weights_upload").upload(name, make(), "application/octet-stream").run()
    assert not at.exception, at.exception
    errors = [e.value for e in at.error]
    assert any(says in e and name in e for e in errors), errors
    assert {p for p in uploads.iterdir() if p.is_dir()} == before  # the refused upload is gone
    assert any("Uploaded weights on this server" in c.value for c in at.sidebar.caption)
    at.session_state["weights_choice"] = "pretrained"  # the session recovers
    at.run()
    assert not at.exception and not at.error
