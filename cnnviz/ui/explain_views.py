"""Cached explanations for the Grad-CAM, Compare-methods and Fool-the-network pages.

Results are plain dataclasses of read-only numpy arrays in the project's shared cache
(:func:`cnnviz.ui.loaders.shared_result`), keyed by (model, weights, image digest, choices).
"""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st
from PIL import Image

from cnnviz import explain as E
from cnnviz import render
from cnnviz.a11y import chart_text
from cnnviz.explain.adversarial import fgsm
from cnnviz.explain.faithfulness import compare
from cnnviz.i18n import N_, _, percent
from cnnviz.inside.progress import Progress
from cnnviz.ui import job_views, loaders, state
from cnnviz.ui.channel_views import number_locale, short_number
from cnnviz.ui.charts import labelled
from cnnviz.ui.scales import colour_scale

# jet is the colouring Grad-CAM is known by; viridis and inferno keep their order for
# colour-blind viewers (their lightness rises monotonically: tests/unit/test_colour_vision.py)
CMAPS = ("jet", "turbo", "inferno", "viridis")
CMAP_HELP = N_("viridis and inferno read the same for colour-blind viewers; jet and turbo need every hue.")

GRADCAM_EXPLAINER = N_("""
**Grad-CAM** asks: *which places in this layer made the score of the chosen class go up?*
It runs the image forward, then takes the gradient of the class score with respect to the
layer's output. Averaging that gradient over each channel says how much the channel matters
for this class; the channels are added up with those weights and negative totals are cut to
zero. The result has the layer's own (coarse) resolution — 7×7 for the last block of a
224×224 network — and is stretched over the photo.

- **Layer:** late layers know about objects but are coarse; early ones are sharp but only see edges.
- **Class:** pick another class to see the evidence *for that class* in the same picture.
- **Signed view:** keeps the negative part and the real scale: red places raise the score,
  blue places lower it.
""")

SWEEP_EXPLAINER = N_("""
The same Grad-CAM, computed at the output of every block from the first (left, top) to
the last. Each tile is scaled to its own maximum, so it shows *where* the evidence is,
not how strong. Early blocks light up on edges and textures anywhere in the picture; in
later blocks the evidence gathers on the object. All maps come from one forward pass and
one backward pass.
""")


def keep_cmap(key: str) -> None:
    """on_change of a colour picker: its choice becomes every explanation page's colours."""
    st.session_state[state.EXPLAIN_CMAP] = st.session_state[key]


def cmap() -> str:
    """The explanation maps' colour map chosen last on Grad-CAM or Compare methods (default jet)."""
    chosen = st.session_state.get(state.EXPLAIN_CMAP)
    return chosen if chosen in CMAPS else CMAPS[0]


def cmap_select(key: str) -> str:
    """A "Colours" picker that shows and sets the shared choice (:func:`cmap`)."""
    st.session_state[key] = cmap()
    return st.selectbox(
        _("Colours"),
        CMAPS,
        key=key,
        on_change=keep_cmap,
        args=(key,),
        help=_(CMAP_HELP),
    )


def joined(names: list[str]) -> str:
    """``names`` as a list in a sentence, the current language's way: "A and B", "A, B and C"."""
    if len(names) < 2:
        return "".join(names)
    return _("{first} and {last}").format(first=", ".join(names[:-1]), last=names[-1])


def keep_target(key: str) -> None:
    """on_change of a page's class picker: its choice becomes the class of every explanation page."""
    st.session_state[state.EXPLAIN_TARGET] = st.session_state[key]


