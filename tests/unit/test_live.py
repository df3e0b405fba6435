"""The live view's core: one frame's top-5, channels and Grad-CAM equal the still pipeline on
the same pixels (and independent references: a plain forward, forward hooks, captum), the
digit models' crop, the stream registry's cap, replacement and idle timeout, and the
server-granted rate."""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
import torch
from PIL import Image

from cnnviz import render
from cnnviz.camera import live, live_http
from cnnviz.camera.live_streams import BUSY_SHARE, IDLE_S, LIVE_SHARE, YIELD_S, LiveRefused, Streams, grant_ms
from cnnviz.inputs.images import decode_image
from cnnviz.inside import network
from cnnviz.inside.capture import capture_layers
from cnnviz.inside.catalogue import catalogue, find_layer
from cnnviz.inside.featuremaps import SEQUENTIAL
from cnnviz.inside.predict import predict
from cnnviz.models.zoo import load_model


def _jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=90)
    return buf.getvalue()


@pytest.fixture(scope="module")
def frame(hopper_bytes) -> bytes:
    """A camera-sized frame as the page sends it: a 320×240 JPEG."""
    return _jpeg(decode_image(hopper_bytes).resize((320, 240)))


def test_one_frame_equals_the_still_pipeline_and_independent_references(effnet, frame):
    from captum.attr import LayerGradCam

    layer = find_layer(catalogue(effnet), "blocks.3")
    streams = Streams(cap=2)
    token = streams.register("session", "student", effnet, live.LiveSettings(layer, n=6, cam=True))
    status, body = live_http.answer(streams, token, frame)
    assert status == 200

    img = decode_image(frame)  # what the sidebar decodes once the frame is frozen
    x = effnet.preprocess(img)
    # top-5: the Predict page's function, and a plain forward of the model as built
    still = predict(effnet, x, top=5)
    assert [t["index"] for t in body["top"]] == [t.index for t in still.top]
    np.testing.assert_allclose([t["prob"] for t in body["top"]], [t.prob for t in still.top], atol=2e-4)
    with effnet.use() as model, torch.no_grad():
        probs = torch.softmax(model(x)[0], 0)
        maps = {}
        hook = dict(model.named_modules())["blocks.3"].register_forward_hook(lambda m, i, o: maps.update(o=o[0]))
        model(x)
        hook.remove()
    assert [t["index"] for t in body["top"]] == probs.topk(5).indices.tolist()
    # channels: the 6 with the largest mean |value| of the layer's output, strongest first
    ref = maps["o"].abs().mean(dim=(1, 2))
    assert body["channels"] == ref.argsort(descending=True)[:6].tolist()
    # Grad-CAM: captum's LayerGradCam on the top class at the model's default layer
    with effnet.use() as model:
        cam_ref = LayerGradCam(model, dict(model.named_modules())["head.act"]).attribute(x, target=still.top[0].index)
    f = live.analyse(effnet, img, live.LiveSettings(layer, n=6, cam=True))
    np.testing.assert_allclose(f.cam.map, torch.relu(cam_ref)[0, 0].detach().numpy(), atol=1e-5)
    assert body["cam_label"] == still.top[0].label and body["cam"].startswith("data:image/jpeg;base64,")
    # a pinned class is explained instead of the top one
    pinned = live.analyse(effnet, img, live.LiveSettings(layer, n=6, cam=True, target=281))
    assert pinned.cam.target == 281 and pinned.top == f.top
    # without Grad-CAM: Predict's top-5 and the Network page's maps (its shared capture)
    plain = live.analyse(effnet, img, live.LiveSettings(layer, n=6, cam=False))
    assert [t.index for t in plain.top] == [t.index for t in still.top] and plain.cam is None
    np.testing.assert_allclose([t.prob for t in plain.top], [t.prob for t in still.top], atol=2e-4)
    net_maps = capture_layers(effnet, x, [layer])["blocks.3"]
    assert plain.channels == f.channels == tuple(network.strongest(net_maps, 6).tolist())
    _, pic, *_ = live.channel_tiles(net_maps, 6)
    np.testing.assert_array_equal(plain.tiles, pic)


