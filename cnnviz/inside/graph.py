"""The model's real dataflow graph, traced from one forward pass, and its Graphviz picture.

Every call of a leaf module (a layer) is a node; so is every place where two or more
layers' outputs meet outside a layer (ResNet's ``out += identity``, Inception's
``torch.cat``): a *merge* node. Edges follow the tensors. Nothing is drawn by hand per
model: skip connections and branches appear because the tensors go there.

:func:`to_dot` draws it for ``st.graphviz_chart``, each block (``probe.block_of``: ResNet's
``layer1.0``, EfficientNet's ``blocks.3``, GoogLeNet's ``inception3a``) collapsed to one
box unless it is expanded to its layers.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from cnnviz.i18n import _, ngettext, pgettext
from cnnviz.inside.catalogue import block_of, layer_kind

INPUT, OUTPUT = "input", "output"


@dataclass(frozen=True)
class Node:
    """``id``: the layer's name (``path#2`` for a second call), ``+1``-style for merges,
    "input"/"output". ``kind``: probe.layer_kind, or "merge", "input", "output".
    ``block``: the block it is drawn in ("model" for top-level layers). ``shape``: output
    without the batch axis."""

    id: str
    type: str
    kind: str
    block: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class Graph:
    """Nodes in the order they ran, edges (from id, to id), and each block's module type."""

    nodes: tuple[Node, ...]
    edges: tuple[tuple[str, str], ...]
    block_types: dict[str, str]

    def blocks(self) -> list[str]:
        """Blocks (not "model") in forward order."""
        seen = dict.fromkeys(n.block for n in self.nodes if n.block not in ("model", ""))
        return list(seen)


def _tensors(args) -> list[torch.Tensor]:
    out = []
    for a in args:
        if isinstance(a, torch.Tensor):
            out.append(a)
        elif isinstance(a, (list, tuple)):
            out += [t for t in a if isinstance(t, torch.Tensor)]
    return out


class _Tracer(TorchFunctionMode):
    """Tensor → the node that produced it; ops outside layers either pass the producer on
    (one producer: flatten, view, a functional ReLU) or become a merge node (two or more)."""

    def __init__(self, modules: dict[str, nn.Module]) -> None:
        super().__init__()
        self.modules = modules
        self.producer: dict[int, str] = {}
        self.alive: list[torch.Tensor] = []  # keeps ids unique while the pass runs
        self.nodes: list[Node] = []
        self.edges: list[tuple[str, str]] = []
        self.in_layer = 0
        self.containers: list[str] = [""]
        self.merges = 0
        self.pending = ""  # the layer being called

    def mark(self, t: torch.Tensor, node: str) -> None:
        self.alive.append(t)
        self.producer[id(t)] = node

    def __torch_function__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        if self.in_layer:
            return out
        sources = list(dict.fromkeys(self.producer[id(t)] for t in _tensors(args) if id(t) in self.producer))
        outs = [o for o in (out if isinstance(out, (tuple, list)) else (out,)) if isinstance(o, torch.Tensor)]
        if not sources or not outs:
            return out
        if len(sources) == 1:
            node = sources[0]
        else:
            self.merges += 1
            name = getattr(func, "__name__", "op").strip("_")
            node = f"{'+' if 'add' in name else name}{self.merges}"
            container = self.containers[-1]
            block = block_of(self.modules, container) if container else "model"
            self.nodes.append(Node(node, name, "merge", block, tuple(outs[0].shape[1:])))
            self.edges += [(s, node) for s in sources]
        for o in outs:
            self.mark(o, node)
        return out


def trace_graph(model: nn.Module, input_shape: tuple[int, ...]) -> Graph:
    """The dataflow graph of one forward pass of zeros shaped ``input_shape`` (1, C, H, W).

    The caller owns ``model`` (``with lm.use() as model``); every hook is removed on exit.
    """
    modules = dict(model.named_modules())
    tracer = _Tracer(modules)
    calls: dict[str, int] = {}
    handles = []

    def pre(name: str, leaf: bool):
        def hook(_m, args):
            if tracer.in_layer:  # a module called from inside a layer is part of that layer
                tracer.in_layer += leaf
                return
            if not leaf:
                tracer.containers.append(name)
                return
            calls[name] = calls.get(name, 0) + 1
            node = name if calls[name] == 1 else f"{name}#{calls[name]}"
            for s in dict.fromkeys(tracer.producer[id(t)] for t in _tensors(args) if id(t) in tracer.producer):
                tracer.edges.append((s, node))
            tracer.pending = node
            tracer.in_layer = 1

        return hook

    def post(name: str, leaf: bool):
        def hook(m, _args, output):
            if not leaf:
                if not tracer.in_layer and tracer.containers[-1] == name:
                    tracer.containers.pop()
                return
            if tracer.in_layer > 1:
                tracer.in_layer -= 1
                return
            tracer.in_layer = 0
            outs = _tensors(output if isinstance(output, (tuple, list)) else (output,))
            shape = tuple(outs[0].shape[1:]) if outs else ()
            tracer.nodes.append(Node(tracer.pending, type(m).__name__, layer_kind(m), block_of(modules, name), shape))
            for o in outs:
                tracer.mark(o, tracer.pending)

        return hook

    try:
        for name, m in modules.items():
            if name:
                leaf = next(m.children(), None) is None
                handles.append(m.register_forward_pre_hook(pre(name, leaf)))
                handles.append(m.register_forward_hook(post(name, leaf)))
        x = torch.zeros(input_shape, device=next(model.parameters()).device)
        with torch.inference_mode():
            x = x.clone()
            tracer.mark(x, INPUT)
            with tracer:
                y = model(x)
    finally:
        for h in handles:
            h.remove()
    y = y[0] if isinstance(y, (tuple, list)) else y
    nodes = [Node(INPUT, "input", "input", "", tuple(input_shape[1:])), *tracer.nodes]
    nodes.append(Node(OUTPUT, "output", "output", "", tuple(y.shape[1:])))
    edges = [*tracer.edges]
    if id(y) in tracer.producer:
        edges.append((tracer.producer[id(y)], OUTPUT))
    block_types = {n.block: type(modules[n.block]).__name__ for n in nodes if n.block in modules}
    return Graph(tuple(nodes), tuple(dict.fromkeys(edges)), block_types)


