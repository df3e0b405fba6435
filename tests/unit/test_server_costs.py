"""What each interaction costs the server: photos sent small, big decodes one at a time, the shared photo made from the decoded image (issue 17)."""

import io
import os
import threading

import numpy as np
import pytest
from PIL import Image

from cnnviz import render
from cnnviz.inputs.images import decode_image, header_size, load_sample
from cnnviz.serving import lanes
from cnnviz.serving.sharing import SharedImages


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return 10 * np.log10(255**2 / mse)


def test_photo_bytes_is_a_close_jpeg_a_third_of_streamlits():
    img = load_sample("coffee").convert("RGB")
    data = render.photo_bytes(img)
    back = Image.open(io.BytesIO(data))
    assert back.format == "JPEG" and back.size == img.size
    assert _psnr(np.asarray(back.convert("RGB")), np.asarray(img)) > 32  # no visible loss
    q100 = io.BytesIO()
    img.save(q100, format="JPEG", quality=100)  # what st.image makes of a PIL image
    assert len(data) < len(q100.getvalue()) / 2


def test_photo_bytes_keeps_small_pictures_crisp_and_shrinks_big_ones():
    digit = Image.fromarray((np.arange(28 * 28).reshape(28, 28) % 2 * 255).astype(np.uint8))
    small = Image.open(io.BytesIO(render.photo_bytes(digit)))
    assert small.format == "PNG" and np.array_equal(np.asarray(small), np.asarray(digit))
    big = Image.open(io.BytesIO(render.photo_bytes(Image.new("RGB", (3000, 1500), "orange"), largest=1280)))
    assert big.size == (1280, 640)


def test_big_jobs_run_one_at_a_time_on_one_thread_and_return_or_raise():
    import time

    here = threading.get_ident()
    assert lanes.one_at_a_time(threading.get_ident) != here
    spans = []

    def job():
        start = time.perf_counter()
        time.sleep(0.05)
        spans.append((start, time.perf_counter()))
        return threading.get_ident()

    threads = [threading.Thread(target=lanes.one_at_a_time, args=(job,)) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    spans.sort()
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))  # never two at once
    with pytest.raises(ZeroDivisionError):
        lanes.one_at_a_time(divmod, 1, 0)


def _png(w: int, h: int) -> bytes:
    rng = np.random.default_rng(0)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def test_decode_upload_sends_big_images_to_the_big_jobs_worker(monkeypatch):
    seen = []
    monkeypatch.setattr(lanes, "one_at_a_time", lambda fn, *a, **k: seen.append(a) or fn(*a, **k))
    monkeypatch.setattr(lanes, "HEAVY_PIXELS", 300 * 200)
    small, big = _png(300, 200), _png(301, 200)
    assert header_size(big) == (301, 200) and header_size(b"not an image") is None
    assert np.array_equal(np.asarray(lanes.decode_upload(small)), np.asarray(decode_image(small)))
    assert seen == []
    assert np.array_equal(np.asarray(lanes.decode_upload(big, "b.png")), np.asarray(decode_image(big)))
    assert len(seen) == 1


def test_shared_photo_from_the_decoded_image_equals_from_the_bytes(tmp_path):
    store = SharedImages(tmp_path)
    data = _png(120, 90)
    digest = store.put(decode_image(data))
    assert digest == store.put(data)
    assert np.array_equal(np.asarray(decode_image(store.get(digest))), np.asarray(decode_image(data)))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="Linux's /proc")
def test_nodelay_reaches_the_listening_socket_and_what_it_accepts_later():
    import socket

    from cnnviz.ui.process import nodelay_on_tcp_sockets

    listener = socket.socket(socket.AF_INET)  # as Streamlit binds it: no protocol named
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    with listener:
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        assert nodelay_on_tcp_sockets() >= 1
        assert listener.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        with socket.create_connection(listener.getsockname()):
            accepted, _ = listener.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


def test_feature_grid_picture_is_the_outlined_grid_in_a_third_of_the_bytes():
    from cnnviz.inside import featuremaps as fm

    rng = np.random.default_rng(1)
    maps = np.abs(rng.standard_normal((1280, 7, 7))).astype(np.float32)  # EfficientNet-Lite0's head.act
    g = fm.feature_grid(maps)
    ch = int(g.order[5])
    pic = g.picture(ch)
    assert pic.mode == "P" and np.array_equal(np.asarray(pic.convert("RGB")), g.outlined(ch))
    assert len(render.to_png(pic)) < len(render.to_png(g.outlined(ch))) / 2
    lut = render.colormap_lut(fm.SEQUENTIAL)
    assert [tuple(render.palette(fm.SEQUENTIAL)[render.levels(np.array([v]))[0]]) for v in (0, 0.5, 0.75, 1)] == [
        tuple(lut[i]) for i in (0, 128, 191, 255)
    ]