def test_tiles_use_the_network_pages_colour_scale():
    maps = np.zeros((5, 2, 2), dtype=np.float32)
    maps[1] = [[0, 1], [2, 4]]  # strongest
    maps[3] = [[0, 0], [0, 2]]
    channels, pic, cmap, vmin, vmax = live.channel_tiles(maps, 2)
    assert channels == (1, 3) and cmap == SEQUENTIAL and (vmin, vmax) == (0.0, 4.0)
    lut = render.colormap_lut(SEQUENTIAL)
    t = live.TILE_PX
    # one scale for the layer: channel 3's 2 is half of channel 1's 4 → level 128 of 256
    assert tuple(pic[t - 1, t - 1]) == tuple(lut[255])  # channel 1's bottom-right: 4 = vmax
    assert tuple(pic[t - 1, t + live.TILE_GAP + t - 1]) == tuple(lut[128])
    assert tuple(pic[0, 0]) == tuple(lut[0])
    assert pic.shape == (t, 2 * t + live.TILE_GAP, 3)


def test_digit_model_reads_a_centred_inverted_greyscale_crop():
    lm = load_model("tinyvgg_mnist", device="cpu")
    frame = Image.new("RGB", (320, 240), (230, 230, 230))  # grey paper
    frame.paste((20, 20, 20), (150, 60, 170, 180))  # a dark stroke, in the middle
    frame.paste((20, 20, 20), (0, 0, 30, 240))  # a dark edge outside the centred square
    layer = find_layer(catalogue(lm), catalogue(lm)[0].name)
    f = live.analyse(lm, frame, live.LiveSettings(layer, n=4, cam=False))
    # by hand: grey, the centred 240×240 square, white ↔ black, paper 0 and ink 255
    ink = np.zeros((240, 240), dtype=bool)
    ink[60:180, 110:130] = True  # the stroke, 40 px left of where it was in the frame
    view = np.asarray(f.view)
    assert f.view.mode == "L" and f.view.size == (240, 240)
    assert (view[~ink] == 0).all() and (view[ink] >= 250).all()  # the edge at x < 30 is cut off
    body = live_http.payload(f)  # the page shows the model's own view, 4× enlarged
    assert body["seen"].startswith("data:image/png;base64,") and "inverted" in body["seen_alt"]
    assert f.crop.size == (28, 28) and np.asarray(f.crop)[14, 14] > 200 and np.asarray(f.crop)[2, 2] == 0
    # and the still pipeline on that view gives the same answer
    still = predict(lm, lm.preprocess(f.view), top=5).top
    assert [t.index for t in f.top] == [t.index for t in still]
    np.testing.assert_allclose([t.prob for t in f.top], [t.prob for t in still], atol=1e-5)


def test_cap_one_stream_per_student_and_idle_timeout():
    now = [0.0]
    streams = Streams(cap=1, clock=lambda: now[0])
    lm = object()
    a = streams.register("s1", "ann", lm, None)
    b = streams.register("s2", "bob", lm, None)
    assert streams.register("s1", "ann", lm, None) == a  # a rerun keeps its stream
    streams.admit(a, 100)
    with pytest.raises(LiveRefused, match="1 live views are all in use"):
        streams.admit(b, 100)
    assert streams.live() == 1
    now[0] += IDLE_S + 0.1  # Ann's tab closed: no frame since
    assert streams.live() == 0
    sb = streams.admit(b, 100)
    with pytest.raises(LiveRefused):  # now Ann waits
        streams.admit(a, 100)
    streams.close(b)  # Bob's page said goodbye: the place is free at once ...
    streams.done(sb, b"frame", 0.05)  # ... also from a frame then in flight
    assert streams.live() == 0 and streams.latest("s2") is None
    streams.admit(a, 100)
    a2 = streams.register("s3", "ann", lm, None)  # Ann's second tab takes her first one's place
    streams.admit(a2, 100)
    with pytest.raises(LiveRefused, match="other tab") as e:
        streams.admit(a, 100)
    assert e.value.status == 409 and streams.live() == 1
    with pytest.raises(LiveRefused) as e:
        streams.admit("no such token", 100)
    assert e.value.status == 410
    streams.forget_session("s3")
    assert streams.live() == 0


