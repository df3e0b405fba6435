"""AppTest: the Train page trains, shows results, saves, and the sidebar then lists the model."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from streamlit.testing.v1 import AppTest

from cnnviz import i18n
from cnnviz.training import published, trainer
from cnnviz.ui import held_uploads, state
from testing.catalogue import encode, photo

APP = Path(__file__).resolve().parents[2] / "app.py"


def open_train(lang: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=180)
    if lang:
        at.query_params["lang"] = lang
    at.run()
    at.switch_page("pages/train.py")
    at.run()
    assert not at.exception
    return at


def train(at: AppTest) -> trainer.Trainer:
    """Press Train, wait for the training to end, and draw the page with its results."""
    at.button(key="train_start").click().run()
    assert not at.exception
    t = trainer.get(at.session_state[state.JOB_TAB])
    t.job.join(120)
    at.run()
    assert not at.exception and not at.error
    return t


def test_train_save_and_pick_everywhere(_isolated_user_models):
    at = open_train()
    assert at.selectbox(key=state.TRAIN_SOURCE).value == "shapes"
    at.select_slider(key=state.TRAIN_SIZE).set_value(16).run()
    at.slider(key=state.TRAIN_EPOCHS).set_value(1).run()
    assert at.metric[0].label == "Parameters" and int(at.metric[0].value.replace(",", "")) > 1000
    train(at)
    labels = {m.label: m.value for m in at.metric}
    assert labels["Epochs"] == "1" and labels["Validation accuracy"].endswith("%")
    at.text_input(key=state.TRAIN_SAVE_NAME).set_value("apptest_shapes").run()
    at.button(key="train_save").click().run()
    assert not at.exception
    assert (_isolated_user_models / "apptest_shapes.safetensors").is_file()
    assert any("Saved as" in s.value for s in at.success)
    # the sidebar picker (on any page; AppTest drops the sidebar after switch_page) of the
    # same browser (its owner token) lists it; another browser's does not (private by default)
    stranger = AppTest.from_file(APP, default_timeout=180)
    stranger.run()
    assert not any("apptest_shapes" in o for o in stranger.sidebar.selectbox(key=state.MODEL).options)
    home = AppTest.from_file(APP, default_timeout=180)
    home.session_state[state.OWNER] = at.session_state[state.OWNER]
    home.run()
    picker = home.sidebar.selectbox(key=state.MODEL)
    assert "apptest_shapes (yours)" in picker.options
    picker.set_value("apptest_shapes").run()
    assert not home.exception
    trainer.forget(at.session_state[state.JOB_TAB])


def test_bad_zip_gets_a_clear_message():
    at = open_train()
    at.selectbox(key=state.TRAIN_SOURCE).set_value("zip").run()
    assert any("one folder per class" in i.value for i in at.info)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("../escape/a.png", b"x")
    at.session_state[state.TRAIN_FILES] = held_uploads.STORE.put("apptest", "zip", buf.getvalue())
    at.run()
    assert not at.exception
    assert any("unsafe path" in e.value for e in at.error)


def test_one_class_folder_gets_a_clear_message():
    """Real pictures, all in one class folder: the one-class message (not "no usable images")."""
    at = open_train()
    at.selectbox(key=state.TRAIN_SOURCE).set_value("folder").run()
    picture = encode(photo(16, 16), "PNG")
    at.session_state[state.TRAIN_FILES] = held_uploads.STORE.put(
        "apptest", "folder", [(f"d/cat/{i}.png", picture) for i in range(6)]
    )
    at.run()
    assert not at.exception
    assert any("one class" in e.value for e in at.error), [e.value for e in at.error]
    # and non-images with image names are a different message
    at.session_state[state.TRAIN_FILES] = held_uploads.STORE.put(
        "apptest", "folder", [("d/cat/a.png", b"x"), ("d/dog/b.png", b"y")]
    )
    at.run()
    assert any("No usable images" in e.value for e in at.error)


def test_fashion_mnist_offered_with_its_classes_or_how_to_get_it(tmp_path, monkeypatch):
    """Installed (Debian's package, or a stand-in folder): its 10 clothing classes and a
    preview; absent: one message saying how to get it."""

    if not published.fashion_mnist_available():  # a tiny stand-in in Debian's file format
        import gzip
        import struct

        import numpy as np

        x = np.random.default_rng(0).integers(0, 256, (50, 28, 28), dtype=np.uint8)
        for name, arr in (("images-idx3", x), ("labels-idx1", np.arange(50, dtype=np.uint8) % 10)):
            head = struct.pack(">BBBB", 0, 0, 8, arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
            (tmp_path / f"train-{name}-ubyte.gz").write_bytes(gzip.compress(head + arr.tobytes()))
        monkeypatch.setenv("CNNVIZ_FASHION_MNIST_DIR", str(tmp_path))
    at = open_train()
    at.selectbox(key=state.TRAIN_SOURCE).set_value("fashionmnist").run()
    assert not at.exception and not at.error
    assert any("10 classes" in c.value for c in at.caption)
    monkeypatch.setenv("CNNVIZ_FASHION_MNIST_DIR", str(tmp_path / "absent"))
    monkeypatch.setenv("CNNVIZ_DATA", str(tmp_path / "absent"))
    from cnnviz.serving import cache

    cache.RESULTS.clear()  # the loaded dataset is cached per server; a server on a machine without it
    at2 = open_train()
    at2.selectbox(key=state.TRAIN_SOURCE).set_value("fashionmnist").run()
    assert not at2.exception
    assert any("apt-get install dataset-fashion-mnist" in e.value for e in at2.error)


def test_greyscale_is_offered_only_where_it_changes_the_data():
    # Shapes are generated in colour whatever the toggle said (a browser test found a
    # "greyscale" shapes model with three input channels); uploads honour it.
    at = open_train()
    assert at.selectbox(key=state.TRAIN_SOURCE).value == "shapes"
    assert state.TRAIN_GREY not in [t.key for t in at.toggle]
    at.selectbox(key=state.TRAIN_SOURCE).set_value("zip").run()
    assert not at.exception
    assert state.TRAIN_GREY in [t.key for t in at.toggle]


def _query(at: AppTest) -> dict[str, str]:
    return {k: v[0] if isinstance(v, list) else v for k, v in at.query_params.items()}


def test_the_form_survives_a_visit_to_another_page_and_goes_into_the_url():
    at = open_train()
    at.selectbox(key=state.TRAIN_SOURCE).set_value("mnist5k").run()
    at.slider(key=state.TRAIN_EPOCHS).set_value(15).run()  # MNIST's recipe says 12
    at.select_slider(key=state.TRAIN_LR).set_value(3e-3).run()
    at.toggle(key=state.TRAIN_FLIP).set_value(True).run()
    assert not at.exception
    q = _query(at)
    assert (q["dataset"], q["epochs"], q["lr"], q["flip"]) == ("mnist5k", "15", "0.003", "1")
    batch = at.select_slider(key=state.TRAIN_BATCH).value
    at.switch_page("pages/pooling.py").run()
    assert not at.exception and state.TRAIN_EPOCHS not in [s.key for s in at.slider]
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert at.selectbox(key=state.TRAIN_SOURCE).value == "mnist5k"
    assert at.slider(key=state.TRAIN_EPOCHS).value == 15
    assert at.select_slider(key=state.TRAIN_LR).value == 3e-3
    assert at.select_slider(key=state.TRAIN_BATCH).value == batch
    assert at.toggle(key=state.TRAIN_FLIP).value is True


def test_a_train_link_reproduces_the_form():
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.run()
    at.switch_page("pages/train.py")
    at.query_params.update(dataset="digits", epochs="3", batch="128", arch="lenet", blocks="2", kernel="5", flip="1")
    at.run()
    assert not at.exception and not at.warning, [w.value for w in at.warning]
    assert at.selectbox(key=state.TRAIN_SOURCE).value == "digits"
    assert at.selectbox(key=state.TRAIN_ARCH).value == "lenet"
    assert at.slider(key=state.TRAIN_BLOCKS).value == 2 and at.select_slider(key=state.TRAIN_KERNEL).value == 5
    # the link's values win over the dataset's recipe, which sets the ones it does not name
    assert at.slider(key=state.TRAIN_EPOCHS).value == 3 and at.select_slider(key=state.TRAIN_BATCH).value == 128
    assert at.toggle(key=state.TRAIN_FLIP).value is True
    q = _query(at)
    assert (q["dataset"], q["epochs"], q["batch"], q["arch"], q["blocks"], q["kernel"]) == (
        "digits",
        "3",
        "128",
        "lenet",
        "2",
        "5",
    )


def test_the_train_page_in_german_trains_and_reports_in_german():
    """?lang=de: the form and the results in German, numbers the German way; the dataset's
    class names (data) stay as they are."""
    # AppTest calls a widget's format_func in the test's thread, outside the page's run: the
    # same language there, or the sidebar's translated radio options do not match.
    with i18n.use("de"):
        at = open_train("de")
        assert at.title[0].value == "Trainiere dein eigenes CNN"
        at.select_slider(key=state.TRAIN_SIZE).set_value(16).run()
        at.slider(key=state.TRAIN_EPOCHS).set_value(1).run()
        assert at.slider(key=state.TRAIN_EPOCHS).label == "Epochen"
        assert at.metric[0].label == "Parameter" and "." in at.metric[0].value  # 8.444: German thousands
        t = train(at)
        labels = {m.label: m.value for m in at.metric}
        assert labels["Epochen"] == "1" and labels["Validierungsgenauigkeit"].endswith("\xa0%")
        assert "," in labels["Zeit"] and labels["Zeit"].endswith(" s")  # 12,4 s
        assert [h.value for h in at.header][-1] == "5 · Ergebnisse"
        assert t.ds.classes == ["circle", "square", "triangle", "star"]  # data: not translated
        trainer.forget(at.session_state[state.JOB_TAB])
