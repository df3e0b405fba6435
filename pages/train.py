"""Train: pick data, build a small CNN, watch it learn, study its mistakes, save it."""

import streamlit as st

from cnnviz.a11y import alt_lessons
from cnnviz.errors import CnnvizError
from cnnviz.training import results, trainer
from cnnviz.training.fit import TrainConfig
from cnnviz.ui import job_views, links, present, state
from cnnviz.ui import train_results as tr
from cnnviz.ui import train_widgets as tw
from cnnviz.ui.owner import name_tag, owner_token, share_default, student

links.page(**tw.form_params())
st.title("Train your own CNN")
sid = job_views.tab_id()

st.header("1 · Data")
ds = tw.dataset_section()
with st.expander("What am I looking at?"):
    st.markdown(
        "A dataset is pictures with the right answer (the *class*) attached. A fifth of every class is put "
        "aside as the **validation** set: the network never learns from it, so its score there shows how well "
        "it copes with pictures it has not seen. Your own images: one folder per class (`cats/`, `dogs/` …); "
        "files that are not pictures are skipped and counted."
    )
if ds is None:
    links.stop()

st.header("2 · Architecture")
arch = tw.arch_section(ds)
with st.expander("What am I looking at?"):
    st.markdown(
        "Each **conv block** slides small filters (the *kernel*) over its input and passes the result through an "
        "**activation**; every second block (TinyVGG) or every block (LeNet) **pools**, halving the maps. "
        "**Batch norm** rescales each channel, which often speeds learning up; **dropout** switches random "
        "neurons off while training, which fights overfitting. The last layer gives one score per class."
    )
if arch is None:
    links.stop()

st.header("3 · Augmentation")
aug = tw.augment_section(ds)
with st.expander("What am I looking at?"):
    st.markdown(
        "Augmentation shows the network a slightly changed copy of each picture every time (turned, shifted, "
        "lighter or darker), so it learns the shape rather than the exact pixels. It only changes training "
        "pictures; validation pictures are used as they are."
    )

st.header("4 · Training")
c = st.columns(4)
# starting values: the dataset's recipe (tw.use_recipe)
epochs = c[0].slider("Epochs", 1, 30, key=state.TRAIN_EPOCHS, help="Passes over the training set.")
batch = c[1].select_slider("Batch size", tw.BATCHES, key=state.TRAIN_BATCH)
lr = c[2].select_slider("Learning rate", tw.RATES, key=state.TRAIN_LR)
opt = c[3].radio(
    "Optimiser",
    tw.OPTIMISERS,
    key=state.TRAIN_OPT,
    horizontal=True,
    format_func={"adam": "Adam", "sgd": "SGD + momentum"}.get,
)
t = trainer.get(sid)
snap = t.snapshot() if t is not None else None
b1, b2, _ = st.columns([1, 1, 4])
cfg = TrainConfig(epochs=epochs, batch_size=batch, lr=lr, optimizer=opt, augment=aug)
est = trainer.estimate_seconds(arch, ds, cfg)
over = est > trainer.MAX_MINUTES * 60
_.caption(f"About {est:.0f} s on this server" if est < 120 else f"About {est / 60:.0f} min on this server")
if b1.button("Train", type="primary", key=state.TRAIN_START, disabled=bool(snap and snap.active) or over):
    try:
        t = trainer.start(sid, ds, arch, cfg, owner=student(), alive=job_views.alive_check())
        snap = t.snapshot()
        st.session_state[state.TRAIN_SAVED] = None
    except CnnvizError as e:
        st.error(str(e))
if over:
    st.warning(
        f"This training would take about {est / 60:.0f} minutes; the limit here is {trainer.MAX_MINUTES:g}. "
        "Use fewer epochs, smaller images or fewer channels."
    )
if b2.button("Stop", key=state.TRAIN_STOP, disabled=not (snap and snap.active)):
    t.stop()  # the loop ends after this batch; the model keeps what it learnt
st.session_state[state.TRAIN_SHOWN] = snap.status if snap else None


def live() -> None:
    """Progress, curves and first-layer filters; polled every second while training runs."""
    job = trainer.get(sid)
    if job is None:
        st.caption("Press **Train** to start. You can stop at any time and keep the model trained so far.")
        return
    s = job.snapshot()
    if s.status == "queued":
        st.info(job_views.waiting_text(s.position, s.wait_s))
    elif s.status == "paused":
        st.info(job_views.paused_text(s.position, s.wait_s, f"step {s.step} of {s.total_steps}"))
    eta = f" · about {s.eta:.0f} s left" if s.eta is not None else ""
    st.progress(min(1.0, s.fraction), text=f"Step {s.step} of {s.total_steps or '…'} · {s.seconds:.0f} s{eta}")
    loss, acc, right = st.columns([1, 1, 0.8])
    charts = tr.curves(s.history)
    if charts is not None:
        loss.altair_chart(present.chart(charts[0]), width="stretch")
        acc.altair_chart(present.chart(charts[1]), width="stretch")
    img = tw.filters_image(s.filters)
    if img is not None:
        right.image(
            img,
            caption="First-layer filters, redrawn as they learn (dark < 0 < light)",
            width="stretch",
            alt=alt_lessons.live_filters(s.filters.shape),
        )
    if s.status != st.session_state.get(state.TRAIN_SHOWN):
        st.session_state[state.TRAIN_SHOWN] = s.status
        if not s.active:
            st.rerun()  # finished: redraw the whole page so the results appear


st.fragment(run_every=1.0 if snap and snap.active else None)(live)()
with st.expander("What am I looking at?"):
    st.markdown(
        "Each step shows the network one **batch** of pictures, measures how wrong it is (the **loss**) and "
        "nudges every weight downhill; the **learning rate** sets the size of the nudge. Training loss falling "
        "while validation loss rises means the network memorises instead of learning (*overfitting*). "
        "The filters start as noise and turn into edge and blob detectors."
    )

if snap is None or snap.active:
    links.stop()
if snap.status == "error":
    st.error(snap.message)
    links.stop()
if snap.message:
    st.warning(snap.message)
if snap.fit is None or snap.results is None:
    links.stop()

st.header("5 · Results")
tr.results_view(snap, t)
tds = t.ds
with st.expander("What am I looking at?"):
    st.markdown(
        "Row = the true class, column = the network's answer: the diagonal counts the right answers, "
        "everything else is a mix-up. The pictures are the validation images the network got wrong while being "
        "most sure of itself, written *true → predicted (confidence)*."
    )

st.subheader("Save your model")
c1, c2 = st.columns([2, 1])
name = c1.text_input(
    "Name", value=results.default_name(arch["kind"], tds.name, name_tag()), key=state.TRAIN_SAVE_NAME, max_chars=48
)
c1.toggle(
    "Share with the class",
    value=share_default(),
    key=state.TRAIN_SHARE,
    help="Off: only this browser sees the model. On: every student can pick it (nobody else can replace it).",
)
if c2.button("Save", key=state.TRAIN_SAVE, type="primary"):
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

    st.success(f"Saved as **{Path(saved).stem}**: pick it in the sidebar's Model list to look inside it on any page.")
    try:
        st.download_button(
            "Download (.zip)",
            results.export_zip(saved),
            f"{Path(saved).stem}.zip",
            mime="application/zip",
            key=state.TRAIN_DOWNLOAD,
        )
    except OSError:
        st.warning("The saved files are no longer on the server.")
