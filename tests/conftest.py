"""Shared fixtures: an isolated user-models folder, the offline photos, torch threads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# AppTests do not run the pages' once-a-second poll of their jobs: give those jobs time.
os.environ.setdefault("CNNVIZ_JOB_HEARTBEAT", "300")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="session")
def _isolated_user_models(tmp_path_factory):
    # Models saved by tests land in a temporary folder, never in the user's own.
    folder = tmp_path_factory.mktemp("user_models")
    os.environ["CNNVIZ_USER_MODELS"] = str(folder)
    os.environ["CNNVIZ_UPLOADS"] = str(tmp_path_factory.mktemp("uploads"))
    os.environ["CNNVIZ_CLASSES"] = str(tmp_path_factory.mktemp("classes") / "classes.sqlite3")
    yield folder


@pytest.fixture(autouse=True, scope="session")
def _isolated_disk_cache(tmp_path_factory):
    # Feature visualisations and example scores cached by tests never reach the user's cache.
    folder = tmp_path_factory.mktemp("cnnviz_cache")
    os.environ["CNNVIZ_DISK_CACHE"] = str(folder)
    yield folder


@pytest.fixture(scope="session")
def hopper_bytes() -> bytes:
    from cnnviz.inputs.gallery import sample_bytes

    return sample_bytes("grace_hopper")


@pytest.fixture(scope="session")
def hopper_path(tmp_path_factory, hopper_bytes) -> Path:
    p = tmp_path_factory.mktemp("img") / "grace_hopper.jpg"
    p.write_bytes(hopper_bytes)
    return p


@pytest.fixture(scope="session")
def effnet():
    """The default model, loaded once for the whole run (as the app's cache does)."""
    from cnnviz.models.zoo import load_model

    return load_model("efficientnet_lite0", device="cpu")
