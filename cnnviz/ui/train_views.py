"""The Train page's teaching texts, its live view while a training runs, and its save form."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from cnnviz.a11y import alt_lessons
from cnnviz.errors import CnnvizError
from cnnviz.i18n import N_, _
from cnnviz.training import results, trainer
from cnnviz.training.trainer import Snapshot, Trainer
from cnnviz.ui import job_views, present, state
from cnnviz.ui import train_results as tr
from cnnviz.ui import train_widgets as tw
from cnnviz.ui.owner import name_tag, owner_token, share_default

# "What am I looking at?" of each section; marked here, translated where the page shows them
DATA = N_(
    "A dataset is pictures with the right answer (the *class*) attached. A fifth of every class is put "
    "aside as the **validation** set: the network never learns from it, so its score there shows how well "
    "it copes with pictures it has not seen. Your own images: one folder per class (`cats/`, `dogs/` …); "
    "files that are not pictures are skipped and counted."
)
ARCHITECTURE = N_(
    "Each **conv block** slides small filters (the *kernel*) over its input and passes the result through an "
    "**activation**; every second block (TinyVGG) or every block (LeNet) **pools**, halving the maps. "
    "**Batch norm** rescales each channel, which often speeds learning up; **dropout** switches random "
    "neurons off while training, which fights overfitting. The last layer gives one score per class."
)
AUGMENTATION = N_(
    "Augmentation shows the network a slightly changed copy of each picture every time (turned, shifted, "
    "lighter or darker), so it learns the shape rather than the exact pixels. It only changes training "
    "pictures; validation pictures are used as they are."
)
TRAINING = N_(
    "Each step shows the network one **batch** of pictures, measures how wrong it is (the **loss**) and "
    "nudges every weight downhill; the **learning rate** sets the size of the nudge. Training loss falling "
    "while validation loss rises means the network memorises instead of learning (*overfitting*). "
    "The filters start as noise and turn into edge and blob detectors."
)
RESULTS = N_(
    "Row = the true class, column = the network's answer: the diagonal counts the right answers, "
    "everything else is a mix-up. The pictures are the validation images the network got wrong while being "
    "most sure of itself, written *true → predicted (confidence)*."
)


def live(sid: str) -> None:
    """Progress, curves and first-layer filters of tab ``sid``'s training; the page polls it
    every second (``st.fragment``) while the training runs, and redraws whole once it ends."""
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


def save_form(snap: Snapshot, t: Trainer, kind: str) -> None:
    """ "Save your model": a name (defaulting from the architecture ``kind`` and the dataset),
    sharing, Save, and once saved the download of the model as a .zip."""
    st.subheader(_("Save your model"))
    c1, c2 = st.columns([2, 1])
    name = c1.text_input(
        _("Name"), value=results.default_name(kind, t.ds.name, name_tag()), key=state.TRAIN_SAVE_NAME, max_chars=48
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
                t.ds,
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