def test_granted_rate_falls_when_busy_and_with_more_streams():
    # a frame costing 40 ms: alone and quiet, capped by the fps limit or the share
    assert grant_ms(0.040, 1, False, max_fps=20) == round(1000 * (max(0.050, 0.040 / LIVE_SHARE) - 0.040))
    assert grant_ms(0.100, 1, False, max_fps=20) == round(1000 * (0.100 / LIVE_SHARE - 0.100))
    quiet, busy = grant_ms(0.040, 1, False), grant_ms(0.040, 1, True)
    assert busy == round(1000 * (0.040 / BUSY_SHARE - 0.040)) == 120 and busy > quiet
    assert grant_ms(0.040, 4, False, max_fps=100) == round(1000 * (0.040 * 4 / LIVE_SHARE - 0.040))


def test_refusals_are_one_sentence_json(effnet):
    streams = Streams(cap=1)
    layer = find_layer(catalogue(effnet), "blocks.3")
    token = streams.register("s", "t", effnet, live.LiveSettings(layer))
    status, body = live_http.answer(streams, token, b"not an image")
    assert status == 400 and body["error"].endswith(".") and "Traceback" not in body["error"]
    status, body = live_http.answer(streams, "nope", b"x")
    assert status == 410 and "ended" in body["error"]


def test_grad_cam_layer_of_a_model_that_names_none():
    from types import SimpleNamespace

    lm = load_model("tinyvgg_mnist", device="cpu")
    layers = catalogue(lm)
    assert live.cam_layer(lm, layers) == lm.info.default_layer
    nameless = SimpleNamespace(info=SimpleNamespace(default_layer=""))
    last = network.columns(layers)[-1]
    assert live.cam_layer(nameless, layers) == last.path and last.out_shape[-1] > 1  # a map, not a vector


@pytest.mark.parametrize("name", ["resnet18", "tinyvgg_mnist"])
def test_other_models_frame_equals_their_still_pages(name, frame):
    """Any model of the zoo (random weights: offline), a digit model's view included."""
    from cnnviz.explain import explain

    lm = load_model(name, "random" if name == "resnet18" else "pretrained", device="cpu")
    layers = catalogue(lm)
    layer = find_layer(layers, live.default_layer(layers))
    f = live.analyse(
        lm, decode_image(frame), live.LiveSettings(layer, n=4, cam=True, cam_layer=live.cam_layer(lm, layers))
    )
    x = lm.preprocess(f.view)
    still = predict(lm, x, top=5).top
    assert [t.index for t in f.top] == [t.index for t in still]
    maps = capture_layers(lm, x, [layer])[layer.name]
    assert f.channels == tuple(network.strongest(maps, 4).tolist())
    e = explain(lm, x, "gradcam", layer=live.cam_layer(lm, layers))
    np.testing.assert_allclose(f.cam.map, e.map, atol=1e-6)


def test_the_class_clicks_first_and_slow_the_stream(effnet, frame):
    from cnnviz.serving import page_activity

    layer = find_layer(catalogue(effnet), "blocks.3")
    streams = Streams(cap=2)
    token = streams.register("s", "t", effnet, live.LiveSettings(layer, cam=False))
    _, quiet = live_http.answer(streams, token, frame)
    with page_activity.page_run():  # a classmate's click in flight while the next frame arrives
        t = time.perf_counter()
        _, busy = live_http.answer(streams, token, frame)
        elapsed = time.perf_counter() - t
    # the frame waited for the click, but at most YIELD_S: the live view never starves either
    assert YIELD_S <= elapsed < YIELD_S + 5
    # busy: the stream may use a quarter of a core, so it waits about 3× a frame's cost
    assert busy["next_ms"] > quiet["next_ms"] and busy["next_ms"] >= 2 * min(quiet["cpu_ms"], busy["cpu_ms"])
