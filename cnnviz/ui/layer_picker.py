"""A reusable layer picker: a block, then a layer inside it, both in forward order."""

from __future__ import annotations

from collections.abc import Iterable

import streamlit as st

from cnnviz.i18n import _
from cnnviz.inside.catalogue import MAP_KINDS, LayerInfo


def _shape(layer: LayerInfo) -> str:
    return "×".join(str(s) for s in layer.out_shape)


def _outputs_after_layers(names: list[str], by_name: dict[str, LayerInfo]) -> list[str]:
    """Reorder so a container's output follows its own layers (the order outputs appear in)."""

    def end(i: int) -> tuple[int, int, int]:
        path = by_name[names[i]].path + "."
        inner = [j for j in range(i + 1, len(names)) if by_name[names[j]].path.startswith(path)]
        return (inner[-1], 1, -i) if inner else (i, 0, 0)  # outer blocks end last

    return [names[i] for i in sorted(range(len(names)), key=end)]


def layer_select(
    label: str,
    layers: list[LayerInfo],
    key: str,
    *,
    kinds: Iterable[str] = MAP_KINDS,
    spatial: bool = True,
    default: str | None = None,
) -> LayerInfo:
    """Two selectboxes (block, then layer) over ``layers`` of the given kinds; the chosen LayerInfo.

    ``layers``: a layer catalogue. ``key``: the layer widget's key (the block widget uses
    ``key + "_block"``). ``default``: a layer name to start on (else the first offered).
    Values left over from another model are reset, so switching models never errors.
    """
    kinds = set(kinds)
    offered = [la for la in layers if la.kind in kinds and (la.spatial or not spatial)]
    if not offered:
        st.warning(_("This model has no layers of this kind."))
        st.stop()
    by_name = {la.name: la for la in offered}
    groups: dict[str, list[str]] = {}
    for la in offered:
        groups.setdefault(la.group, []).append(la.name)
    for g, names in groups.items():
        groups[g] = _outputs_after_layers(names, by_name)
    bkey = key + "_block"
    if st.session_state.get(key) not in by_name:
        start = by_name.get(default or "", offered[0])
        st.session_state[key] = start.name
        st.session_state[bkey] = start.group
    if st.session_state.get(bkey) not in groups:
        st.session_state[bkey] = by_name[st.session_state[key]].group

    left, right = st.columns([1, 2])
    with left:
        block = st.selectbox(
            _("{label}: block").format(label=label),
            list(groups),
            key=bkey,
            on_change=_on_block,
            args=(key, bkey, {g: names[0] for g, names in groups.items()}),
            format_func={g: _("top level") if g == "model" else g for g in groups}.get,
            help=_("Blocks in the order the image flows through them."),
        )
    if st.session_state[key] not in groups[block]:
        st.session_state[key] = groups[block][0]
    prefix = block + "."
    titles = {}
    for n in groups[block]:
        la = by_name[n]
        short = n[len(prefix) :] if n.startswith(prefix) else (_("block output") if la.path == block else n)
        titles[n] = f"{short} — {la.type}, {_shape(la)}"
    with right:
        name = st.selectbox(label, groups[block], key=key, format_func=titles.get)
    return by_name[name]


def _on_block(key: str, bkey: str, first_layers: dict[str, str]) -> None:
    """A new block starts on its first layer. Module-level with plain-data arguments: Streamlit
    keeps a widget's callback after the run, and a closure would keep that run's locals."""
    st.session_state[key] = first_layers[st.session_state[bkey]]
