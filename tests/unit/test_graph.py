"""The traced dataflow graph: skips and branches come from the tensors, not from a drawing."""

from __future__ import annotations

import torch
from torch import nn
from torchvision.models import googlenet, resnet18

from cnnviz.inside.graph import INPUT, OUTPUT, _q, to_dot, trace_graph
from cnnviz.models import small_cnn
from testing.helpers import hook_count


def _inputs(graph, node: str) -> list[str]:
    return [a for a, b in graph.edges if b == node]


def test_resnet_skips_add_the_block_input_to_its_last_batch_norm():
    model = resnet18().eval()
    g = trace_graph(model, (1, 3, 64, 64))
    adds = [n for n in g.nodes if n.kind == "merge"]
    assert len(adds) == 8 and all(n.id.startswith("+") for n in adds)  # one per BasicBlock
    by_block = {n.block: n.id for n in adds}
    assert sorted(_inputs(g, by_block["layer1.0"])) == ["layer1.0.bn2", "maxpool"]  # identity skip
    assert sorted(_inputs(g, by_block["layer1.1"])) == ["layer1.0.relu#2", "layer1.1.bn2"]
    assert sorted(_inputs(g, by_block["layer2.0"])) == ["layer2.0.bn2", "layer2.0.downsample.1"]  # projection
    assert _inputs(g, "layer2.0.downsample.0") == ["layer1.1.relu#2"]  # the skip branch starts at the block input
    assert _inputs(g, OUTPUT) == ["fc"] and _inputs(g, "conv1") == [INPUT]
    assert _inputs(g, "fc") == ["avgpool"]  # torch.flatten passes its input on
    for m in model.modules():  # every hook removed
        assert hook_count(m) == 0


def test_inception_concatenates_four_branches():
    g = trace_graph(googlenet(init_weights=False, aux_logits=False).eval(), (1, 3, 96, 96))
    cat = next(n for n in g.nodes if n.kind == "merge" and n.block == "inception3a")
    assert cat.type == "cat" and cat.shape[0] == 256
    assert sorted(b.split(".")[1] for b in _inputs(g, cat.id)) == ["branch1", "branch2", "branch3", "branch4"]


def test_collapsed_and_open_blocks():
    g = trace_graph(resnet18().eval(), (1, 3, 64, 64))
    closed = to_dot(g, set())
    assert '"maxpool" -> "block:layer1.0";' in closed
    assert '"block:layer1.0" -> "block:layer1.1";' in closed
    assert "BasicBlock · 6 layers · skip +" in closed  # conv1 bn1 relu conv2 bn2 relu#2, and the add
    assert '"+1"' not in closed
    opened = to_dot(g, {"layer1.0"})
    assert "subgraph cluster_0" in opened
    assert '"maxpool" -> "+1";' in opened and '"layer1.0.bn2" -> "+1";' in opened
    assert '"layer1.0.relu#2" -> "block:layer1.1";' in opened
    assert to_dot(g, None).count("subgraph cluster_") == 8


def test_a_small_cnn_is_a_chain():
    arch = small_cnn.preset("tinyvgg")
    g = trace_graph(small_cnn.build_model(arch, in_channels=1, num_classes=10, size=28).eval(), (1, 1, 28, 28))
    assert not [n for n in g.nodes if n.kind == "merge"]
    ids = [n.id for n in g.nodes]
    assert all(_inputs(g, b) == [a] for a, b in zip(ids, ids[1:], strict=False))  # each from the one before


def test_names_are_escaped_in_dot():
    assert _q('a"b\\c\nd') == '"a\\"b\\\\c\\nd"'
    model = nn.Sequential()
    model.add_module('x"y', nn.Conv2d(1, 2, 3))
    dot = to_dot(trace_graph(model, (1, 1, 8, 8)))
    assert '"x\\"y"' in dot and torch.is_grad_enabled()
