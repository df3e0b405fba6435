"""Issue 30 on the inside-the-network pages: what their core says follows the reader's language,
and what is shared between sessions (an outcome, a diagram, a chart spec) never carries one
reader's language to another."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from torchvision.models import resnet18

from cnnviz import i18n
from cnnviz.errors import ModelError
from cnnviz.inside import network
from cnnviz.inside.catalogue import catalogue_model, find_layer, map_layers
from cnnviz.inside.graph import to_dot, trace_graph
from cnnviz.models import small_cnn
from cnnviz.models.preprocess import Preprocess
from cnnviz.teaching import preprocess_mistakes as pm
from cnnviz.ui import chart_specs
from cnnviz.ui import preprocess_views as pv

NAMES = ["tiger cat", "jigsaw puzzle", "tabby"].__getitem__


def test_one_shared_outcome_reads_in_each_readers_language():
    """The outcome is computed once and shared: its sentence is made when read, so the same
    object reads in Spanish, German and English, with each language's decimal comma."""
    o = pm.compare("skip", np.array([0.06, 0.90, 0.04]), np.array([0.03, 0.95, 0.02]), NAMES)
    assert o.sentence == "“jigsaw puzzle” stays top-1; its probability rose by 5 points (90 % → 95 %)."
    with i18n.use("de"):
        assert o.sentence == (
            "„jigsaw puzzle“ bleibt die wahrscheinlichste Klasse; ihre Wahrscheinlichkeit stieg um "
            "5 Prozentpunkte (90\xa0% → 95\xa0%)."
        )
    with i18n.use("es"):
        assert o.sentence == (
            "«jigsaw puzzle» sigue siendo la más probable; su probabilidad subió 5 puntos (90\xa0% → 95\xa0%)."
        )
    # under 10 %: one decimal, written with the language's decimal sign
    changed = pm.compare("swap", np.array([0.60, 0.35, 0.05]), np.array([0.053, 0.70, 0.247]), NAMES)
    with i18n.use("de"):
        assert changed.sentence == (
            "Die wahrscheinlichste Klasse wechselte von „tiger cat“ (60\xa0%) zu „jigsaw puzzle“ (70\xa0%); "
            "„tiger cat“ bekommt jetzt 5,3\xa0%."
        )
    assert "now gets 5.3 %." in changed.sentence


def test_one_point_is_singular_in_every_language():
    o = pm.compare("skip", np.array([0.60, 0.10, 0.30]), np.array([0.59, 0.10, 0.31]), NAMES)
    assert o.sentence == "“tiger cat” stays top-1; its probability dropped by 1 point (60 % → 59 %)."
    with i18n.use("de"):
        assert "sank um 1 Prozentpunkt (" in o.sentence
    with i18n.use("es"):
        assert "bajó 1 punto (" in o.sentence


def test_weights_without_numbers_are_said_so_and_the_mistakes_are_named():
    o = pm.compare("skip", np.array([0.5, 0.5, np.nan]), np.array([0.2, 0.3, 0.5]), NAMES)
    assert not o.finite and "NaN" in o.sentence
    spec = Preprocess(size=224, resize=256, mean=(0.5,) * 3, std=(0.25,) * 3)
    with i18n.use("de"):
        assert o.sentence.startswith("Die Ausgaben des Modells sind keine Zahlen")
        assert pm.label(spec, "squash") == "auf 224×224 gestaucht statt zugeschnitten"
    assert pm.label(spec, "squash") == "squashed to 224×224 instead of cropped"


def _tiny_diagram() -> network.Diagram:
    model = small_cnn.build_model(small_cnn.preset("tinyvgg"), in_channels=1, num_classes=10, size=28, seed=3)
    layers = catalogue_model(model.eval(), (1, 1, 28, 28))
    rng = np.random.default_rng(0)
    maps = {la.name: rng.standard_normal(la.out_shape).astype(np.float32) for la in map_layers(layers)}
    return network.diagram(
        Image.new("L", (28, 28)), maps, network.columns(layers), every_channel=True, classes=[("7", 0.9)]
    )


def test_the_diagram_draws_its_words_in_the_language_it_is_made_in():
    """Words are drawn into the picture: a German diagram is another picture (so the page's
    cache keys diagrams by language), with the same tiles in the same places."""
    english = _tiny_diagram()
    with i18n.use("de"):
        german = _tiny_diagram()
        said = german.hotspots.label(0)
    assert english.thumbs == german.thumbs and english.columns == german.columns
    title_rows = slice(0, english.thumbs[0].box[0])  # the titles above the tiles ("input" / "Eingabe")
    assert not np.array_equal(english.rgb[title_rows], german.rgb[title_rows])
    first = german.thumbs[0]
    layer = german.columns[first.column].layer.name
    assert said == f"{layer}, Kanal {first.channel}"
    assert english.hotspots.label(0) == f"{layer}, channel {first.channel}"


def test_the_architecture_graph_and_a_missing_layer_in_german():
    g = trace_graph(resnet18().eval(), (1, 3, 64, 64))
    with i18n.use("de"):
        dot = to_dot(g, set())
        with pytest.raises(ModelError, match="Dieses Modell hat keine Schicht namens 'nope'"):
            find_layer([], "nope")
    assert "BasicBlock · 6 Schichten · Skip +" in dot
    assert '"input" [label="Eingabe 3×64×64"' in dot  # the node's id stays: edges name it
    assert "BasicBlock · 6 layers · skip +" in to_dot(g, set())


def test_histogram_specs_are_kept_per_language():
    """chart_specs keeps one spec per builder and arguments: the language is an argument, so a
    Spanish class never gets the German axis titles of a spec a German class built first."""
    rows = [
        {"channel": "grey", "start": 0.0, "end": 0.5, "count": 3},
        {"channel": "grey", "start": 0.5, "end": 1.0, "count": 1},
    ]
    with i18n.use("de"):
        de = chart_specs.spec(pv.histogram_chart, rows, lang="de")
    with i18n.use("es"):
        es = chart_specs.spec(pv.histogram_chart, rows, lang="es")
    en = chart_specs.spec(pv.histogram_chart, rows)
    titles = [(s["layer"][0]["encoding"]["x"]["title"], s["layer"][0]["encoding"]["y"]["title"]) for s in (en, de, es)]
    assert titles == [("value", "pixels"), ("Wert", "Pixel"), ("valor", "píxeles")]
    assert {r["channel"] for r in de["datasets"][de["layer"][0]["data"]["name"]]} == {"Grau"}
