"""The model's real dataflow graph, traced from one forward pass, and its Graphviz picture.

Every call of a leaf module (a layer) is a node; so is every place where two or more
layers' outputs meet outside a layer (ResNet's ``out += identity``, Inception's
``torch.cat``): a *merge* node. Edges follow the tensors. Nothing is drawn by hand per
model: skip connections and branches appear because the tensors go there.

:func:`to_dot` draws it for ``st.graphviz_chart``, each block
(:func:`~cnnviz.inside.catalogue.block_of`: ResNet's ``layer1.0``, EfficientNet's
``blocks.3``, GoogLeNet's ``inception3a``) collapsed to one box unless it is expanded to
its layers.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from cnnviz.i18n import _, ngettext, pgettext
from cnnviz.inside.catalogue import block_of, layer_kind
from cnnviz.trace import Ids, OpTracer, tensors, trace

INPUT, OUTPUT = "input", "output"


@dataclass(frozen=True)
class Node:
    """One node of the dataflow graph: a layer call, a merge, the input or the output.

    Attributes:
        id: the layer's name (``path#2`` for a second call), ``+1``-style for merges (the op's
            name and a count, ``+`` for an addition), "input"/"output".
        type: the module's class name; the op's name for a merge; "input"/"output".
        kind: :func:`~cnnviz.inside.catalogue.layer_kind`, or "merge", "input", "output".
        block: the block it is drawn in ("model" for top-level layers, "" for the input and
            output).
        shape: output without the batch axis, e.g. (C, H, W).
    """

    id: str
    type: str
    kind: str
    block: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class Graph:
    """The dataflow graph of one forward pass.

    Attributes:
        nodes: the nodes in the order they ran, "input" first and "output" last.
        edges: (from id, to id) pairs, each once, in the order they were seen.
        block_types: block path -> its module's class name.
    """

    nodes: tuple[Node, ...]
    edges: tuple[tuple[str, str], ...]
    block_types: dict[str, str]

    def blocks(self) -> list[str]:
        """The blocks the nodes are drawn in.

        Returns:
            Block paths in forward order, without "model" (top-level layers) and "" (input,
            output).
        """
        seen = dict.fromkeys(n.block for n in self.nodes if n.block not in ("model", ""))
        return list(seen)


class _Tracer(OpTracer):
    """Tensor → the node that produced it; ops outside layers either pass the producer on
    (one producer: flatten, view, a functional ReLU) or become a merge node (two or more)."""

    def __init__(self, modules: dict[str, nn.Module]) -> None:
        self.modules = modules
        self.producer = Ids()
        self.nodes: list[Node] = []
        self.edges: list[tuple[str, str]] = []
        self.in_layer = 0
        self.containers: list[str] = [""]
        self.merges = 0
        self.pending = ""  # the layer being called
        self.calls: dict[str, int] = {}

    def sources(self, args) -> list[str]:
        return list(dict.fromkeys(self.producer.get(t) for t in tensors(args) if t in self.producer))

    def after(self, func, args, kwargs, out) -> None:
        if self.in_layer:
            return
        sources = self.sources(args)
        outs = tensors(out if isinstance(out, (tuple, list)) else (out,))
        if not sources or not outs:
            return
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
            self.producer[o] = node

    def enter(self, name: str, m: nn.Module, args) -> None:
        """A module's forward pre-hook."""
        leaf = next(m.children(), None) is None
        if self.in_layer:  # a module called from inside a layer is part of that layer
            self.in_layer += leaf
            return
        if not leaf:
            self.containers.append(name)
            return
        self.calls[name] = self.calls.get(name, 0) + 1
        node = name if self.calls[name] == 1 else f"{name}#{self.calls[name]}"
        self.edges += [(s, node) for s in self.sources(args)]
        self.pending = node
        self.in_layer = 1

    def exit(self, name: str, m: nn.Module, _args, output) -> None:
        """A module's forward hook."""
        if next(m.children(), None) is not None:
            if not self.in_layer and self.containers[-1] == name:
                self.containers.pop()
            return
        if self.in_layer > 1:
            self.in_layer -= 1
            return
        self.in_layer = 0
        outs = tensors(output if isinstance(output, (tuple, list)) else (output,))
        shape = tuple(outs[0].shape[1:]) if outs else ()
        self.nodes.append(Node(self.pending, type(m).__name__, layer_kind(m), block_of(self.modules, name), shape))
        for o in outs:
            self.producer[o] = self.pending


def trace_graph(model: nn.Module, input_shape: tuple[int, ...]) -> Graph:
    """The dataflow graph of one forward pass of zeros.

    The caller owns ``model`` (``with lm.use() as model``); every hook is removed on exit.

    Args:
        model: the network; the zeros go to its parameters' device.
        input_shape: the input's shape, (1, C, H, W).

    Returns:
        The :class:`Graph`: a node per leaf-module call and per merge, edges following the
        tensors, from "input" to "output".
    """
    modules = dict(model.named_modules())
    tracer = _Tracer(modules)
    x = torch.zeros(input_shape, device=next(model.parameters()).device)
    with torch.inference_mode():
        x = x.clone()
        tracer.producer[x] = INPUT
        y = trace(model, x, on=[n for n in modules if n], pre=tracer.enter, forward=tracer.exit, ops=[tracer]).output
    y = y[0] if isinstance(y, (tuple, list)) else y
    nodes = [Node(INPUT, "input", "input", "", tuple(input_shape[1:])), *tracer.nodes]
    nodes.append(Node(OUTPUT, "output", "output", "", tuple(y.shape[1:])))
    edges = [*tracer.edges]
    if y in tracer.producer:
        edges.append((tracer.producer.get(y), OUTPUT))
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
    """Graphviz DOT of a dataflow graph, for ``st.graphviz_chart``.

    Each block is one box (its type, layer count, output shape) unless it is expanded, then
    a frame around its layers. Merge nodes are small circles ("+" for an addition: a skip
    connection). Names are escaped as data, never read as DOT.

    Args:
        graph: from :func:`trace_graph`.
        expanded: the blocks drawn as their layers; None: every block expanded.
        rankdir: Graphviz's ``rankdir``: "TB" top to bottom, "LR" left to right.

    Returns:
        The DOT source (a ``digraph``).
    """
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
