"""Alt texts, chart texts and chart specs in the reader's language: German and Spanish words
from the catalogue, the language's decimal sign, and caches that never mix two languages."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cnnviz import i18n
from cnnviz.a11y import alt_lessons, alt_text, chart_text
from cnnviz.a11y.regions import IN, NAMES, TOWARDS
from cnnviz.inside.catalogue import LayerInfo
from cnnviz.ui import chart_specs, charts, inside_charts, present


def _corner_map() -> np.ndarray:
    """A 6×6 map strong in its top-left 2×2 block: 4 of 36 cells = 11 % above half strength."""
    m = np.zeros((6, 6))
    m[:2, :2] = 1.0
    return m


def test_gradcam_alt_text_in_german_and_spanish():
    m = _corner_map()
    with i18n.use("de"):
        de = alt_text.explanation("Grad-CAM", "tabby", "blocks.6", m)
    with i18n.use("es"):
        es = alt_text.explanation("Grad-CAM", "tabby", "blocks.6", m)
    assert de == (
        "Grad-CAM für „tabby“ bei blocks.6, über dem Foto: die stärksten Hinweise liegen oben links "
        "(11 % des Bildes über halber Stärke)."
    )
    assert es == (
        "Grad-CAM para «tabby» en blocks.6, sobre la foto: la evidencia más fuerte está en la esquina "
        "superior izquierda (11 % de la imagen por encima de la mitad de la intensidad)."
    )
    # the same call outside the block is English again: the language is the thread's, not sticky
    assert alt_text.explanation("Grad-CAM", "tabby", "blocks.6", m).startswith("Grad-CAM for “tabby” at blocks.6")


def test_german_decimals_in_alt_and_chart_texts():
    x = np.linspace(-2.0, 2.0, 5)  # -2, -1, 0, 1, 2
    y = np.maximum(x, 0.0) * 0.21  # 0 … 0.42
    with i18n.use("de"):
        curve = chart_text.function_curve("ReLU", x, y)
        patch = alt_lessons.conv_cells(np.zeros((3, 4)), (1, 2), -0.4213)
        top = chart_text.top_k([{"label": "tabby", "prob": 0.4213}, {"label": "tiger cat", "prob": 0.1234}])
        hist = chart_text.before_after(np.full(50176, -1.5), np.zeros(50176), "ReLU")
    assert curve == (
        "Liniendiagramm von ReLU(x) für x von -2,00 bis 2,00: y geht von 0,00 bis 0,42 (Minimum 0,00, Maximum 0,42)."
    )
    assert patch.endswith("Ausgabe (1, 2) gelb umrandet: -0,42.") and "3×4 Ausgabepixel" in patch
    assert top.endswith("„tabby“ 42,1 %, „tiger cat“ 12,3 %.")
    assert "der 50.176 Werte" in hist and "100 % negativ" in hist and "100 % genau null" in hist
    for text in (curve, patch, top, hist):
        assert "0.4" not in text and "42.1" not in text  # no English decimal point left


def test_significant_digits_take_the_language_decimal_sign():
    assert i18n.significant(0.012345) == "0.0123"
    with i18n.use("de"):
        assert i18n.significant(0.012345) == "0,0123"
        assert i18n.significant(123456.0) == "1,23e+05"
    with i18n.use("es"):
        assert i18n.significant(2.5, 6) == "2,5"


def test_counts_and_lists_follow_the_language():
    maps = np.zeros((3, 2, 2))
    maps[0, 0, 0] = 1.0
    with i18n.use("de"):
        text = alt_text.feature_grid("conv1", maps, [0, 1, 2])
    assert "Raster aller 3 Kanäle von conv1, jeder eine 2×2-Karte" in text
    assert "Im Mittel am stärksten: Kanäle 0, 1 und 2." in text  # ties keep channel order
    assert "2 Kanäle sind überall null." in text
    maps[1, 0, 0] = 1.0
    with i18n.use("es"):
        assert "1 canal es cero en todas partes." in alt_text.feature_grid("conv1", maps, [0, 1, 2])


def test_every_region_has_its_own_phrase_in_each_language():
    for lang in ("es", "de"):
        with i18n.use(lang):
            phrases = [i18n._(p) for p in (*IN.values(), *TOWARDS.values())]
        assert len(set(phrases)) == 18  # nine places, each said two ways, none the same
        assert not set(phrases) & {*IN.values(), *TOWARDS.values()}  # none left in English
        with i18n.use(lang):
            names = {i18n._(key) for key in NAMES}  # the bare names, as _(region(...)) looks them up
        assert len(names) == 9 and not names & set(NAMES)


def test_chart_spec_cache_keeps_one_spec_per_language():
    curve = pd.DataFrame({"x": [-1.0, 0.0, 1.0], "y": [0.0, 0.0, 1.0]})
    en = chart_specs.spec(charts.function_chart, curve, "ReLU")
    with i18n.use("de"):
        de = chart_specs.spec(charts.function_chart, curve, "ReLU")
    with i18n.use("es"):
        es = chart_specs.spec(charts.function_chart, curve, "ReLU")
    assert chart_specs.spec(charts.function_chart, curve, "ReLU") == en  # English again from the cache
    titles = [
        next(la["encoding"]["x"]["title"] for la in s["layer"] if la["mark"]["type"] == "line") for s in (en, de, es)
    ]
    assert titles == ["x (input)", "x (Eingabe)", "x (entrada)"]
    assert de["description"].startswith("Liniendiagramm von ReLU(x)")
    with i18n.use("de"):  # every chart the pages draw goes through present.chart
        assert present.number_locale(de)["config"]["locale"]["number"]["decimal"] == ","
    assert "config" not in present.number_locale(en) or "locale" not in present.number_locale(en)["config"]


def test_softmax_legend_in_german_is_a_valid_vega_string():
    table = pd.DataFrame({"class": ["a", "b"], "p1": [60.0, 40.0], "pT": [55.0, 45.0]})
    with i18n.use("de"):
        spec = present.number_locale(charts.softmax_chart(table, 2.5)).to_dict()
    legend = next(la for la in spec["layer"] if la["mark"]["type"] == "bar")["encoding"]["color"]["legend"]
    assert legend["labelExpr"] == 'datum.label == "your T" ? "dein T = 2,5" : datum.label'
    assert spec["config"]["locale"]["number"]["decimal"] == ","


def test_signed_map_text_in_german_says_both_signs_in_german_order():
    m = _corner_map()
    m[5, 5] = -2.0  # one cell of 36 strongly negative: 3 %
    with i18n.use("de"):
        text = alt_text.explanation("Grad-CAM", "tabby", None, m, signed=True)
    assert text == (
        "Grad-CAM für „tabby“, über dem Foto: die stärksten Hinweise liegen oben links (11 % des Bildes über "
        "halber Stärke). Die Hinweise dagegen sind am stärksten unten rechts (3 % des Bildes über halber Stärke)."
    )


def test_layer_table_is_headed_in_the_reader_language():
    layer = LayerInfo("stem.conv", "stem.conv", "Conv2d", "conv", (32, 112, 112), 864, 3, 2, 1.5, "stem", 1)
    with i18n.use("es"):
        frame = inside_charts.catalogue_frame([layer])
    assert list(frame.columns) == ["capa", "tipo", "salida", "parámetros", "campo receptivo", "salto", "bloque"]
    assert frame.iloc[0].tolist() == ["\u2003stem.conv", "Conv2d", "32×112×112", 864, 3, 2, "stem"]
