"""The explain group's words and numbers in Spanish and German: what the pages build from the catalogue."""

from __future__ import annotations

import pytest

from cnnviz import hotspots as hs
from cnnviz import i18n
from cnnviz.explain import METHODS, Completeness, get_method
from cnnviz.explain.core import ExplainError, check_target
from cnnviz.inside.featuremaps import STAT_LABELS
from cnnviz.inside.filters import filter_hotspots
from cnnviz.ui.channel_views import short_number
from cnnviz.ui.explain_views import joined


def test_integrated_gradients_check_reads_with_the_language_s_numbers():
    c = Completeness(total=1.234, change=1.2, steps=17)  # gap (1.234 - 1.2) / 1.2 = 2.83 %
    assert c.sentence(0.05) == (
        "The attributions add up to 1.23 and the score changed by 1.20 from the black picture to yours: "
        "they agree within 2.8% (17 steps)."
    )
    with i18n.use("de"):
        text = c.sentence(0.05)
    assert "1,23" in text and "1,20" in text and "2,8\xa0%" in text and "17 Schritte" in text
    with i18n.use("es"):
        off = Completeness(total=0.9, change=1.2, steps=65).sentence(0.05)  # (0.9 - 1.2) / 1.2 = -25 %
    assert "0,90" in off and "1,20" in off and "-25\xa0%" in off and "65 pasos" in off


def test_an_over_sum_keeps_its_plus_sign_in_every_language():
    c = Completeness(total=1.9, change=1.2, steps=17)  # +58.3 %
    assert "off by +58%" in c.sentence(0.05)
    with i18n.use("de"):
        assert "um +58\xa0% ab" in c.sentence(0.05)


@pytest.mark.parametrize(("lang", "expected"), [("en", "3.06"), ("de", "3,06"), ("es", "3,06")])
def test_short_numbers_keep_3_significant_digits_with_the_language_s_decimal_sign(lang, expected):
    with i18n.use(lang):
        assert short_number(3.0625) == expected
        assert short_number(6.0) == "6"
        assert short_number(0.000123456).replace(",", ".") == "0.000123"
        assert short_number(0.42, 2) == expected.replace("3", "0").replace("06", "42")


def test_method_names_stay_and_descriptive_ones_are_translated():
    with i18n.use("de"):
        titles = {k: i18n._(m.title) for k, m in METHODS.items()}
    assert titles["gradcam"] == "Grad-CAM" and titles["ig"] == "Integrated Gradients"
    assert titles["occlusion"] == "Verdeckung" and titles["saliency"] == "Salienz"
    with i18n.use("es"):
        assert i18n._(METHODS["occlusion"].title) == "Oclusión"
    assert METHODS["occlusion"].title == "Occlusion"  # the registry itself stays English (the CLI's)


def test_errors_are_written_in_the_reader_s_language():
    with (
        i18n.use("es"),
        pytest.raises(ExplainError, match="La clase 1000 no existe: este modelo tiene clases de 0 a 999"),
    ):
        check_target(1000, 1000)
    with pytest.raises(ExplainError, match="Class index 1000 does not exist: this model has classes 0 to 999"):
        check_target(1000, 1000)
    with i18n.use("de"), pytest.raises(ExplainError, match="Unbekannte Methode 'nope'"):
        get_method("nope")


def test_keyboard_hotspot_labels_follow_the_language():
    with i18n.use("de"):
        assert hs.units(3, 4, 10).label(5) == "Einheit (1, 1)"
        assert hs.units(3, 4, 10, "pixel").label(7) == "Pixel (1, 3)"
        assert hs.Grid(2, 2, (5, 5)).label(3) == "Zeile 1, Spalte 1"
        assert filter_hotspots((8, 3, 3, 3)).label(6) == "Filter 6"
    with i18n.use("es"):
        assert hs.units(3, 4, 10).spec()["template"] == "unidad ({row}, {col})"
        assert hs.Grid(2, 2, (5, 5)).spec()["template"] == "fila {row}, columna {col}"
    assert hs.units(3, 4, 10, "cell").label(0) == "cell (0, 0)"  # other words pass through


def test_lists_and_statistics_in_a_sentence():
    assert joined(["Integrated Gradients", "Occlusion"]) == "Integrated Gradients and Occlusion"
    assert joined(["A", "B", "C"]) == "A, B and C" and joined(["A"]) == "A"
    with i18n.use("es"):
        assert joined(["Integrated Gradients", "Oclusión"]) == "Integrated Gradients y Oclusión"
    with i18n.use("de"):
        assert [i18n._(v) for v in STAT_LABELS.values()] == [
            "Minimum",
            "Maximum",
            "Mittelwert",
            "Std.-Abw.",
            "% positiv",
        ]
