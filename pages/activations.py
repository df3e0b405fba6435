"""Activations: ReLU and friends on a real convolution output; softmax with a temperature on real logits."""

import numpy as np
import streamlit as st

from cnnviz import i18n, render
from cnnviz.a11y import alt_lessons
from cnnviz.i18n import _, number, percent
from cnnviz.inside.catalogue import activation_layers
from cnnviz.teaching import activations as act
from cnnviz.teaching import convolution as cv
from cnnviz.ui import chart_specs, charts, links, loaders, present, state, widgets

links.page(
    source=links.choice_param(state.ACT_SOURCE, ("network", "edge")),
    function=links.choice_param(state.ACT_FN, act.FUNCTIONS),
    slope=links.float_param(state.ACT_SLOPE, 0.01, 0.5),
    channel=links.int_param(state.ACT_CHANNEL),
    temperature=links.float_param(state.ACT_TEMP, 0.1, 5.0),
)
st.title(_("Activation functions"))
st.caption(
    _(
        "After every convolution a CNN passes each number through a simple non-linear function. "
        "Without it, a stack of layers would be no more than one big linear filter."
    )
)

lm = loaders.current_model()
layers = activation_layers(lm.model)
c1, c2, c3, c4 = st.columns([1.25, 1.25, 0.75, 0.75])
sources = ["network", "edge"] if layers else ["edge"]
source = c1.radio(
    _("Values to activate"),
    sources,
    key=state.ACT_SOURCE,
    horizontal=True,
    format_func={"network": _("the network's first layer"), "edge": _("an edge filter on your photo")}.get,
)
# the function's name is the link's function= value: only its display is translated
fn = c2.radio(_("Function"), act.FUNCTIONS, key=state.ACT_FN, horizontal=True, format_func=_)
# always enabled: a disabled slider's label is drawn too faint to read (WCAG contrast), and
# the label says which function uses it
# defaults go into the session, not beside the key: links set these values too, and a widget
# given both made Streamlit log a session-state warning on the server
st.session_state.setdefault(state.ACT_SLOPE, 0.1)
slope = c3.slider(_("Leaky slope a (leaky ReLU only)"), 0.01, 0.5, step=0.01, key=state.ACT_SLOPE)

if source == "network":
    name = layers[0]
    before_all, own_all = loaders.layer_input_output(name)  # (C, H, W): what reaches the first activation
    widgets.clamp(state.ACT_CHANNEL, 0, before_all.shape[0] - 1)
    # start on the channel closest to half negative: the clearest picture of what the function does
    st.session_state.setdefault(state.ACT_CHANNEL, int(np.argmin(np.abs((before_all < 0).mean(axis=(1, 2)) - 0.5))))
    # beside the radios: on a row of its own it pushed the pictures below a 720 px projector's
    # fold in presenter mode
    ch = c4.slider(
        _("Channel ({n})").format(n=before_all.shape[0]),
        0,
        before_all.shape[0] - 1,
        key=state.ACT_CHANNEL,
        help=_("A channel of what reaches `{layer}`, the network's first activation.").format(layer=name),
    )
    before = before_all[ch]
    where = _("channel {ch} of what reaches `{layer}` (the network's own first activation, {type})").format(
        ch=ch, layer=name, type=type(lm.model.get_submodule(name)).__name__
    )
else:
    grey = cv.to_grey(loaders.model_view())
    before = cv.conv2d(grey, cv.preset("edge (Laplacian)"), 1, 1)  # i18n: not UI (a preset's key)
    where = _("the edge (Laplacian) filter's output on your photo (see the Convolution page)")
after = act.apply(fn, before, slope)
s = act.summarize(before, after)

lim = render.robust_limit(before)
a, f, b = st.columns([1, 0.9, 1])
with a:
    widgets.show_map(
        render.map_rgb(before, signed=True, limit=lim),
        _("Before: {low} … {high}").format(low=number(before.min(), 2), high=number(before.max(), 2)),
        320,
        "activation_before",
        alt=alt_lessons.activation(before, after, fn, "before"),
    )
with f:
    st.latex(act.FORMULAS[fn].replace("a\\,x", f"{slope:g}\\,x"))
    curve = act.function_curve(fn, float(before.min()), float(before.max()), slope)
    st.vega_lite_chart(spec=present.chart(chart_specs.spec(charts.function_chart, curve, fn)), width="stretch")
with b:
    if fn == "sigmoid":  # 0..1, 0.5 where the input was 0
        pic = render.colorize(after, "gray")
    else:  # same scale as "before": what is unchanged looks unchanged
        pic = render.map_rgb(after, signed=True, limit=lim if fn != "tanh" else 1.0)
    widgets.show_map(
        pic,
        _("After {function}: {low} … {high}").format(
            function=_(fn), low=number(after.min(), 2), high=number(after.max(), 2)
        ),
        320,
        "activation_after",
        alt=alt_lessons.activation(before, after, fn, "after"),
    )
for hist in chart_specs.specs(charts.histogram_charts, before, after, fn):
    st.vega_lite_chart(spec=present.chart(hist), width="stretch")
m1, m2, m3 = st.columns(3)
m1.metric(_("Negative before"), percent(s.share_negative, 1))
m2.metric(_("Exactly zero after"), percent(s.share_zeroed, 1))
m3.metric(_("Range after"), f"{number(s.after_min, 2)} … {number(s.after_max, 2)}")
with st.expander(_("What am I looking at?")):
    st.markdown(
        _(
            "The left map is {where}: blue is negative, red positive, white zero. The right map is the same "
            "numbers after the function. **ReLU** sets every negative number to 0 and keeps the rest, so the "
            "blue disappears (count the zeroed share). **Leaky ReLU** keeps a small slope *a* for negatives, so "
            "they shrink instead of vanishing. **Sigmoid** squashes everything into 0…1 (0 becomes 0.5, shown "
            "in grey), **tanh** into −1…1. The histogram shows how the values pile up before and after. "
            "EfficientNet uses ReLU6, a ReLU that also caps values at 6."
        ).format(where=where)
    )

# ---------------------------------------------------------------- softmax with a temperature
st.header(_("Softmax: from scores to probabilities"))
logits = loaders.current_logits()  # (num_classes,)
st.session_state.setdefault(state.ACT_TEMP, 1.0)
temp = st.slider(_("Temperature T"), 0.1, 5.0, step=0.1, key=state.ACT_TEMP)
p1, pt = act.softmax(logits, 1.0), act.softmax(logits, temp)  # for the entropy line
widgets.softmax_view(logits, temp, lm.classes)
st.markdown(
    _(
        "Spread of the probabilities (entropy): **{bits} bits** at T = {temp} "
        "(T = 1: {bits1}; all {n} classes equal would be {most})."
    ).format(
        bits=number(act.entropy_bits(pt), 2),
        temp=i18n.short(temp),
        bits1=number(act.entropy_bits(p1), 2),
        n=len(logits),
        most=number(np.log2(len(logits)), 2),
    )
)
with st.expander(_("What am I looking at?")):
    st.latex(r"p_i = \frac{e^{z_i / T}}{\sum_j e^{z_j / T}}")
    st.markdown(
        _(
            "The network's last layer gives one raw score *z* (logit) per class for your photo. Softmax "
            "raises *e* to each score and divides by the total, so the results are positive and add up to 1. "
            "Dividing the scores by a temperature **T** first changes how sure the result looks: T < 1 "
            "stretches the gaps, and the top class takes almost everything; T > 1 shrinks them and the "
            "probabilities flatten towards all classes equal. The order of the classes never changes. "
            "The model itself always uses T = 1."
        )
    )
