"""Train: pick data, build a small CNN, watch it learn, study its mistakes, save it."""

import streamlit as st

from cnnviz.a11y import alt_lessons
from cnnviz.errors import CnnvizError
from cnnviz.i18n import _, number
from cnnviz.training import results, trainer
from cnnviz.training.fit import TrainConfig
from cnnviz.ui import job_views, links, present, state, widgets
from cnnviz.ui import train_results as tr
from cnnviz.ui import train_widgets as tw
from cnnviz.ui.owner import name_tag, owner_token, share_default, student

links.page(**tw.form_params())
st.title(_("Train your own CNN"))
sid = job_views.tab_id()

st.header(_("1 · Data"))
ds = tw.dataset_section()
with st.expander(_("What am I looking at?")):
    st.markdown(
        _(
            "A dataset is pictures with the right answer (the *class*) attached. A fifth of every class is put "
            "aside as the **validation** set: the network never learns from it, so its score there shows how well "
            "it copes with pictures it has not seen. Your own images: one folder per class (`cats/`, `dogs/` …); "
            "files that are not pictures are skipped and counted."
        )
    )
if ds is None:
    links.stop()

st.header(_("2 · Architecture"))
arch = tw.arch_section(ds)
with st.expander(_("What am I looking at?")):
    st.markdown(
        _(
            "Each **conv block** slides small filters (the *kernel*) over its input and passes the result through an "
            "**activation**; every second block (TinyVGG) or every block (LeNet) **pools**, halving the maps. "
            "**Batch norm** rescales each channel, which often speeds learning up; **dropout** switches random "
            "neurons off while training, which fights overfitting. The last layer gives one score per class."
        )
    )
if arch is None:
    links.stop()

st.header(_("3 · Augmentation"))
aug = tw.augment_section(ds)
with st.expander(_("What am I looking at?")):
    st.markdown(
        _(
            "Augmentation shows the network a slightly changed copy of each picture every time (turned, shifted, "
            "lighter or darker), so it learns the shape rather than the exact pixels. It only changes training "
            "pictures; validation pictures are used as they are."
        )
    )

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


def live() -> None:
    """Progress, curves and first-layer filters; polled every second while training runs."""
    running = trainer.get(sid)
    if running is None:
        st.caption(_("Press **Train** to start. You can stop at any time and keep the model trained so far."))
        return
    s = running.snapshot()
    if s.status in ("queued", "paused"):
        st.info(job_views.progress_text(s, "steps"))  # its place in line
    done = {"step": s.done, "total": s.total or "…", "s": f"{s.seconds:.0f}"}
    if s.eta is None:
        bar = _("Step {step} of {total} · {s} s").format(**done)
    else:
        bar = _("Step {step} of {total} · {s} s · about {left} s left").format(**done, left=f"{s.eta:.0f}")
    st.progress(min(1.0, s.fraction), text=bar)
    loss, acc, right = st.columns([1, 1, 0.8])
    charts = tr.curves(s.history)
    if charts is not None:
        loss.altair_chart(present.chart(charts[0]), width="stretch")
        acc.altair_chart(present.chart(charts[1]), width="stretch")
    img = tw.filters_image(s.filters)
    if img is not None:
        right.image(
            img,
            caption=_("First-layer filters, redrawn as they learn (dark < 0 < light)"),
            width="stretch",
            alt=alt_lessons.live_filters(s.filters.shape),
        )
    if s.status != st.session_state.get(state.TRAIN_SHOWN):
        st.session_state[state.TRAIN_SHOWN] = s.status
        if not s.active:
            st.rerun()  # finished: redraw the whole page so the results appear


with live_box:
    st.fragment(run_every=1.0 if snap and snap.active else None)(live)()
with st.expander(_("What am I looking at?")):
    st.markdown(
        _(
            "Each step shows the network one **batch** of pictures, measures how wrong it is (the **loss**) and "
            "nudges every weight downhill; the **learning rate** sets the size of the nudge. Training loss falling "
            "while validation loss rises means the network memorises instead of learning (*overfitting*). "
            "The filters start as noise and turn into edge and blob detectors."
        )
    )

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
tds = t.ds
with st.expander(_("What am I looking at?")):
    st.markdown(
        _(
            "Row = the true class, column = the network's answer: the diagonal counts the right answers, "
            "everything else is a mix-up. The pictures are the validation images the network got wrong while being "
            "most sure of itself, written *true → predicted (confidence)*."
        )
    )

st.subheader(_("Save your model"))
c1, c2 = st.columns([2, 1])
name = c1.text_input(
    _("Name"), value=results.default_name(arch["kind"], tds.name, name_tag()), key=state.TRAIN_SAVE_NAME, max_chars=48
)
c1.toggle(
    _("Share with the class"),
    value=share_default(),
    key=state.TRAIN_SHARE,
    help=_("Off: only this browser sees the model. On: every student can pick it (nobody else can replace it)."),
)
if c2.button(_("Save"), key=state.TRAIN_SAVE, type="primary"):
    try:
        meta = results.checkpoint_meta(
            results.check_name(name),
            t.arch,
            tds,
            snap.fit,
            config={"epochs": t.cfg.epochs, "lr": t.cfg.lr, "batch_size": t.cfg.batch_size},
        )
        st.session_state[state.TRAIN_SAVED] = str(
            results.save_model(t.model, meta, owner=owner_token(), shared=st.session_state[state.TRAIN_SHARE])
        )
        st.rerun()  # the sidebar's model picker lists it from the next run on
    except CnnvizError as e:
        st.error(str(e))
saved = st.session_state.get(state.TRAIN_SAVED)
if saved:
    from pathlib import Path

    st.success(
        _("Saved as **{name}**: pick it in the sidebar's Model list to look inside it on any page.").format(
            name=Path(saved).stem
        )
    )
    try:
        st.download_button(
            _("Download (.zip)"),
            results.export_zip(saved),
            f"{Path(saved).stem}.zip",
            mime="application/zip",
            key=state.TRAIN_DOWNLOAD,
        )
    except OSError:
        st.warning(_("The saved files are no longer on the server."))
