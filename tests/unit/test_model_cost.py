"""model_cost (issue 23): a model's memory with its copies is known before it is built, a
model that could not stay in the model cache is refused with a sentence before anything is
loaded, big loads wait their turn, and a load reserves its memory with the guard."""

from __future__ import annotations

import threading
import time

import pytest

from cnnviz.models import model_cost
from cnnviz.models.model_cost import ModelTooBig, estimate, load_shared
from cnnviz.serving import memguard
from cnnviz.serving.cache import SharedCache, nbytes

MB = 1 << 20


@pytest.mark.parametrize("name", ["efficientnet_lite0", "resnet18", "squeezenet1_1", "tinyvgg_mnist"])
def test_the_estimate_is_what_the_loaded_model_holds(name):
    """Against cache.nbytes of the model as the app loads it: one replica, fast copies made
    (folded BatchNorm, channels_last and oneDNN-packed conv weights)."""
    cost = estimate(name, "random")
    lm = load_shared(name, "random", replicas=1, cache=SharedCache("t", 4096 * MB))
    held = nbytes(lm)
    assert abs(cost.resident - held) <= 0.03 * held, (cost.resident / MB, held / MB)
    assert cost.peak >= cost.resident and cost.weights < cost.resident


def test_pretrained_weights_read_from_a_file_count_in_the_peak():
    random, pretrained = estimate("resnet18", "random"), estimate("resnet18", "pretrained")
    assert pretrained.resident == random.resident and pretrained.peak - random.peak == random.weights
    # ResNet-18: 11.69 M parameters (torchvision) in float32, and BatchNorm's running statistics
    assert 11_689_512 * 4 <= random.weights <= 11_689_512 * 4 + 200_000


@pytest.mark.slow
def test_vgg16_with_its_copies_fits_the_default_model_cache():
    """It took 2111 MB with deep copies, over the 2048 MB cache: dropped after every use."""
    cost = estimate("vgg16", "random")
    assert 138_357_544 * 4 <= cost.weights < 530 * MB  # torchvision's parameter count
    lm = load_shared("vgg16", "random", replicas=1, cache=SharedCache("t", 2048 * MB))
    assert nbytes(lm) == pytest.approx(cost.resident, rel=0.03)
    assert cost.resident < 700 * MB


def test_a_model_bigger_than_the_cache_is_refused_before_loading(monkeypatch):
    loads = []
    monkeypatch.setattr(model_cost, "load_model", lambda *a, **k: loads.append(a))
    small = SharedCache("models", 100 * MB)
    with pytest.raises(ModelTooBig) as e:
        load_shared("resnet18", "random", replicas=1, cache=small)
    assert not loads
    msg = str(e.value)
    assert msg.startswith("ResNet-18 (ImageNet) needs about 130 MB of memory") and "at most 100 MB" in msg
    assert "CNNVIZ_MODEL_CACHE_MB" in msg and msg.count(".") == 1


def test_a_load_makes_room_in_the_cache_and_reserves_its_peak(monkeypatch):
    cache = SharedCache("models", 200 * MB)
    cache.put("old", bytes(150 * MB))
    seen = []
    real = model_cost.load_model

    def spy(*args, **kwargs):
        seen.append((cache.bytes, memguard.in_flight_bytes()))
        return real(*args, **kwargs)

    monkeypatch.setattr(model_cost, "load_model", spy)
    load_shared("resnet18", "random", replicas=0, cache=cache)
    cost = estimate("resnet18", "random")
    assert seen[0][0] == 0  # the old entry went before the load (150 + 130 MB > 200)
    assert seen[0][1] >= cost.peak - 20 * MB  # the reservation, less what the server grew since
    assert memguard.in_flight_bytes() == 0


def test_big_loads_wait_their_turn(monkeypatch):
    """Two students asking for two big models at once: one load after the other."""
    monkeypatch.setattr(model_cost, "BIG_LOAD_BYTES", 1)  # every load is big here
    spans, real = {}, model_cost.load_model

    def slow(name, *args, **kwargs):
        t = time.monotonic()
        time.sleep(0.3)
        lm = real(name, *args, **kwargs)
        spans[name] = (t, time.monotonic())
        return lm

    monkeypatch.setattr(model_cost, "load_model", slow)
    cache = SharedCache("models", 1024 * MB)
    threads = [
        threading.Thread(target=load_shared, args=(n, "random"), kwargs={"replicas": 0, "cache": cache})
        for n in ("squeezenet1_1", "tinyvgg_mnist")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (a0, a1), (b0, b1) = spans.values()
    assert a1 <= b0 or b1 <= a0, spans  # never at once
