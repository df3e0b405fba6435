"""The Convolution, Activations and Pooling pages through AppTest; numbers checked against torch."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from streamlit.testing.v1 import AppTest

from cnnviz import i18n
from cnnviz.inputs.gallery import sample_bytes
from cnnviz.inputs.images import decode_image
from cnnviz.teaching.convolution import preset, to_grey

APP = str(Path(__file__).resolve().parents[2] / "app.py")
SIDEBAR = {
    "model_name": "efficientnet_lite0",
    "weights_choice": "pretrained",
    "image_source": "Gallery",
    "gallery_choice": "grace_hopper",
}


class Page:
    """An AppTest on one page. AppTest (1.67) keeps the entry point's sidebar widgets only in the
    first run's tree, so the sidebar choices are written into session state before every run."""

    def __init__(self, page: str, **sidebar):
        self.sidebar = {**SIDEBAR, **sidebar}
        self.at = AppTest.from_file(APP, default_timeout=180)
        self.run()
        self.at.switch_page(page)
        self.run()

    def run(self) -> AppTest:
        for k, v in self.sidebar.items():
            self.at.session_state[k] = v
        self.at.run()
        assert not self.at.exception, self.at.exception
        assert not self.at.error, [e.value for e in self.at.error]
        return self.at

    def text(self) -> str:
        return "\n".join(m.value for m in self.at.markdown)

    def number(self, pattern: str) -> float:
        m = re.search(pattern, self.text())
        assert m, f"{pattern!r} not in page"
        return float(m.group(1))


@pytest.fixture(scope="module")
def photo():
    return decode_image(sample_bytes("grace_hopper"), name="g.jpg")


@pytest.fixture(scope="module")
def crop(photo):
    """The 224×224 crop the default model sees of the default photo."""
    from cnnviz.models.zoo import get_info

    return get_info("efficientnet_lite0").preprocess.crop(photo)


def test_convolution_page_traces_one_pixel(crop):
    p = Page("pages/convolution.py")
    assert "⌊(224 − 3 + 2×1) / 1⌋ + 1 = 224" in p.text()
    row, col = (int(v) for v in re.search(r"output pixel \(row (\d+), column (\d+)\)", p.text()).groups())
    shown = p.number(r"output pixel \(row \d+, column \d+\) is \*\*(-?[\d.]+)\*\*")
    grey = torch.from_numpy(to_grey(crop))[None, None]
    laplace = torch.from_numpy(preset("edge (Laplacian)"))[None, None]
    want = F.conv2d(grey, laplace, padding=1)[0, 0, row, col].item()
    assert shown == pytest.approx(want, abs=0.006)
    # the model's stem filter reproduced by hand
    assert p.number(r"Largest difference between the two maps: \*\*([\d.e+-]+)\*\*") < 1e-4


def test_convolution_controls(crop):
    p = Page("pages/convolution.py")
    p.at.selectbox(key="conv_preset").set_value("Sobel x")
    p.at.slider(key="conv_stride").set_value(2)
    p.at.slider(key="conv_padding").set_value(0)
    p.run()
    assert "⌊(224 − 3 + 2×0) / 2⌋ + 1 = 111" in p.text()
    p.at.slider(key="conv_pos").set_value(16)
    p.run()
    row, col = (int(v) for v in re.search(r"output pixel \(row (\d+), column (\d+)\)", p.text()).groups())
    shown = p.number(r"output pixel \(row \d+, column \d+\) is \*\*(-?[\d.]+)\*\*")
    grey = torch.from_numpy(to_grey(crop))[None, None]
    want = F.conv2d(grey, torch.from_numpy(preset("Sobel x"))[None, None], stride=2)[0, 0, row, col].item()
    assert shown == pytest.approx(want, abs=0.006)
    p.at.radio(key="conv_size").set_value(5)
    p.at.radio(key="conv_colour").set_value("each colour")
    p.at.slider(key="conv_filter").set_value(9)
    p.run()
    assert "Add the 25 products" in p.text()
    assert p.number(r"Largest difference between the two maps: \*\*([\d.e+-]+)\*\*") < 1e-4


def test_convolution_stride_keeps_the_stepped_window_in_place():
    p = Page("pages/convolution.py")
    where = r"output pixel \(row (\d+), column (\d+)\)"
    row, col = (int(v) for v in re.search(where, p.text()).groups())
    assert (row, col) == (110, 110)  # the default patch, in the middle of the 224×224 output
    p.at.slider(key="conv_stride").set_value(2)
    p.at.toggle(key="conv_fixed_scale").set_value(True)
    p.run()
    # stride 2, padding 1: output (r, c) is centred on input (2r, 2c), so (110, 110) → (55, 55)
    assert tuple(int(v) for v in re.search(where, p.text()).groups()) == (55, 55)
    assert "*edge (Laplacian)*" in "\n".join(c.value for c in p.at.caption)
    assert any(b.label == "Download PNG" for b in p.at.get("download_button"))


