"""Model: every layer with its output shape, parameters and receptive field."""

import streamlit as st

from cnnviz.i18n import _, ngettext, number, pgettext
from cnnviz.inside.catalogue import MAP_KINDS
from cnnviz.ui import links, loaders, present, state
from cnnviz.ui.graph_views import architecture
from cnnviz.ui.inside_charts import catalogue_frame, rf_chart

# the table's filter offers the catalogue's kinds (its values: keys) by their short names
KINDS = ("conv", "norm", "act", "pool", "linear", "block", "other")


def kind_name(kind: str) -> str:
    """A layer kind's short name in the reader's language."""
    return {
        "conv": pgettext("layer kind", "conv"),
        "norm": pgettext("layer kind", "norm"),
        "act": pgettext("layer kind", "act"),
        "pool": pgettext("layer kind", "pool"),
        "linear": pgettext("layer kind", "linear"),
        "block": pgettext("layer kind", "block"),
        "other": pgettext("layer kind", "other"),
    }[kind]


links.page()
st.title(_("The model, layer by layer"))
lm = loaders.current_model()
name, weights = loaders.model_key()
layers = loaders.cached_catalogue(name, weights)
spec = lm.preprocess_spec

total = sum(p.numel() for p in lm.model.parameters())
convs = [la for la in layers if la.kind == "conv"]
last = convs[-1] if convs else max(layers, key=lambda la: la.rf)
a, b, c, d = st.columns(4)
a.metric(_("Parameters"), _("{n} M").format(n=number(total / 1e6, 2)) if total >= 1e5 else number(total, 0))
b.metric(_("Convolution layers"), len(convs))
c.metric(_("Input"), f"{spec.channels}×{spec.size}×{spec.size}")
d.metric(
    _("Last conv sees"),
    _("{rf}×{rf} px").format(rf=last.rf),
    help=_("Receptive field of the last convolution layer"),
)

st.header(_("The architecture"))
architecture(name, weights)

st.header(_("Every layer"))
kinds = st.multiselect(
    _("Show"),
    list(KINDS),
    default=[*MAP_KINDS, "norm", "linear"],
    key=state.MODEL_KINDS,
    format_func=kind_name,
    help=_("conv: convolutions · norm: batch norm · act: activations · block: groups of layers"),
)
shown = [la for la in layers if la.kind in kinds]
st.dataframe(
    catalogue_frame(shown),
    hide_index=True,
    width="stretch",
    height=420,
    column_config={"params": st.column_config.NumberColumn(format="localized")},
    alt=_("Every layer of {model}: type, output shape, parameters, receptive field, jump and block").format(
        model=lm.title
    ),
)
st.caption(
    ngettext(
        "{shown} of {n} layer call · a module that runs twice (ResNet's relu) is listed twice: name, name#2.",
        "{shown} of {n} layer calls · a module that runs twice (ResNet's relu) is listed twice: name, name#2.",
        len(layers),
    ).format(shown=len(shown), n=len(layers))
)

st.header(_("How far each layer sees"))
st.altair_chart(present.chart(rf_chart(layers, spec.size)), width="stretch")
st.caption(
    _(
        "The dashed line is the input size ({size} px): beyond it, a unit sees the whole picture "
        "(and some zero padding)."
    ).format(size=spec.size)
)

with st.expander(_("What am I looking at?")):
    st.markdown(
        _("""
Every row is one layer as the image flows through the network, indented inside the block that
contains it. **Output** is channels × height × width for one image. **Params** counts the weights the
layer learns (a 3×3 convolution from 64 to 128 channels has 3·3·64·128 weights plus 128 biases).

The **receptive field** is the side of the square of input pixels one output unit can depend on;
**jump** is how many input pixels apart two neighbouring units are. A 3×3 convolution widens the field
by 2 jumps; a stride-2 layer doubles the jump, so every later layer widens it faster. Where branches
meet (ResNet's skip, Inception's parallel paths) the widest branch counts. Layers after global
pooling see the whole image; squeeze-and-excitation blocks (MobileNetV3) do too.
""")
    )
