"""LoadedModel replicas: concurrent use() calls run on different copies, nested use() in one
thread gets the same copy, every copy computes what the original does, and copies share the
weights' memory."""

from __future__ import annotations

import threading

import torch

from cnnviz.models.zoo import load_model
from cnnviz.serving.cache import nbytes


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


def test_replicas_and_fast_copies_share_the_weights_memory():
    """Issue 23: VGG-16 with a replica and fast copies took 2111 MB as deep copies. A replica
    now shares every weight's storage with the model (its own Parameter objects, so its
    requires_grad and .grad stay its own); fast copies own only what they changed (BatchNorm
    folded into convs, channels_last conv weights, oneDNN-packed ones), once for all replicas."""
    lm = load_model("resnet18", "random", device="cpu")
    lm.add_replicas(1)
    lm.make_fast_copies()
    original, replica = lm._free[0], lm._free[1]
    pairs = list(zip(original.parameters(), replica.parameters(), strict=True))
    assert all(a is not b and a.data_ptr() == b.data_ptr() for a, b in pairs)
    buffers = list(zip(original.buffers(), replica.buffers(), strict=True))
    assert all(a.data_ptr() == b.data_ptr() for a, b in buffers)
    pairs[0][1].requires_grad_(True)  # a replica's flag is its own
    assert not pairs[0][0].requires_grad
    pairs[0][1].requires_grad_(False)
    fc = dict(original.named_parameters())["fc.weight"]
    fast = lm._fast[id(original)].model
    assert dict(fast.named_parameters())["fc.weight"].data_ptr() == fc.data_ptr()  # unchanged by the copy: shared
    conv1 = dict(fast.named_parameters())["conv1.weight"]  # folded with bn1: its own
    assert conv1.data_ptr() != dict(original.named_parameters())["conv1.weight"].data_ptr()
    other = lm._fast[id(replica)].model  # the replica's fast copy: its own modules, the same tensors
    assert other is not fast and all(
        a is not b and a.data_ptr() == b.data_ptr() for a, b in zip(fast.parameters(), other.parameters(), strict=True)
    )
    # what the object holds: one set of weights, plus once the fast copies' conv weights
    # (folded + channels_last, and oneDNN-packed): 4 bytes a value
    convs = sum(m.weight.numel() + m.out_channels for m in original.modules() if isinstance(m, torch.nn.Conv2d))
    weights = sum(t.numel() * t.element_size() for t in (*original.parameters(), *original.buffers()))
    got = nbytes(lm)
    assert weights + 2 * convs * 4 * 0.95 <= got <= weights + 2 * convs * 4 * 1.05, (got, weights, convs)
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        ref = original(x)
        assert torch.equal(replica(x), ref)
        assert torch.allclose(lm.fast_forward(original, x), ref, atol=1e-4)
