"""Streamlit glue of the Live page: the camera component (``live.js``, ``live.css``), its
stream's registration, Freeze, and the still-photo camera when the live one cannot run.

The frames do not go through Streamlit: the component posts them to the server's own route
(:mod:`cnnviz.camera.live_http`) with the token registered here, and draws the answers itself. A
script run happens only when the student changes a choice, presses Freeze, or the camera's
state changes (allowed, refused, absent, over the class's cap).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import streamlit as st

from cnnviz import i18n
from cnnviz.camera.live import LiveSettings
from cnnviz.camera.live_streams import MAX_LIVE, STREAMS
from cnnviz.i18n import N_, _
from cnnviz.models.loaded_model import LoadedModel
from cnnviz.ui import held_photos, state
from cnnviz.ui.owner import student
from cnnviz.ui.share import locked
from cnnviz.ui.sidebar import use_photo

_HERE = Path(__file__).parent
_mount = st.components.v2.component(
    "cnnviz.live_camera",
    js=(_HERE / "live.js").read_text(encoding="utf-8"),
    css=(_HERE / "live.css").read_text(encoding="utf-8"),
)

TROUBLE = {
    "denied": N_(
        "The browser was not allowed to use the camera. Allow it in the address bar, or take a still photo below."
    ),
    "absent": N_("No camera was found on this device. Take a still photo below, or pick a photo in the sidebar."),
    "insecure": N_(
        "Browsers allow the camera only on a secure address: open the app over https (the class server's "
        "address) or on localhost. Meanwhile, take a still photo below."
    ),
    "refused": N_("The live view is not running (at most {n} at once in a class); take a still photo below."),
}
FROZEN_NAME = "live frame"  # i18n: not UI (a file name: links and uploads key it)


def frame_side(lm: LoadedModel) -> int:
    """The frames' shorter side in px: the model's resize (no upscaling on the server), at most
    320; a digit model's (28) at least 96, so its centred square still has the ink's detail."""
    spec = lm.preprocess_spec
    return int(min(320, max(spec.resize, spec.size, 96 if spec.channels == 1 else 0)))


def words() -> dict[str, str]:
    """The words ``live.js`` draws, in the reader's language (``{name}``: filled in there)."""
    return {
        "video": _("Your camera's picture"),
        "top": _("Top 5"),
        "cam": _("Grad-CAM for “{label}” at {layer}"),
        "tiles": _("{layer}: its {n} strongest channels ({channels})"),
        "speed": _("{fps} frames/s · delay {delay} ms (server {server} ms)"),
        "live": _("Live: the network is watching your camera."),
        "retry": _("The server did not answer; trying again."),
        "insecure": _("This browser allows the camera only on a secure address (https, or localhost)."),
        "asking": _("Asking for the camera…"),
        "denied": _("The camera was not allowed."),
        "absent": _("No camera was found."),
    }


def camera(lm: LoadedModel, settings: LiveSettings, on: bool) -> str:
    """The camera and the answers, for this session's stream; returns the camera's state as
    the component last reported it ("" before it did)."""
    settings = replace(settings, lang=i18n.current())  # the frames' words: written outside this run
    token = STREAMS.register(held_photos.holder(), student(), lm, settings)
    base = (st.get_option("server.baseUrlPath") or "").strip("/")  # live_http.routes: the same prefix
    got = _mount(
        key=state.LIVE_VIEW,
        data={
            "token": token,
            "base": f"/{base}" if base else "",
            "side": frame_side(lm),
            "on": bool(on),
            "grey": lm.preprocess_spec.channels == 1,
            "lang": i18n.current(),  # the numbers' separators (Intl.NumberFormat)
            "words": words(),
        },
        on_camera_change=_ignore,
        width="stretch",
        height="content",
    )
    return (got.get("camera") if got is not None else None) or ""


def freeze() -> None:
    """on_click of Freeze: the frame whose answer shows becomes the sidebar's image (kept by
    content: links name it ``upload:<sha256>``)."""
    data = STREAMS.latest(held_photos.holder())
    if data is None:
        st.session_state[state.LIVE_NOTE] = _("No frame has been analysed yet: wait until the answers move.")
        return
    ext = "png" if data[:4] == b"\x89PNG" else "jpg"
    use_photo(data, f"{FROZEN_NAME}.{ext}")
    st.session_state[state.LIVE_NOTE] = _("Frozen: this frame is now the sidebar's image on every page.")


def freeze_button() -> None:
    st.button(
        _("Freeze"),
        key=state.LIVE_FREEZE,
        on_click=freeze,
        icon=":material/photo_camera:",
        disabled=locked(),
        width="stretch",
        help=_("The frame whose answers show becomes the sidebar's image, for every other page."),
    )


def freeze_note() -> None:
    """What the last Freeze did, once."""
    note = st.session_state.pop(state.LIVE_NOTE, None)
    if note:
        st.caption(note)


def _on_still() -> None:
    if (photo := held_photos.take(state.LIVE_STILL)) is not None:
        use_photo(photo, "camera.jpg")


def still_camera(trouble: str) -> None:
    """Why the live view does not run, and the still-photo camera instead."""
    st.warning(_(TROUBLE.get(trouble, TROUBLE["absent"])).format(n=MAX_LIVE), icon=":material/videocam_off:")
    st.camera_input(_("Take a still photo"), key=state.LIVE_STILL, on_change=_on_still)
    if st.session_state.get(state.IMAGE_NAME) == "camera.jpg":
        st.page_link(
            "pages/home.py",  # i18n: not UI (the page file)
            label=_("See what the network says on Predict"),
            icon=":material/label:",
        )


def leave() -> None:
    """The session's stream ends (the camera was turned off on the page)."""
    STREAMS.forget_session(held_photos.holder())


def _ignore() -> None:
    """The camera-state callback: Streamlit registers a state only for a named callback."""
