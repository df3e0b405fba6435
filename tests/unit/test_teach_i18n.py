"""The convolution, pooling and activation pages' words and numbers in the reader's language.

Numbers a student reads follow the language (0,50 in German, 0.50 in English); names that
are keys (kernel presets, activation functions: a link's kernel= and function=) stay English
while their display is translated.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from torch import nn

from cnnviz import i18n
from cnnviz.errors import CnnvizError
from cnnviz.teaching import activations as act
from cnnviz.teaching import convolution as cv
from cnnviz.teaching import pooling as pl
from cnnviz.ui import widgets


def _cells(html: str) -> list[str]:
    return re.findall(r"<td[^>]*>([^<]*)</td>", html)


def test_number_grid_cells_use_the_languages_decimal_sign():
    arr = np.array([[0.5, -1.25], [3.14159, 0.0]], dtype=np.float32)
    with i18n.use("de"):
        assert _cells(widgets.num_grid(arr)) == ["0,50", "-1,25", "3,14", "0,00"]
        assert _cells(widgets.num_grid(arr, fmt="{:.4f}")) == ["0,5000", "-1,2500", "3,1416", "0,0000"]
        assert _cells(widgets.num_grid(arr, digits=1)) == ["0,5", "-1,2", "3,1", "0,0"]  # round half even
    assert _cells(widgets.num_grid(arr)) == ["0.50", "-1.25", "3.14", "0.00"]  # English as before


def test_short_and_scientific_numbers_follow_the_language():
    # the English results are what f"{x:g}" and f"{x:.1e}" gave before the pages were translated
    assert [i18n.short(x) for x in (1.0, 0.5, 2.25, 0.1)] == [f"{x:g}" for x in (1.0, 0.5, 2.25, 0.1)]
    assert i18n.scientific(2.4e-06) == f"{2.4e-06:.1e}" == "2.4e-06"
    with i18n.use("de"):
        assert [i18n.short(x) for x in (1.0, 0.5, 2.25)] == ["1", "0,5", "2,25"]
        assert i18n.scientific(2.4e-06) == "2,4e-06"
    with i18n.use("es"):
        assert i18n.short(0.5) == "0,5"


def test_pooling_layer_described_in_the_readers_language():
    m = nn.MaxPool2d(3, stride=2, padding=1)
    assert pl.describe(m) == "MaxPool2d 3×3, stride 2, padding 1"
    with i18n.use("de"):
        assert pl.describe(m) == "MaxPool2d 3×3, Schrittweite 2, Rand 1"
    with i18n.use("es"):
        assert pl.describe(m) == "MaxPool2d 3×3, paso 2, relleno 1"
        assert pl.describe(nn.AdaptiveAvgPool2d(1)).startswith("AdaptiveAvgPool2d a 1 (una ventana por celda")


def test_kernel_and_function_names_stay_keys_and_are_shown_translated():
    with i18n.use("de"):
        # the link's values do not change with the language
        assert "edge (Laplacian)" in cv.PRESETS and "leaky ReLU" in act.FUNCTIONS
        np.testing.assert_array_equal(cv.preset("Sobel x"), [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]])
        assert i18n._("edge (Laplacian)") == "Kanten (Laplace)"
        assert i18n._(cv.PRESET_HELP["Sobel y"]) == "unten minus oben: reagiert auf waagerechte Kanten."
        assert i18n._("sigmoid") == "Sigmoid"
    with i18n.use("es"):
        assert i18n._("box blur") == "desenfoque de caja"


def test_errors_read_in_the_readers_language_and_english_without_one():
    with i18n.use("es"), pytest.raises(CnnvizError, match=r"^No existe el kernel predefinido 'blur'; elige uno"):
        cv.preset("blur")
    with i18n.use("de"), pytest.raises(CnnvizError, match=r"^Die Temperatur muss größer als 0 sein\.$"):
        act.softmax(np.zeros(3), 0.0)
    # no language chosen (the CLI): English, word for word as before
    with pytest.raises(CnnvizError, match=r"^A 5×5 window does not fit in 3 pixels with padding 0; use a smaller"):
        cv.output_size(3, 5)


def test_softmax_table_names_a_class_without_a_name_in_the_language():
    logits = np.array([0.0, 3.0, 1.0], dtype=np.float32)
    with i18n.use("de"):
        table = act.softmax_table(logits, 1.0, ["cat"], top=3)
    assert list(table["class"]) == ["Klasse 1", "Klasse 2", "cat"]  # only index 0 has a name
