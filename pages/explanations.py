"""Six explanation methods side by side, and how faithful each one is."""

import pandas as pd
import streamlit as st
from babel.numbers import get_decimal_symbol

from cnnviz import explain as E
from cnnviz import i18n, render
from cnnviz.a11y import alt_text
from cnnviz.errors import CnnvizError
from cnnviz.explain.faithfulness import STEPS, compare_pictures
from cnnviz.i18n import N_, _
from cnnviz.ui import explain_views as xv
from cnnviz.ui import links, loaders, present, state
from cnnviz.ui.download import download_png
from cnnviz.ui.scales import colour_scale

EXPLAINER = N_("""
Each method answers *"what made the score of this class high?"* in its own way (the
caption under each picture says how). Grad-CAM and Grad-CAM++ work at the last block
(coarse blobs); the others give one value per pixel (fine, often noisy). Methods that
agree are more believable. The times show what each costs on this server: Integrated
Gradients runs the network dozens of times, Occlusion once per hidden patch.
""")

FAITH_EXPLAINER = N_("""
A map is **faithful** if the pixels it calls important really drive the prediction.
**Deletion:** grey out the most important pixels first, in {steps} steps, and watch the
probability; the faster it falls, the better (a *small* area under the curve).
**Insertion:** start from a blurred picture and put the most important pixels back first;
the faster it rises, the better (a *large* area). A method should beat the **random** order
(dashed). Hiding scattered single pixels confuses a network by itself, so pixel-level maps
can fall fast on deletion for that reason alone: read both curves together.
""")

links.page(target=links.int_param(state.EXPLAIN_TARGET, clear=(state.EXPLAIN_TARGET_FOR,)))
st.title(_("Compare explanation methods"))
lm = loaders.current_model()
loaders.current_image()  # no photo: the page says so and stops here
digest = loaders.current_image_bytes()[2]
picture = loaders.model_view()
c1, c2 = st.columns([3, 1])
with c1:
    target = xv.target_select(_("Class to explain"), state.XM_TARGET, lm, digest)
with c2:
    cmap = xv.cmap_select(state.XM_CMAP)
stamp = (lm.name, lm.weights, digest, target)

fast = [m for m in E.METHODS.values() if not m.slow]
slow = [m for m in E.METHODS.values() if m.slow]
slow_ok = st.session_state.get(state.XM_SLOW_FOR) == stamp
if not slow_ok:
    c1, c2 = st.columns([3, 1])
    c1.warning(
        _(
            "{methods} run the network dozens of times: several seconds each on a CPU. They run only when you ask."
        ).format(methods=xv.joined([_(m.title) for m in slow]))
    )
    if c2.button(_("Run the slow ones too"), key=state.XM_RUN_SLOW):
        st.session_state[state.XM_SLOW_FOR] = stamp
        st.rerun()

results: dict[str, E.Explanation] = {}
busy = 0  # slow methods still waiting or running in the queue
methods = fast + (slow if slow_ok else [])
cols = st.columns(3, gap="medium")
for i, m in enumerate(methods):
    with cols[i % 3]:
        try:
            if m.slow:  # seconds: a job of the server's queue, its progress and place in line shown
                head = st.empty()
                e, running = xv.queued_explanation(m, target)
                busy += running
                if e is None:
                    head.markdown(f"**{_(m.title)}**")
                    continue
            else:
                with st.spinner(_("{method}…").format(method=_(m.title))):
                    e = xv.explanation(m.name, target)
        except CnnvizError as err:
            st.error(_("{method}: {error}").format(method=_(m.title), error=err))
            continue
        results[m.name] = e
        d = render.display(e.map, cmap=cmap, robust=m.kind == "pixel")
        png = render.overlay_png(picture, d, alpha=0.55)
        st.image(png, width="stretch", alt=alt_text.explanation(_(m.title), e.label, e.layer, e.map))
        ms = f"{e.seconds * 1000:.0f}"  # whole milliseconds: no separator in any language
        if e.layer:
            st.markdown(_("**{method}** at `{layer}` · **{ms} ms**").format(method=_(m.title), layer=e.layer, ms=ms))
        else:
            st.markdown(_("**{method}** · **{ms} ms**").format(method=_(m.title), ms=ms))
        st.caption(_(m.about))
        if e.completeness is not None:  # Integrated Gradients: do its values add up?
            (st.caption if e.completeness.within(E.IG_TOLERANCE) else st.warning)(
                e.completeness.sentence(E.IG_TOLERANCE)
            )
        download_png(png, f"{m.name}_{lm.name}_{e.target}", f"xm_{m.name}")
colour_scale(cmap, _("none"), _("strongest"))
lo, hi = alt_text.CMAP_ENDS.get(cmap, (N_("low"), N_("high")))  # colour names: translated where shown
st.caption(
    _(
        "Colours: each map from none ({low}) to its strongest evidence ({high}), scaled to its own maximum "
        "(pixel maps: to their top 0.5 %, so that faint detail shows)."
    ).format(low=_(lo), high=_(hi))
)
with st.expander(_("What am I looking at?")):
    st.markdown(_(EXPLAINER))

st.divider()
st.header(_("Faithfulness: deletion and insertion"))
if st.session_state.get(state.XM_FAITH_FOR) != stamp:
    st.info(
        _("Measuring runs {n} perturbed pictures through the network (a few seconds on a CPU).").format(
            n=compare_pictures(len(results) + 1)
        )
    )
    if st.button(_("Measure faithfulness"), key=state.XM_RUN_FAITH):
        st.session_state[state.XM_FAITH_FOR] = stamp
        st.rerun()
elif busy:
    st.info(_("Faithfulness is measured once the slow methods above are done."))
elif (res := xv.queued_faithfulness(target, {k: v.map for k, v in results.items()})[0]) is not None:
    titles = {k: _(E.METHODS[k].title) for k in results} | {"random": _("random order")}
    st.altair_chart(present.chart(xv.curves_chart(res, titles)))
    table = pd.DataFrame(
        [
            {
                _("method"): titles[k],
                _("deletion AUC (lower is better)"): round(c.deletion_auc, 3),
                _("insertion AUC (higher is better)"): round(c.insertion_auc, 3),
            }
            for k, c in res.items()
        ]
    )
    st.dataframe(  # the numbers stay numbers (sortable); they are shown with the language's decimal sign
        table.style.format(precision=3, decimal=get_decimal_symbol(i18n.current())),
        hide_index=True,
        alt=_("Area under the deletion and insertion curves of each method, for class {n}").format(n=target),
    )
with st.expander(_("What am I looking at?"), expanded=False):
    st.markdown(_(FAITH_EXPLAINER).format(steps=STEPS))
