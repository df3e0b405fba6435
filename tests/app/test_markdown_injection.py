"""Issue 10: class names, titles and descriptions from a sidecar are shown as text, never
as markdown (no image fetched from another host, no heading, link or LaTeX)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cnnviz.models.usermodels import SHIPPED_DIR, user_models_dir
from cnnviz.ui.text import plain

ROOT = Path(__file__).resolve().parents[2]
EVIL = "![t](https://evil.example/x) # Head $x^2$ [link](https://evil.example)"
# A markdown image or link: '![' or '](' not preceded by a backslash.
UNESCAPED = re.compile(r"(?<!\\)!\\?\[|(?<!\\)\]\(|(?<!\\)\$")


def test_plain_escapes_every_markdown_construct():
    out = plain(EVIL)
    assert not UNESCAPED.search(out), out
    assert out.replace("\\", "") == EVIL  # nothing lost: only backslashes added
    assert plain("a\nb\r\n# c") == "a b \\# c"  # one line


@pytest.fixture(scope="module")
def evil_model() -> str:
    folder = user_models_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = "evil_labels"
    shutil.copy(SHIPPED_DIR / "tinyvgg_mnist.safetensors", folder / f"{name}.safetensors")
    meta = json.loads((SHIPPED_DIR / "tinyvgg_mnist.json").read_text())
    meta.update(name=name, title=EVIL, description=EVIL, classes=[f"{EVIL} {i}" for i in range(10)], shared=True)
    (folder / f"{name}.json").write_text(json.dumps(meta))
    yield name
    for suffix in (".json", ".safetensors"):
        (folder / f"{name}{suffix}").unlink(missing_ok=True)


@pytest.mark.parametrize(
    "page",
    ["pages/home.py", "pages/gradcam.py", "pages/adversarial.py", "pages/preprocessing.py", "pages/compare_models.py"],
)
def test_sidecar_text_is_never_markdown(page, evil_model):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.session_state["model_name"] = evil_model
    at.run()
    if page != "pages/home.py":
        at.switch_page(page).run()
    assert not at.exception, at.exception
    shown = [
        e.value
        for kind in (
            at.markdown,
            at.caption,
            at.header,
            at.subheader,
            at.title,
            at.warning,
            at.success,
            at.info,
            at.error,
        )
        for e in kind
        if "evil" in str(e.value)
    ]
    assert shown, f"{page}: the evil label is not shown at all"
    for v in shown:
        assert not UNESCAPED.search(v), f"{page}: {v!r}"
