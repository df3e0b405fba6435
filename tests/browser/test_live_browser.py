"""The Live page in Chromium with a fake camera that plays a video made from two real photos:
its answer follows the video, Freeze makes the frame the image on Predict, and a closed tab
frees its place for a classmate (one server for the module, with room for one live stream)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from axe_playwright_python.sync_playwright import Axe
from PIL import Image

from cnnviz.inputs.gallery import sample_bytes
from cnnviz.inputs.images import decode_image
from cnnviz.inside.predict import predict
from cnnviz.models.zoo import load_model
from testing.browser import (
    LAUNCH_ARGS,
    chromium,
    goto_page,
    no_exception,
    open_app,
    start_server,
    stop_server,
    wait_idle,
)

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "live"
PHOTOS = ("coffee", "chelsea")  # a cup of coffee, then a cat: ImageNet classes far apart
SIZE, FPS, SECONDS = (320, 240), 10, 3  # each photo 3 s of the looping video


def _four_three(name: str) -> Image.Image:
    img = decode_image(sample_bytes(name))
    w, h = img.size
    cw = min(w, h * 4 // 3)
    ch = cw * 3 // 4
    return img.crop(((w - cw) // 2, (h - ch) // 2, (w - cw) // 2 + cw, (h - ch) // 2 + ch)).resize(SIZE)


def write_y4m(path: Path, pictures: list[Image.Image], frames_each: int, fps: int) -> None:
    """A YUV4MPEG2 video (4:2:0, JPEG range): each picture for ``frames_each`` frames."""
    w, h = pictures[0].size
    with path.open("wb") as f:
        f.write(f"YUV4MPEG2 W{w} H{h} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for pic in pictures:
            y, u, v = pic.convert("YCbCr").split()
            half = (w // 2, h // 2)
            planes = y.tobytes() + u.resize(half, Image.BILINEAR).tobytes() + v.resize(half, Image.BILINEAR).tobytes()
            for _ in range(frames_each):
                f.write(b"FRAME\n" + planes)


@pytest.fixture(scope="module")
def video(tmp_path_factory) -> tuple[Path, list[set[str]]]:
    """The fake camera's video, and each photo's top-3 labels by the default model (independent
    of the app: the model's own preprocessing on the picture the video shows; top-3, as the
    camera's JPEG of a YUV frame may swap close cat breeds)."""
    pics = [_four_three(n) for n in PHOTOS]
    path = tmp_path_factory.mktemp("cam") / "two_photos.y4m"
    write_y4m(path, pics, FPS * SECONDS, FPS)
    lm = load_model("efficientnet_lite0", device="cpu")
    tops = [{t.label for t in predict(lm, lm.preprocess(p), top=3).top} for p in pics]
    assert not tops[0] & tops[1]
    return path, tops


@pytest.fixture(scope="module")
def live_url(_isolated_user_models):
    proc, url = start_server({"CNNVIZ_USER_MODELS": str(_isolated_user_models), "CNNVIZ_MAX_LIVE": "1"})
    yield url
    stop_server(proc)


@pytest.fixture(scope="module")
def cam_browser(browser, video):
    b = browser.browser_type.launch(
        executable_path=chromium(),
        headless=True,
        args=[
            *LAUNCH_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={video[0]}",
        ],
    )
    yield b
    b.close()


# the parts of the camera component (in its shadow root) that pass the screen's right edge
_PAST_THE_EDGE = """() => {
  const w = document.documentElement.clientWidth, out = [];
  for (const h of document.querySelectorAll('[data-testid="stMain"] [data-testid="stBidiComponentIsolated"]'))
    for (const el of h.shadowRoot ? h.shadowRoot.querySelectorAll('*') : [])
      if (el.getBoundingClientRect().width && el.getBoundingClientRect().right > w + 1) out.push(el.tagName);
  return out;
}"""


def _tab(cam_browser, width: int = 1280, height: int = 720):
    ctx = cam_browser.new_context(viewport={"width": width, "height": height}, permissions=["camera"])
    page = ctx.new_page()
    page.set_default_timeout(90_000)
    return ctx, page


def _open_live(page, url: str) -> None:
    open_app(page, url)
    goto_page(page, "Live")
    wait_idle(page)


def _tops(page, seconds: float) -> list[str]:
    """The live top-1 label, read every 0.2 s for ``seconds``."""
    seen, end = [], time.monotonic() + seconds
    while time.monotonic() < end:
        got = page.locator("ol.top li .name").first
        if got.count():
            seen.append(got.inner_text())
        page.wait_for_timeout(200)
    return seen


@pytest.fixture(scope="module")
def live_tab(cam_browser, live_url):
    ctx, page = _tab(cam_browser)
    _open_live(page, live_url)
    page.locator("ol.top li").first.wait_for()
    yield page
    ctx.close()


def test_the_answer_follows_the_video(live_tab, video):
    page = live_tab
    seen = _tops(page, 2 * SECONDS * 2 + 1)  # two loops of the video
    # the top class changes with the video: a label of each photo's top-3 leads in turn
    assert all(set(seen) & top3 for top3 in video[1]), f"expected {video[1]} in the live answers {sorted(set(seen))}"
    speed = page.locator("p.speed").inner_text()
    fps = float(re.match(r"([\d.]+) frames/s", speed).group(1))
    assert fps > 0.5, speed
    assert page.locator("figure.gradcam img").get_attribute("alt").startswith("Grad-CAM for")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "live_1280x720.png"))
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(1500)
    page.screenshot(path=str(SHOTS / "live_390x844.png"))
    assert not page.evaluate(_PAST_THE_EDGE), "the live view is wider than a phone"
    page.locator("ol.top").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    page.screenshot(path=str(SHOTS / "live_390x844_answers.png"))
    page.set_viewport_size({"width": 1280, "height": 720})
    violations = [v for v in Axe().run(page).response["violations"] if v["impact"] in ("serious", "critical")]
    assert not violations, [(v["id"], [n["target"] for n in v["nodes"]]) for v in violations]
    no_exception(page)


def test_freeze_makes_the_frame_the_image_on_predict(live_tab, video):
    page = live_tab
    page.get_by_role("button", name="Freeze").click()
    wait_idle(page)
    page.get_by_text("Frozen: this frame is now the sidebar's image").wait_for()
    page.get_by_text("Using: live frame.jpg").wait_for()
    goto_page(page, "Predict")
    wait_idle(page)
    image = parse_qs(urlparse(page.url).query).get("image", [""])[0]
    assert re.fullmatch(r"upload:[0-9a-f]{64}", image), page.url
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert any(label in main for label in video[1][0] | video[1][1]), main[:600]
    no_exception(page)


def test_closing_the_tab_frees_the_stream(cam_browser, live_url, live_tab):
    _open_live(live_tab, live_url)  # back on Live: the one place in the class is live_tab's
    live_tab.locator("ol.top li").first.wait_for()
    ctx, other = _tab(cam_browser)  # a classmate (another browser profile: another owner)
    try:
        _open_live(other, live_url)
        other.get_by_text("all in use").first.wait_for()
        other.get_by_text("Take a still photo").first.wait_for()  # the page offers the still camera
        other.screenshot(path=str(SHOTS / "live_over_the_cap.png"))
        live_tab.context.close()  # the first student closes the tab
        start = time.monotonic()
        other.locator("ol.top li").first.wait_for(timeout=20_000)
        assert time.monotonic() - start < 15
    finally:
        ctx.close()
