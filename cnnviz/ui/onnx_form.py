"""The sidebar's form for an uploaded ONNX file's preprocessing (mean, std, channel order,
pixel range, resize, class names).

What the student sets is written into a copy of the file's ``metadata_props``
(:func:`cnnviz.models.onnx_file.with_metadata`) and stored as a new upload: the settings are
kept with the file, by its content's digest, and the new content is a model of its own in
every shared cache (a classmate who uploaded the same original keeps theirs).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from cnnviz.errors import CnnvizError
from cnnviz.i18n import _
from cnnviz.models.zoo import imagenet_classes
from cnnviz.serving import memguard, uploads
from cnnviz.ui import state
from cnnviz.ui.owner import student

_RANGES = {1: "0..1", 255: "0..255"}  # the range mean and std are given in


def _numbers(values: tuple[float, ...]) -> str:
    return ", ".join(f"{v:g}" for v in values)


def preprocessing_form(path: str, model: str) -> None:
    """The form for the ONNX file at ``path`` (the sidebar's "My file" of ``model``); on
    "Keep with this file", the file with the new metadata becomes the sidebar's weights."""
    # Imported when a student first brings an ONNX file: onnx takes ~0.6 s of CPU to import,
    # which the server's start (and every first visitor) would pay (docs/PERFORMANCE.md, "Cold start").
    from cnnviz.models import onnx_file

    try:
        info = onnx_file.info(path, model, imagenet_classes)
    except CnnvizError:
        return  # the page says why the file was refused
    s, pre = info.metadata["onnx"], info.preprocess
    tag = Path(path).parent.name[:16]  # the content's digest: a new file starts a new form
    with st.expander(_("Preprocessing of this ONNX file")), st.form(f"{state.ONNX_FORM}_{tag}", border=False):
        st.caption(
            _(
                "Input: {channels} channel(s) of {size}×{size} pixels, {classes} classes. Read from the "
                "file's metadata (cnnviz.mean, cnnviz.std, cnnviz.resize, cnnviz.labels) when it has them, else "
                "ImageNet's defaults; what you keep here is written into a copy of the file."
            ).format(channels=s.channels, size=s.size, classes=s.classes)
        )
        mean = st.text_input(
            _("Mean (one per channel, pixels 0..1)"), _numbers(pre.mean), key=f"{state.ONNX_MEAN}_{tag}"
        )
        std = st.text_input(_("Std (one per channel)"), _numbers(pre.std), key=f"{state.ONNX_STD}_{tag}")
        left, right = st.columns(2)
        order = "RGB"  # a grey model has one channel: no order to choose
        if s.channels == 3:
            order = left.selectbox(_("Channels"), ["RGB", "BGR"], index=int(pre.bgr), key=f"{state.ONNX_ORDER}_{tag}")
        scale = right.selectbox(
            _("Pixels in"),
            [1, 255],
            index=int(pre.scale == 255),
            format_func=_RANGES.get,
            key=f"{state.ONNX_RANGE}_{tag}",
        )
        resize = st.number_input(
            _("Resize the shorter side to (then crop the centre)"),
            min_value=s.size,
            max_value=2 * onnx_file.MAX_SIZE,
            value=pre.resize,
            key=f"{state.ONNX_RESIZE}_{tag}",
        )
        labels = st.text_area(
            _("Class names, one per line"),
            "\n".join(info.classes()),
            height=120,
            key=f"{state.ONNX_LABELS}_{tag}",
        )
        if not st.form_submit_button(_("Keep with this file")):
            return
    try:
        meta = onnx_file.form_metadata(
            s, mean, std, int(resize), labels, onnx_file.label(path), bgr=order == "BGR", scale=scale
        )
        data = Path(path).read_bytes()
        with memguard.reserve(3 * len(data), _("saving this file's preprocessing")):
            new = uploads.store(onnx_file.with_metadata(data, meta, onnx_file.label(path)), Path(path).name, student())
    except (CnnvizError, OSError) as e:
        st.error(str(e) if isinstance(e, CnnvizError) else _("The file is no longer on the server; upload it again."))
        return
    st.session_state[state.WEIGHTS_PATH] = str(new)
    st.rerun()
