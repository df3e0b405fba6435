"""Widgets of the Train page: data, architecture, augmentation, live training, results.

Computing stays in cnnviz.training; this module reads widgets, caches datasets
(picklable numpy dataclasses) and draws. The running model lives in
the job queue (cnnviz.training.trainer); session state holds only this tab's id and choices.
"""

from __future__ import annotations

from contextlib import nullcontext

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from cnnviz import render
from cnnviz.a11y import alt_lessons, chart_text
from cnnviz.errors import CnnvizError
from cnnviz.i18n import N_, _, ngettext, number, percent
from cnnviz.inputs.images import image_digest
from cnnviz.inside.catalogue import catalogue_model
from cnnviz.inside.filters import filter_grid
from cnnviz.models import small_cnn as archs
from cnnviz.serving import cache
from cnnviz.training import class_folders, datasets, imageset
from cnnviz.training.augment import Augment
from cnnviz.training.augment import preview as aug_preview
from cnnviz.training.recipes import recipe_for
from cnnviz.ui import accept, held_uploads, links, present, state, train_camera
from cnnviz.ui.charts import labelled
from cnnviz.ui.train_results import split_colours, split_name

# The keys go into links and session state; the labels are translated where shown.
SOURCES = {
    "shapes": N_("Shapes (generated)"),
    "mnist5k": N_("MNIST digits (5,000)"),
    "digits": N_("Digits 8×8 (scikit-learn)"),
    "camera": N_("Your camera (take photos per class)"),
    "folder": N_("Your folder"),
    "zip": N_("Your zip"),
    "mnist": N_("MNIST (torchvision)"),
    "fashionmnist": N_("Fashion-MNIST (clothes, 10 classes)"),
    "cifar10": N_("CIFAR-10 (torchvision)"),
}


SIZES = (16, 28, 32, 48, 64)
DEFAULT_SIZE = 32  # pixels: the image size a new Train page starts with
WIDTHS = (4, 6, 8, 12, 16, 32, 64)
KERNELS = (1, 3, 5, 7)
BATCHES = (16, 32, 64, 128, 256)
RATES = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1)
OPTIMISERS = ("adam", "sgd")
OPTIMISER_NAMES = {"adam": "Adam", "sgd": N_("SGD + momentum")}
POOL_NAMES = {"max": N_("max"), "avg": N_("avg")}
ARCH_NAMES = {"tinyvgg": "TinyVGG (CNN Explainer)", "lenet": "LeNet-5 (1998)"}  # i18n: not UI (names stay)


def form_params() -> dict[str, links.Param]:
    """The Train form in the page's URL (``links.page(**form_params())``): a Train link
    reproduces the data, architecture, augmentation and training choices."""
    return {
        "dataset": links.choice_param(state.TRAIN_SOURCE, SOURCES),
        "size": links.choice_param(state.TRAIN_SIZE, SIZES),
        "grey": links.bool_param(state.TRAIN_GREY),
        "arch": links.choice_param(state.TRAIN_ARCH, archs.PRESETS),
        "blocks": links.int_param(state.TRAIN_BLOCKS, 1, 6),
        "width": links.choice_param(state.TRAIN_WIDTH, WIDTHS),
        "kernel": links.choice_param(state.TRAIN_KERNEL, KERNELS),
        "act": links.choice_param(state.TRAIN_ACT, archs.ACTIVATIONS),
        "pool": links.choice_param(state.TRAIN_POOL, archs.POOLS),
        "bn": links.bool_param(state.TRAIN_BN),
        "dropout": links.float_param(state.TRAIN_DROPOUT, 0.0, 0.7),
        "flip": links.bool_param(state.TRAIN_FLIP),
        "rotate": links.float_param(state.TRAIN_ROT, 0.0, 45.0),
        "shift": links.float_param(state.TRAIN_SHIFT, 0.0, 0.25),
        "brightness": links.float_param(state.TRAIN_BRIGHT, 0.0, 0.5),
        "epochs": links.int_param(state.TRAIN_EPOCHS, 1, 30),
        "batch": links.choice_param(state.TRAIN_BATCH, BATCHES),
        "lr": links.choice_param(state.TRAIN_LR, RATES),
        "opt": links.choice_param(state.TRAIN_OPT, OPTIMISERS),
    }