def test_activations_page(effnet, photo):
    from cnnviz.teaching.pooling import layer_io

    p = Page("pages/activations.py")
    before, _ = layer_io(effnet, effnet.preprocess(photo), "stem.act")  # what reaches the first activation
    ch = p.at.slider(key="act_channel").value
    assert abs((before[ch] < 0).mean() - 0.5) == pytest.approx(np.abs((before < 0).mean(axis=(1, 2)) - 0.5).min())
    zeroed = float((torch.relu(torch.from_numpy(before[ch])) == 0).float().mean())
    metric = {m.label: m.value for m in p.at.metric}
    assert metric["Exactly zero after"] == f"{zeroed:.1%}"
    h1 = p.number(r"entropy\): \*\*([\d.]+) bits\*\*")
    p.at.radio(key="act_fn").set_value("sigmoid")
    p.at.slider(key="act_temperature").set_value(0.3)
    p.run()
    lo, hi = (
        float(v)
        for v in re.search(r"(-?[\d.]+) … (-?[\d.]+)", {m.label: m.value for m in p.at.metric}["Range after"]).groups()
    )
    assert 0.0 <= lo <= hi <= 1.0
    assert p.number(r"entropy\): \*\*([\d.]+) bits\*\*") < h1  # a low temperature sharpens
    p.at.radio(key="act_source").set_value("edge")
    p.run()


def test_pooling_page(effnet, photo):
    from cnnviz.inside.capture import capture

    p = Page("pages/pooling.py")
    assert "112×112 → 56×56" in p.text()
    head = capture(effnet, effnet.preprocess(photo), ["head.act"])["head.act"]  # (1280, 7, 7)
    mean = p.number(r"The mean of these 49 numbers = \*\*(-?[\d.]+)\*\*")
    assert mean == pytest.approx(F.adaptive_avg_pool2d(torch.from_numpy(head[:1]), 1).item(), abs=0.006)
    assert "1280 numbers" in p.text()
    p.at.select_slider(key="pool_kernel").set_value(3)
    p.at.select_slider(key="pool_stride").set_value(3)
    p.at.radio(key="pool_source").set_value("image")
    p.run()
    assert "224×224 → 74×74" in p.text()


def test_pooling_page_maxpool_model():
    p = Page("pages/pooling.py", model_name="resnet18", weights_choice="random")
    assert not p.at.info
    assert any("maxpool" in o for o in p.at.selectbox(key="pool_net_layer").options)
    assert "Input **64×112×112**" in p.text() and "64×56×56" in p.text()


def _decimal_comma(text: str) -> float:
    """A number as es and de write it ("-1,25", "12.544,5") as a float."""
    return float(text.replace(".", "").replace(",", "."))


def test_convolution_page_in_german_keeps_the_kernel_key_and_writes_decimal_commas(crop):
    # i18n.use: AppTest formats the widgets' values in the test's own thread to send them back
    with i18n.use("de"):
        p = Page("pages/convolution.py", ui_lang="de")
        preset_box = p.at.selectbox(key="conv_preset")
        # the value is the link's kernel= (English); only what the menu shows is German
        assert preset_box.value == "edge (Laplacian)" and "Kanten (Laplace)" in preset_box.options
        assert "*Kanten (Laplace)*" in "\n".join(c.value for c in p.at.caption)
        preset_box.set_value("Sobel x")
        p.run()
    where = r"Ausgabepixel \(Zeile (\d+), Spalte (\d+)\) ist \*\*(-?[\d,]+)\*\*"
    row, col, shown = re.search(where, p.text()).groups()
    grey = torch.from_numpy(to_grey(crop))[None, None]
    want = F.conv2d(grey, torch.from_numpy(preset("Sobel x"))[None, None], padding=1)[0, 0, int(row), int(col)].item()
    assert _decimal_comma(shown) == pytest.approx(want, abs=0.006)
    assert "Addiere die 9 Produkte" in p.text() and "Output size" not in p.text()


def test_activations_and_pooling_pages_in_spanish(effnet, photo):
    from cnnviz.teaching.pooling import layer_io

    with i18n.use("es"):
        p = Page("pages/activations.py", ui_lang="es")
        before, _ = layer_io(effnet, effnet.preprocess(photo), "stem.act")
        ch = p.at.slider(key="act_channel").value
        zeroed = float((torch.relu(torch.from_numpy(before[ch])) == 0).float().mean())
        metric = {m.label: m.value for m in p.at.metric}
        # 47,9 % as Spanish writes a percentage: decimal comma, a no-break space before the sign
        assert metric["Cero exacto después"] == f"{zeroed:.1%}".replace(".", ",").replace("%", "\xa0%")
        assert p.at.radio(key="act_fn").value == "ReLU" and "sigmoide" in p.at.radio(key="act_fn").options
        p.at.radio(key="act_fn").set_value("sigmoid")
        p.run()
        assert p.at.radio(key="act_fn").value == "sigmoid"  # the link's function= stays English
        assert re.search(r"\*\*\d+,\d\d bits\*\* con T = 1 ", p.text())

        p = Page("pages/pooling.py", ui_lang="es")
    # 112 × 112 = 12544 numbers become 56 × 56 = 3136: 25 %, grouped with a point as i18n.number does
    assert "Los 12.544 números se quedan en 3.136 (25\xa0%)." in p.text()