# ------------------------------------------------------------------ drawing
_COLOURS = {
    "conv": "#dbeafe",
    "act": "#ffedd5",
    "pool": "#dcfce7",
    "norm": "#f1f5f9",
    "linear": "#ede9fe",
    "merge": "#fef08a",
    "input": "#e5e7eb",
    "output": "#e5e7eb",
    "block": "#fff7ed",
}


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape))


def _q(text: str) -> str:
    """A DOT string literal: names are data, so backslashes and quotes are escaped; a newline
    becomes DOT's line break."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(graph: Graph, expanded: set[str] | None = None, *, rankdir: str = "TB") -> str:
    """Graphviz DOT of ``graph``: each block one box (its type, layer count, output shape)
    unless named in ``expanded`` (None: every block expanded), then a frame around its layers.
    Merge nodes are small circles ("+" for an addition: a skip connection)."""
    blocks = graph.blocks()
    open_ = set(blocks) if expanded is None else set(expanded)
    members: dict[str, list[Node]] = {}
    for n in graph.nodes:
        members.setdefault(n.block, []).append(n)

    def shown(n: Node) -> str:
        return n.id if n.block in ("model", "") or n.block in open_ else f"block:{n.block}"

    def node_line(n: Node, indent: str = "  ") -> str:
        if n.kind == "merge":
            label = "+" if n.id.startswith("+") else n.type
            return (
                f"{indent}{_q(n.id)} [label={_q(label)}, shape=circle, width=0.3, fillcolor={_q(_COLOURS['merge'])}];"
            )
        if n.kind in ("input", "output"):  # the ids stay "input"/"output": edges name them
            end = pgettext("network", "input") if n.kind == "input" else pgettext("network", "output")
            label = f"{end} {_shape(n.shape)}"
        else:
            label = f"{n.id}\n{n.type} {_shape(n.shape)}"
        return f"{indent}{_q(n.id)} [label={_q(label)}, fillcolor={_q(_COLOURS.get(n.kind, '#ffffff'))}];"

    lines = [
        "digraph G {",
        f"  rankdir={rankdir}; nodesep=0.25; ranksep=0.3;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=10, height=0.3];',
        '  edge [color="#64748b", arrowsize=0.6];',
    ]
    lines += [node_line(n) for n in graph.nodes if n.block in ("model", "")]
    for i, b in enumerate(blocks):
        ns = members[b]
        kind = graph.block_types.get(b, "block")
        if b in open_:
            lines.append(f"  subgraph cluster_{i} {{")
            lines.append(f'    label={_q(f"{b} ({kind})")}; style="rounded,dashed"; color="#94a3b8"; fontsize=10;')
            lines += [node_line(n, "    ") for n in ns]
            lines.append("  }")
        else:
            merges = [n for n in ns if n.kind == "merge"]
            k = len(ns) - len(merges)
            parts = [kind, ngettext("{n} layer", "{n} layers", k).format(n=k)]
            if any(n.id.startswith("+") for n in merges):
                parts.append(_("skip +"))
            if any(not n.id.startswith("+") for n in merges):
                parts.append(_("branches"))
            label = f"{b}\n{' · '.join(parts)}\n{_shape(ns[-1].shape)}"
            lines.append(f"  {_q('block:' + b)} [label={_q(label)}, fillcolor={_q(_COLOURS['block'])}, penwidth=1.5];")
    by_id = {n.id: n for n in graph.nodes}
    drawn = dict.fromkeys((shown(by_id[a]), shown(by_id[b])) for a, b in graph.edges if a in by_id and b in by_id)
    lines += [f"  {_q(a)} -> {_q(b)};" for a, b in drawn if a != b]
    lines.append("}")
    return "\n".join(lines)