# ------------------------------------------------------------------------------ data
def _builtin(kind: str, size: int, spinner: bool = True) -> imageset.ImageDataset:
    """A shipped or generated dataset, prepared once and shared (read-only) by every session."""

    def prepare() -> imageset.ImageDataset:
        with st.spinner(_("Preparing the dataset…")) if spinner else nullcontext():
            return cache.freeze(datasets.load(kind, size=size if kind in ("shapes", "digits") else None))

    return cache.RESULTS.get_or_compute(("dataset", kind, size), prepare)


def warm_default_dataset() -> None:
    """Prepare the Train page's first dataset (generated shapes at its default size, ~0.25 s of
    CPU) from the server's warm start (:mod:`cnnviz.ui.warm_start`): its first visitor then
    waits no longer than the next one."""
    _builtin(next(iter(SOURCES)), DEFAULT_SIZE, spinner=False)


def _uploaded(digest: str, kind: str, payload, size: int, channels: int) -> imageset.ImageDataset:
    """A student's zip or folder (``digest`` of its bytes) read once into a dataset."""

    def read() -> imageset.ImageDataset:
        with st.spinner(_("Reading your images…")):
            if kind == "zip":
                return cache.freeze(class_folders.read_zip(payload, size=size, channels=channels))
            return cache.freeze(class_folders.from_files(payload, size=size, channels=channels))

    key = ("uploaded dataset", digest, kind, size, channels)  # i18n: not UI (a cache key)
    return cache.RESULTS.get_or_compute(key, read)


def _on_upload(key: str, kind: str) -> None:
    """A new folder or zip in the uploader ``key``: into held_uploads' store (or why not)."""
    got = held_uploads.take(key, kind)
    if got is not None:
        st.session_state[state.TRAIN_FILES], st.session_state[state.TRAIN_FILES_ERROR] = got


def dataset_section() -> imageset.ImageDataset | None:
    """Pick and load a dataset; show its split, balance and a preview. None until usable."""
    kind = st.selectbox(
        _("Dataset"), list(SOURCES), format_func={k: _(v) for k, v in SOURCES.items()}.get, key=state.TRAIN_SOURCE
    )
    size, channels = 28, 1
    if kind in ("shapes", "folder", "zip", "camera"):
        c1, c2 = st.columns(2)
        st.session_state.setdefault(state.TRAIN_SIZE, DEFAULT_SIZE)  # no value=: the key is re-assigned every run
        size = c1.select_slider(
            _("Image size"),
            SIZES,
            key=state.TRAIN_SIZE,
            help=_("Every image is resized and centre-cropped to this square."),
        )
        # The generated shapes are always drawn in colour: the toggle would change nothing there.
        channels = 1 if kind != "shapes" and c2.toggle(_("Greyscale"), key=state.TRAIN_GREY) else 3
    try:
        if kind == "folder":
            st.file_uploader(
                _("A folder with one sub-folder per class"),
                accept_multiple_files="directory",
                key=state.TRAIN_FOLDER_UPLOAD,
                on_change=_on_upload,
                args=(state.TRAIN_FOLDER_UPLOAD, "folder"),
            )
        elif kind == "zip":
            st.file_uploader(
                _("A zip of class folders"),
                type=accept.ZIPS,
                key=state.TRAIN_ZIP_UPLOAD,
                on_change=_on_upload,
                args=(state.TRAIN_ZIP_UPLOAD, "zip"),
            )
        if kind == "camera":
            files = train_camera.shot_files()
            if files is None:
                return None
            ds = _uploaded(image_digest(b"".join(n.encode() + d for n, d in files)), "folder", files, size, channels)
        elif kind in ("folder", "zip"):
            held = st.session_state.get(state.TRAIN_FILES)
            payload = held_uploads.STORE.get(held) if held is not None and held.kind == kind else None
            if payload is None:
                if st.session_state.get(state.TRAIN_FILES_ERROR):
                    st.error(st.session_state[state.TRAIN_FILES_ERROR])
                elif held is not None and held.kind == kind:
                    st.warning(
                        _(
                            "Your upload was let go to make room for your classmates' uploads on this server; "
                            "please upload it again."
                        )
                    )
                st.info(_("Upload images sorted into one folder per class, e.g. cats/…, dogs/…."))
                return None
            ds = _uploaded(held.digest, kind, payload, size, channels)
        else:
            ds = _builtin(kind, size)
    except CnnvizError as e:
        st.error(str(e))
        return None
    st.caption(ds.summary())
    counts = pd.DataFrame(
        [
            {"class": c, "split": split_name(s), "images": n, "label": f"{split_name(s)} {n}"}
            for c, (tr, va) in ds.counts().items()
            for s, n in (("train", tr), ("validation", va))
        ]
    )
    # two bars per class, each named at its end ("train 400"): not told apart by colour alone
    bars = alt.Chart(counts).encode(
        y=alt.Y("class:N", sort=None, title=None),
        yOffset=alt.YOffset("split:N", sort=[split_name("train"), split_name("validation")]),
        x=alt.X("images:Q", title=_("images")),
        tooltip=[
            alt.Tooltip("class:N", title=_("class")),
            alt.Tooltip("split:N", title=_("split")),
            alt.Tooltip("images:Q", title=_("images")),
        ],
    )
    left, right = st.columns([1, 1.2])
    left.altair_chart(
        present.chart(
            (
                bars.mark_bar().encode(color=alt.Color("split:N", scale=split_colours(), legend=None))
                + labelled(bars.encode(text="label:N"), align="left", dx=3, fontSize=12)
            ).properties(height=min(360, 36 * len(ds.classes) + 40), description=chart_text.class_counts(ds.counts()))
        ),
        width="stretch",
    )
    grid = imageset.preview(ds, per_class=8)
    if len(ds.classes) > imageset.PREVIEW_CLASSES:
        rows = _("The first {shown} of {n} classes, one row each").format(
            shown=imageset.PREVIEW_CLASSES, n=len(ds.classes)
        )
    elif len(ds.classes) <= 12:
        rows = _("One row per class: {classes}").format(classes=", ".join(ds.classes))
    else:
        rows = _("One row per class")
    shown = min(len(ds.classes), imageset.PREVIEW_CLASSES)
    right.image(
        render.upscale(grid, render.fit_factor(grid.shape[1], 520)),
        caption=rows,
        alt=alt_lessons.dataset_preview(ds.classes, 8, shown),
    )
    use_recipe(ds)
    return ds


