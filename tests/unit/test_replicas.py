"""LoadedModel replicas: concurrent use() calls run on different copies, nested use() in one
thread gets the same copy, and every copy computes what the original does."""

from __future__ import annotations

import threading

import torch

from cnnviz.zoo import load_model


def test_replicas_serve_threads_at_once_and_nest():
    lm = load_model("resnet18", "random", device="cpu")
    lm.add_replicas(1)
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        ref = lm.model(x)
    held, inside, results = [], threading.Barrier(2, timeout=30), {}

    def work(i: int) -> None:
        with lm.use() as model:
            with lm.use() as again:  # re-entrant: the same copy
                assert again is model
            held.append(model)
            inside.wait()  # both threads hold a copy at the same time
            with torch.inference_mode():
                results[i] = model(x)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(held) == 2 and held[0] is not held[1]
    assert lm.model in held  # the original is one of the copies in use
    for out in results.values():
        assert torch.equal(out, ref)
    assert all(not p.requires_grad for m in held for p in m.parameters())
    with lm.use() as a, lm.use() as b:  # back in the pool, reusable
        assert a is b
