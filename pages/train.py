"""Train: pick data, build a small CNN, watch it learn, study its mistakes, save it."""

import streamlit as st

from cnnviz.errors import CnnvizError
from cnnviz.i18n import _, number
from cnnviz.training import trainer
from cnnviz.training.fit import TrainConfig
from cnnviz.ui import job_views, links, state, widgets
from cnnviz.ui import train_results as tr
from cnnviz.ui import train_views as tv
from cnnviz.ui import train_widgets as tw
from cnnviz.ui.owner import student

links.page(**tw.form_params())
st.title(_("Train your own CNN"))
sid = job_views.tab_id()

st.header(_("1 · Data"))
ds = tw.dataset_section()
with st.expander(_("What am I looking at?")):
    st.markdown(_(tv.DATA))
if ds is None:
    links.stop()

st.header(_("2 · Architecture"))
arch = tw.arch_section(ds)
with st.expander(_("What am I looking at?")):
    st.markdown(_(tv.ARCHITECTURE))
if arch is None:
    links.stop()

st.header(_("3 · Augmentation"))
aug = tw.augment_section(ds)
with st.expander(_("What am I looking at?")):
    st.markdown(_(tv.AUGMENTATION))

st.header(_("4 · Training"))
c = st.columns(4)
# starting values: the dataset's recipe (tw.use_recipe)
epochs = c[0].slider(_("Epochs"), 1, 30, key=state.TRAIN_EPOCHS, help=_("Passes over the training set."))
batch = c[1].select_slider(_("Batch size"), tw.BATCHES, key=state.TRAIN_BATCH)
lr = c[2].select_slider(
    _("Learning rate"), tw.RATES, key=state.TRAIN_LR, format_func={r: number(r, 4).rstrip("0") for r in tw.RATES}.get
)
opt = c[3].radio(
    _("Optimiser"),
    tw.OPTIMISERS,
    key=state.TRAIN_OPT,
    horizontal=True,
    format_func={o: _(name) for o, name in tw.OPTIMISER_NAMES.items()}.get,
)
t = trainer.get(sid)
snap = t.snapshot() if t is not None else None
live_box = st.container(key=state.TRAIN_LIVE)  # Train, Stop and the live charts: scrolled to on Train
b1, b2, note = live_box.columns([1, 1, 4])
cfg = TrainConfig(epochs=epochs, batch_size=batch, lr=lr, optimizer=opt, augment=aug)
est = trainer.estimate_seconds(arch, ds, cfg)
over = est > trainer.MAX_MINUTES * 60
note.caption(
    _("About {s} s on this server").format(s=f"{est:.0f}")
    if est < 120
    else _("About {m} min on this server").format(m=f"{est / 60:.0f}")
)
if b1.button(_("Train"), type="primary", key=state.TRAIN_START, disabled=bool(snap and snap.active) or over):
    try:
        t = trainer.start(sid, ds, arch, cfg, owner=student(), alive=job_views.alive_check())
        snap = t.snapshot()
        st.session_state[state.TRAIN_SAVED] = None
        widgets.scroll_to(state.TRAIN_LIVE, str(id(t)))  # the charts below the long form, in view
    except CnnvizError as e:
        st.error(str(e))
if over:
    st.warning(trainer.too_long(est))
if b2.button(_("Stop"), key=state.TRAIN_STOP, disabled=not (snap and snap.active)):
    t.job.stop()  # the loop ends after this batch; the model keeps what it learnt
st.session_state[state.TRAIN_SHOWN] = snap.status if snap else None

with live_box:
    st.fragment(run_every=1.0 if snap and snap.active else None)(tv.live)(sid)
with st.expander(_("What am I looking at?")):
    st.markdown(_(tv.TRAINING))

if snap is None or snap.active:
    links.stop()
if snap.status == "error":
    st.error(str(snap.message))
    links.stop()
if snap.message:
    st.warning(str(snap.message))
if snap.fit is None or snap.results is None:
    links.stop()

st.header(_("5 · Results"))
tr.results_view(snap, t)
with st.expander(_("What am I looking at?")):
    st.markdown(_(tv.RESULTS))

tv.save_form(snap, t, arch["kind"])