# ---------------------------------------------------------------------- architecture
def _on_preset() -> None:
    a = archs.PRESETS[st.session_state[state.TRAIN_ARCH]]
    ss = st.session_state
    ss[state.TRAIN_BLOCKS], ss[state.TRAIN_WIDTH] = len(a["channels"]), a["channels"][0]
    ss[state.TRAIN_KERNEL], ss[state.TRAIN_ACT], ss[state.TRAIN_POOL] = a["kernel"], a["activation"], a["pool"]
    ss[state.TRAIN_DROPOUT] = a["dropout"]  # batch norm is the dataset's recipe's choice (use_recipe)


def arch_section(ds: imageset.ImageDataset) -> dict | None:
    """The architecture dict from the builder widgets, with its layer table."""
    st.selectbox(
        _("Start from"),
        list(archs.PRESETS),
        key=state.TRAIN_ARCH,
        on_change=_on_preset,
        format_func=ARCH_NAMES.get,
    )
    kind = st.session_state[state.TRAIN_ARCH]
    base = archs.PRESETS[kind]
    if state.TRAIN_BLOCKS not in st.session_state:
        _on_preset()
    c = st.columns(4)
    blocks = c[0].slider(_("Conv blocks"), 1, 6, key=state.TRAIN_BLOCKS)
    width = c[1].select_slider(_("Channels (first block)"), WIDTHS, key=state.TRAIN_WIDTH)
    kernel = c[2].select_slider(_("Kernel size"), KERNELS, key=state.TRAIN_KERNEL)
    dropout = c[3].slider(_("Dropout"), 0.0, 0.7, step=0.1, key=state.TRAIN_DROPOUT)
    c = st.columns(4)
    act = c[0].selectbox(_("Activation"), list(archs.ACTIVATIONS), key=state.TRAIN_ACT)
    pool = c[1].selectbox(
        _("Pooling"), list(archs.POOLS), key=state.TRAIN_POOL, format_func={p: _(v) for p, v in POOL_NAMES.items()}.get
    )
    bn = c[2].toggle(_("Batch norm"), key=state.TRAIN_BN)
    every = base["pool_every"]
    # Channels double after every pooling layer, as in VGG: maps get smaller but more numerous.
    channels = [width * 2 ** (i // every) for i in range(blocks)]
    a = archs.preset(kind, channels=channels, kernel=kernel, activation=act, pool=pool, batchnorm=bn, dropout=dropout)
    try:
        model = archs.build_model(a, ds.channels, len(ds.classes), ds.size)
    except CnnvizError as e:
        st.error(str(e))
        return None
    model.eval()  # a throw-away model, traced once for its table: no batch-norm statistics change
    rows = [r for r in catalogue_model(model, (1, ds.channels, ds.size, ds.size)) if r.kind != "block"]
    c[3].metric(_("Parameters"), number(archs.count_params(model), 0))
    n = len(rows)
    with st.expander(
        ngettext("Layers and output shapes ({n} layer)", "Layers and output shapes ({n} layers)", n).format(n=n)
    ):
        st.dataframe(
            pd.DataFrame(
                [
                    {
                        _("layer"): r.name,
                        _("type"): r.type,
                        _("output shape"): " × ".join(map(str, r.out_shape)),
                        _("parameters"): r.params,
                    }
                    for r in rows
                ]
            ),
            hide_index=True,
            width="stretch",
            alt=ngettext(
                "The {n} layer of this network: type, output shape and parameters",
                "The {n} layers of this network: type, output shape and parameters",
                n,
            ).format(n=n),
        )
    return a


# ---------------------------------------------------------------------- augmentation
def use_recipe(ds: imageset.ImageDataset) -> None:
    """New data: its own starting settings (cnnviz/training/recipes.py), set before the
    architecture, augmentation and training widgets that show them are drawn; a link's own
    values of them stay."""
    if st.session_state.get(state.TRAIN_AUG_FOR) == ds.name:
        return
    r = recipe_for(ds.name)
    st.session_state[state.TRAIN_AUG_FOR] = ds.name
    kept = links.applied()
    recipe = {
        state.TRAIN_BN: r.batchnorm,
        state.TRAIN_FLIP: r.augment.flip,
        state.TRAIN_ROT: r.augment.rotate,
        state.TRAIN_SHIFT: r.augment.shift,
        state.TRAIN_BRIGHT: r.augment.brightness,
        state.TRAIN_EPOCHS: r.epochs,
        state.TRAIN_BATCH: r.batch_size,
        state.TRAIN_LR: r.lr,
    }
    st.session_state.update({k: v for k, v in recipe.items() if k not in kept})


def augment_section(ds: imageset.ImageDataset) -> Augment:
    """The augmentation widgets and a preview: each row is one image, changed six ways."""
    c = st.columns(4)
    aug = Augment(
        flip=c[0].toggle(_("Mirror"), key=state.TRAIN_FLIP, help=_("Wrong for digits: a mirrored 2 is no 2.")),
        rotate=c[1].slider(_("Rotate ±°"), 0.0, 45.0, step=5.0, key=state.TRAIN_ROT),
        shift=c[2].slider(_("Shift (crop) ±"), 0.0, 0.25, step=0.02, key=state.TRAIN_SHIFT),
        brightness=c[3].slider(_("Brightness ±"), 0.0, 0.5, step=0.1, key=state.TRAIN_BRIGHT),
    )
    picks = ds.train_idx[:: max(1, len(ds.train_idx) // 4)][:4]
    grid = render.tile(aug_preview(ds.x[picks], aug, copies=6), ncols=6, pad=2, fill=255).astype(np.uint8)
    changes = [
        *([_("mirrored")] if aug.flip else []),
        *([_("turned up to ±{deg}°").format(deg=f"{aug.rotate:g}")] if aug.rotate else []),
        *([_("shifted up to ±{p}").format(p=percent(aug.shift, 0))] if aug.shift else []),
        *([_("brightness changed up to ±{p}").format(p=percent(aug.brightness, 0))] if aug.brightness else []),
    ]
    st.image(
        render.upscale(grid, render.fit_factor(grid.shape[1], 420)),
        caption=_("Four training images (rows), each as the network might see it in six epochs"),
        alt=alt_lessons.augmentation(len(picks), 6, changes),
    )
    return aug


# ----------------------------------------------------------------------------- views


def filters_image(filters: np.ndarray) -> np.ndarray | None:
    return filter_grid(filters, width=300) if filters.size and filters.shape[0] else None
