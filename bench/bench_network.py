"""Network page vs Feature maps page: server time of one rerun with a warm capture.

Both pages read the same shared one-pass capture; the Network page draws the whole network
(its picture cached per model/image/options) plus the clicked channel and, for a small
model, one unit's arithmetic. Target: ≤ 1.5× the Feature maps page, for EfficientNet-Lite0
and TinyVGG. Measured with Streamlit's AppTest (the script run a server does per click,
without the browser), runs interleaved so machine noise hits both pages alike.
"""

from __future__ import annotations

from pathlib import Path

from bench import Row, interleaved, ms

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TARGET = 1.5


def _app(page: str, model: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page(page)

    def rerun() -> None:
        # AppTest (1.67) drops the sidebar's widgets after a page switch: set the choice each run
        at.session_state["model_name"] = model
        at.session_state["weights_choice"] = "pretrained"
        at.run()
        if at.exception:
            raise RuntimeError(f"{page} with {model}: {at.exception}")

    rerun()  # warm: model, capture, the page's cached pictures
    return rerun


def run() -> list[Row]:
    rows = []
    for model in ("efficientnet_lite0", "tinyvgg_mnist"):
        t = interleaved(
            {"network": _app("pages/network.py", model), "features": _app("pages/features.py", model)},
            repeat=9,
            warmup=2,
        )
        ratio = t["network"] / t["features"]
        rows.append(
            Row(
                f"Network page rerun, warm capture, {model}",
                ms(t["network"]),
                f"Feature maps {ms(t['features'])}",
                ratio,
                f"≤ {TARGET}x",
                ratio <= TARGET,
            )
        )
    return rows