def target_select(label: str, key: str, lm, digest: str) -> int:
    """A searchable selectbox over every class, showing the class shared by the explanation
    pages (:data:`state.EXPLAIN_TARGET`: chosen on Grad-CAM, explained on Compare methods too).
    It starts on (and returns to) the top-1 class whenever the model or the image changes."""
    pred = loaders.cached_prediction(top=5)
    top1 = pred["top"][0]["index"]
    stamp = (lm.name, lm.weights, digest)
    chosen_for = st.session_state.get(state.EXPLAIN_TARGET_FOR)  # None: a link (or nothing yet) chose it
    if chosen_for not in (None, stamp) or st.session_state.get(state.EXPLAIN_TARGET) not in range(len(lm.classes)):
        st.session_state[state.EXPLAIN_TARGET] = top1
    st.session_state[state.EXPLAIN_TARGET_FOR] = stamp
    # the widget's own key is dropped while another page shows: it starts from the shared class
    st.session_state[key] = st.session_state[state.EXPLAIN_TARGET]
    probs = {t["index"]: t["prob"] for t in pred["top"]}
    # a dict's .get as format_func: no nested function kept by Streamlit after the run
    top = _("{label} ({n}) — top-5, {p}")
    names = {
        i: top.format(label=lm.label(i), n=i, p=percent(probs[i], 0)) if i in probs else f"{lm.label(i)} ({i})"
        for i in range(len(lm.classes))
    }
    return st.selectbox(
        label,
        range(len(lm.classes)),
        key=key,
        format_func=names.get,
        on_change=keep_target,
        args=(key,),
        help=_("Type to search all class names. Starts on the model's top-1 class; the explanation pages share it."),
    )


@loaders.shared_result
def explanation(
    lm,
    img: Image.Image,
    method: str,
    target: int | None = None,
    layer: str | None = None,
    _progress: Progress | None = None,
) -> E.Explanation:
    """The sidebar model's explanation of the session's image (shared per choices);
    ``_progress`` (not part of the key) hears the slow methods' progress."""
    return E.explain(lm, lm.preprocess(img), method, target=target, layer=layer, progress=_progress)


@loaders.shared_result(spinner=N_("Grad-CAM at every block…"))
def sweep(lm, img: Image.Image, target: int) -> E.Sweep:
    return E.sweep(lm, lm.preprocess(img), target=target)


@loaders.shared_result
def _faithfulness(lm, img: Image.Image, target: int, methods: tuple[str, ...], _maps: dict, _progress=None) -> dict:
    return compare(lm, lm.preprocess(img), _maps, target, progress=_progress)


def faithfulness(target: int, maps: dict, progress: Progress | None = None) -> dict:
    """{method or "random": faithfulness.Curves} for ``maps`` ({method: (h, w) map}); the maps
    follow from (model, image, target, methods), so they are not part of the key."""
    return _faithfulness(target, tuple(sorted(maps)), maps, progress)


def queued_explanation(method: E.Method, target: int) -> tuple[E.Explanation | None, bool]:
    """A slow method's explanation (Integrated Gradients, Occlusion) computed in the server's
    job queue, one per student at a time (cnnviz.serving.jobs): (the explanation or None, whether it
    is still waiting or running); its progress and place in line are drawn meanwhile."""
    lm = loaders.loaded_model()
    return job_views.queued_result(
        f"explain:{method.name}",
        explanation.pending(method.name, target),
        state.XM_STOP + method.name,
        cost=("explain", method.name, lm.name),
        again=_("Run {method} again").format(method=_(method.title)),
    )


def queued_faithfulness(target: int, maps: dict) -> tuple[dict | None, bool]:
    """:func:`faithfulness` computed in the job queue, as :func:`queued_explanation`."""
    lm = loaders.loaded_model()
    return job_views.queued_result(
        "faithfulness",
        _faithfulness.pending(target, tuple(sorted(maps)), maps),
        state.XM_STOP + "faithfulness",
        cost=("faithfulness", lm.name, len(maps)),
        again=_("Measure again"),
    )


@loaders.shared_result(spinner=N_("Attacking…"))
def attack(lm, img: Image.Image, eps: float, goal: int | None = None):
    """adversarial.Attack of the session's image at ``eps`` (pixel units): FGSM, or towards
    class ``goal``."""
    return fgsm(lm, img, eps, goal=goal)


