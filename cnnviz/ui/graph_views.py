"""The Model page's architecture diagram: the traced dataflow graph, blocks collapsible."""

from __future__ import annotations

import streamlit as st

from cnnviz.i18n import _, ngettext
from cnnviz.inside.graph import Graph, to_dot, trace_graph
from cnnviz.serving import cache
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
            _("Open blocks"),
            blocks,
            key=state.MODEL_EXPAND,
            placeholder=_("Blocks stay closed: pick some to see their layers"),
            help=_("Each box is a block of layers; open it to see its layers, skips (+) and branches."),
        )
    with right:
        everything = st.toggle(_("Open all"), key=state.MODEL_EXPAND_ALL, disabled=not blocks)
    merges = [n for n in graph.nodes if n.kind == "merge"]
    skips = sum(n.id.startswith("+") for n in merges)
    n_layers, n_other = len(graph.nodes) - len(merges) - 2, len(merges) - skips
    counts = _(
        "{layers}, {additions} (+: a skip connection or residual) and {others} (concatenated branches, gates)"
    ).format(
        layers=ngettext("{n} layer call", "{n} layer calls", n_layers).format(n=n_layers),
        additions=ngettext("{n} addition", "{n} additions", skips).format(n=skips),
        others=ngettext("{n} other merge", "{n} other merges", n_other).format(n=n_other),
    )
    if everything:
        shown = _("every block open")
    elif chosen:
        shown = _("blocks {names} open").format(names=", ".join(chosen))
    else:
        shown = _("blocks closed")
    with st.container(height=520):
        st.graphviz_chart(
            to_dot(graph, None if everything else set(chosen)),
            width="content",
            alt=ngettext(
                "Architecture diagram, top to bottom, {shown}, of {n} block: {counts}.",
                "Architecture diagram, top to bottom, {shown}, of {n} blocks: {counts}.",
                len(blocks),
            ).format(shown=shown, n=len(blocks), counts=counts),
        )
    st.caption(_("Drawn from one traced forward pass: {counts}.").format(counts=counts))
