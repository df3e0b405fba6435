"""AppTest: the Train page trains, shows results, saves, and the sidebar then lists the model."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from streamlit.testing.v1 import AppTest

from cnnviz.training import trainer
from cnnviz.ui import state

APP = Path(__file__).resolve().parents[2] / "app.py"


def open_train() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.run()
    at.switch_page("pages/train.py")
    at.run()
    assert not at.exception
    return at


def test_train_save_and_pick_everywhere(_isolated_user_models):
    at = open_train()
    assert at.selectbox(key=state.TRAIN_SOURCE).value == "shapes"
    at.select_slider(key=state.TRAIN_SIZE).set_value(16).run()
    at.slider(key=state.TRAIN_EPOCHS).set_value(1).run()
    assert at.metric[0].label == "Parameters" and int(at.metric[0].value.replace(",", "")) > 1000
    at.button(key="train_start").click().run()
    assert not at.exception
    t = trainer.get(at.session_state[state.TRAIN_ID])
    t.join(120)
    at.run()
    assert not at.exception and not at.error
    labels = {m.label: m.value for m in at.metric}
    assert labels["Epochs"] == "1" and labels["Validation accuracy"].endswith("%")
    at.text_input(key=state.TRAIN_SAVE_NAME).set_value("apptest_shapes").run()
    at.button(key="train_save").click().run()
    assert not at.exception
    assert (_isolated_user_models / "apptest_shapes.safetensors").is_file()
    assert any("Saved as" in s.value for s in at.success)
    # the sidebar picker (on any page; AppTest drops the sidebar after switch_page) lists it
    home = AppTest.from_file(APP, default_timeout=180)
    home.run()
    picker = home.sidebar.selectbox(key=state.MODEL)
    assert "apptest_shapes (yours)" in picker.options
    picker.set_value("apptest_shapes").run()
    assert not home.exception
    trainer.forget(at.session_state[state.TRAIN_ID])


def test_bad_zip_gets_a_clear_message():
    at = open_train()
    at.selectbox(key=state.TRAIN_SOURCE).set_value("zip").run()
    assert any("one folder per class" in i.value for i in at.info)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../escape/a.png", b"x")
    at.session_state[state.TRAIN_FILES] = buf.getvalue()
    at.run()
    assert not at.exception
    assert any("unsafe path" in e.value for e in at.error)


def test_one_class_folder_gets_a_clear_message():
    at = open_train()
    at.selectbox(key=state.TRAIN_SOURCE).set_value("folder").run()
    at.session_state[state.TRAIN_FILES] = [("d/cat/a.png", b"x"), ("d/cat/b.png", b"y")]
    at.run()
    assert not at.exception
    assert any("No usable images" in e.value for e in at.error)