# The Fool page's suggested photo, measured on the gallery with EfficientNet-Lite0: FGSM turns
# "missile" (38 %) into "drilling platform" at ε = 1/255 and 2/255 - plainly wrong - while the
# default Grace Hopper's "academic gown" becomes "military uniform", which is arguably right.
FOOL_PHOTO = "rocket"


def goal_names(lm) -> dict[int, str]:
    """format_func of the targeted attack's class picker: -1 is plain FGSM."""
    return {-1: _("any wrong class (FGSM)")} | {i: f"{lm.label(i)} ({i})" for i in range(len(lm.classes))}


def legend(d: render.Display) -> None:
    """The colour strip with its end values and a sentence saying what the colours mean."""
    colour_scale(d.cmap, short_number(d.vmin), short_number(d.vmax), "0" if d.vmin < 0 < d.vmax else None)
    st.caption(d.legend)


# Marker and dash per method, in METHODS order: with the colour and a name at each line's end,
# the seven methods are told apart without the colours.
SHAPES = ("circle", "square", "triangle-up", "diamond", "cross", "triangle-down", "triangle-right")
DASHES = ([1, 0], [8, 3], [2, 2], [8, 3, 2, 3], [4, 4], [12, 3], [1, 3])
RANDOM_DASH = [6, 6]


def curves_chart(res: dict, titles: dict[str, str]) -> alt.FacetChart:
    """Deletion and insertion curves side by side, one line per method: each with its own colour,
    marker and dash and its name written at its end (random: dashed grey, no markers)."""
    curves = {"deletion": _("deletion"), "insertion": _("insertion")}  # the facets' headers
    rows = []
    for name, c in res.items():
        for kind in ("deletion", "insertion"):
            for f, p in zip(c.fractions, getattr(c, kind), strict=True):
                rows.append(
                    {
                        "method": titles.get(name, name),
                        "curve": curves[kind],
                        "fraction": float(f) * 100,
                        "probability": float(p),
                        "last": bool(f == c.fractions[-1]),
                    }
                )
    df = pd.DataFrame(rows)
    methods = [titles.get(k, k) for k in res if k != "random"]
    order = [*methods, titles.get("random", "random")] if "random" in res else methods
    shapes = [SHAPES[i % len(SHAPES)] for i in range(len(methods))] + (["stroke"] if "random" in res else [])
    dashes = [DASHES[i % len(DASHES)] for i in range(len(methods))] + ([RANDOM_DASH] if "random" in res else [])
    base = alt.Chart().encode(
        x=alt.X("fraction:Q", title=_("pixels removed / inserted (%)")),
        y=alt.Y("probability:Q", title=_("class probability")),
        color=alt.Color(
            "method:N", sort=order, legend=alt.Legend(title=_("method"), orient="bottom", labelFontSize=14, columns=4)
        ),
        tooltip=[
            alt.Tooltip("method:N", title=_("method")),
            alt.Tooltip("curve:N", title=_("curve")),
            alt.Tooltip("fraction:Q", title=_("pixels (%)")),
            alt.Tooltip("probability:Q", title=_("probability"), format=".3f"),
        ],
    )
    lines = base.mark_line(point=False).encode(
        strokeDash=alt.StrokeDash("method:N", sort=order, scale=alt.Scale(domain=order, range=dashes), legend=None)
    )
    points = base.mark_point(filled=True, size=40).encode(
        shape=alt.Shape("method:N", sort=order, scale=alt.Scale(domain=order, range=shapes))
    )
    names = labelled(base.encode(text="method:N").transform_filter(alt.datum.last), align="left", dx=5, fontSize=12)
    aucs = {titles.get(k, k): (c.deletion_auc, c.insertion_auc) for k, c in res.items()}
    return (
        alt.layer(lines, points, names, data=df)
        .properties(width=330, height=260)
        .facet(column=alt.Column("curve:N", title=None, sort=list(curves.values())))
        .properties(description=chart_text.faithfulness(aucs))
        .configure(locale=number_locale())
    )
