"""The file and model messages in the reader's language (issue 30): errors translated where
they are raised, text kept where many sessions read it (a shared model's weight warnings, an
ONNX file's remembered refusal) in each reader's own language, and English unchanged."""

from __future__ import annotations

import pickle

import onnx
import pytest
import torch
from safetensors.torch import load_file

from cnnviz import i18n
from cnnviz.errors import ImageError
from cnnviz.i18n import N_, Message
from cnnviz.inputs import gallery
from cnnviz.inputs.images import decode_image
from cnnviz.lessons import links
from cnnviz.models.onnx_check import OnnxError
from cnnviz.models.onnx_file import summary
from cnnviz.models.zoo import SHIPPED_DIR, load_model
from cnnviz.serving import memguard


def test_a_message_is_english_as_a_value_and_translated_when_shown():
    note = Message(N_("{name} (sample)"), name="chelsea")
    outer = Message(N_("The weights of {title}"), title=note)  # a Message inside another
    assert note == "chelsea (sample)" and outer == "The weights of chelsea (sample)"
    with i18n.use("de"):
        assert (str(note), f"{note}") == ("chelsea (Beispiel)", "chelsea (Beispiel)")
        assert str(outer) == "den Gewichten von chelsea (Beispiel)"
        assert note == "chelsea (sample)"  # comparisons (the CLI, tests) see the English
    with i18n.use("es"):
        assert str(note) == "chelsea (ejemplo)"
        assert str(pickle.loads(pickle.dumps(note))) == "chelsea (ejemplo)"
    assert str(note) == "chelsea (sample)"  # no language chosen: English, as on the CLI


def test_a_shared_models_weight_warning_reads_in_each_language(tmp_path):
    state = load_file(SHIPPED_DIR / "tinyvgg_mnist.safetensors")
    key = next(k for k in state if k.endswith("weight"))
    state[key].view(-1)[:3] = float("nan")
    f = tmp_path / "nan.pt"
    torch.save(state, f)
    with i18n.use("es"):  # the first session to load it reads Spanish...
        lm = load_model("tinyvgg_mnist", str(f))
        (note,) = lm.warnings
        assert str(note) == (
            f"En el checkpoint nan.pt hay 3 valor(es) NaN o infinito(s) (p. ej. en {key}); las salidas también "
            "pueden ser NaN, y las imágenes los muestran en blanco."
        )
    with i18n.use("de"):  # ...and the same cached sentence reads German to the next
        assert str(note).startswith(f"In dem Checkpoint nan.pt stecken 3 NaN- oder unendliche Werte (z. B. in {key})")
    assert note == (
        f"The checkpoint nan.pt has 3 NaN or infinite value(s) (e.g. in {key}); "
        "the outputs may be NaN too, and pictures show them as blank."
    )


def test_an_image_error_speaks_the_readers_language_and_english_is_unchanged():
    with i18n.use("es"), pytest.raises(ImageError) as es:
        decode_image(b"", name="x.png")
    with i18n.use("de"), pytest.raises(ImageError) as de:
        decode_image(b"")
    with pytest.raises(ImageError) as en:
        decode_image(b"", name="x.png")
    assert str(es.value) == "'x.png' está vacío (0 bytes), así que no hay ninguna imagen que mostrar."
    assert str(de.value) == "Diese Datei ist leer (0 Byte), also gibt es kein Bild zum Anzeigen."
    assert str(en.value) == "'x.png' is empty (0 bytes), so there is no image to show."


def test_a_refused_onnx_file_is_refused_in_each_readers_language(tmp_path):
    f = tmp_path / "empty.onnx"
    f.write_bytes(onnx.helper.make_model(onnx.helper.make_graph([], "g", [], [])).SerializeToString())
    with pytest.raises(OnnxError) as en:  # the refusal is remembered in English...
        summary(f)
    with i18n.use("de"), pytest.raises(OnnxError) as de:  # ...and a German reader gets German
        summary(f)
    with pytest.raises(OnnxError) as again:
        summary(f)
    assert str(en.value) == str(again.value) == "'empty.onnx' is not a readable ONNX model (it holds no graph)."
    assert str(de.value) == "'empty.onnx' ist kein lesbares ONNX-Modell (es enthält keinen Graphen)."


def test_link_problems_use_the_languages_numbers():
    query = {"layer": "x" * 4000}
    with i18n.use("de"):
        text = links.query_too_long(query)
    assert text.startswith("der Link ist zu lang (4.007 Zeichen; die Links dieser App haben höchstens 4.000)")
    assert links.query_too_long(query).startswith("the link is too long (4,007 characters;")


def test_gallery_titles_are_translated_for_display_and_their_keys_stay():
    with i18n.use("es"):
        assert gallery.shown_title("chelsea") == "Chelsea, la gata"
        assert gallery.shown_title("no_such_photo") == "no_such_photo"
    assert gallery.SAMPLES["chelsea"].title == "Chelsea the cat" and "chelsea" in gallery.SAMPLES


def test_the_memory_guards_refusal_names_the_work_in_the_readers_language(monkeypatch):
    monkeypatch.setenv("CNNVIZ_MEMORY_BUDGET_MB", "64")  # under what this process holds
    with i18n.use("de"), pytest.raises(memguard.ServerBusy) as e:
        memguard.check(N_("this top-image pass"))
    msg = str(e.value)
    assert msg.startswith("Der Server ist ausgelastet (") and " MB Speicher belegt" in msg
    assert "darum kann die Suche nach den am stärksten aktivierenden Bildern gerade nicht starten" in msg
