"""The Model page's architecture diagram: the traced dataflow graph, blocks collapsible."""

from __future__ import annotations

import streamlit as st

from cnnviz import cache
from cnnviz.graph import Graph, to_dot, trace_graph
from cnnviz.ui import loaders, state


def _trace(name: str, weights: str) -> Graph:
    lm = loaders.cached_model(name, weights)
    spec = lm.preprocess_spec
    with lm.use() as model:
        return trace_graph(model, (1, spec.channels, spec.size, spec.size))


def cached_graph(name: str, weights: str) -> Graph:
    """The model's dataflow graph (one traced pass per model, shared by every session)."""
    key = ("graph", name, weights, loaders.model_version(name, weights))
    return cache.RESULTS.get_or_compute(key, lambda: _trace(name, weights))


def architecture(name: str, weights: str) -> None:
    """Blocks to expand (or all), and the graph drawn by the browser (Graphviz), scrolling inside
    a frame of fixed height."""
    graph = cached_graph(name, weights)
    blocks = graph.blocks()
    if st.session_state.get(state.MODEL_EXPAND) is not None:  # another model's blocks are not offered
        st.session_state[state.MODEL_EXPAND] = [b for b in st.session_state[state.MODEL_EXPAND] if b in blocks]
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    with left:
        chosen = st.multiselect(
            "Open blocks",
            blocks,
            key=state.MODEL_EXPAND,
            placeholder="Blocks stay closed: pick some to see their layers",
            help="Each box is a block of layers; open it to see its layers, skips (+) and branches.",
        )
    with right:
        everything = st.toggle("Open all", key=state.MODEL_EXPAND_ALL, disabled=not blocks)
    merges = [n for n in graph.nodes if n.kind == "merge"]
    skips = sum(n.id.startswith("+") for n in merges)
    counts = (
        f"{len(graph.nodes) - len(merges) - 2} layer calls, "
        f"{skips} additions (+: a skip connection or residual) and {len(merges) - skips} other merges "
        "(concatenated branches, gates)"
    )
    shown = "every block open" if everything else (f"blocks {', '.join(chosen)} open" if chosen else "blocks closed")
    with st.container(height=520):
        st.graphviz_chart(
            to_dot(graph, None if everything else set(chosen)),
            width="content",
            alt=f"Architecture diagram, top to bottom, {shown}, of {len(blocks)} blocks: {counts}.",
        )
    st.caption(f"Drawn from one traced forward pass: {counts}.")
