"""The Share panel and presenter mode: a view's link and QR code, "Add this view to the lesson",
the presenter toggles and style.

``links.end`` draws ``share_panel`` after each page; app.py calls ``presenter_style`` before it.
"""

from __future__ import annotations

import html
import io
import os
from urllib.parse import urlencode

import streamlit as st

from cnnviz.a11y import alt_text
from cnnviz.errors import CnnvizError
from cnnviz.i18n import N_, _, number
from cnnviz.lessons import links as L
from cnnviz.lessons.format import NOT_VIEWS, LessonError
from cnnviz.lessons.presenter import ROOT_PX
from cnnviz.lessons.public_url import ENV as PUBLIC_ENV
from cnnviz.lessons.public_url import PublicBase, lan_ipv4, public_base
from cnnviz.ui import lesson_store, state


def locked() -> bool:
    """Presenter mode with locked choices: the URL decides every run."""
    return bool(st.session_state.get(state.PRESENT) and st.session_state.get(state.LOCK))


def presenting() -> bool:
    return bool(st.session_state.get(state.PRESENT))


def link_base(page_path: str) -> PublicBase:
    """Where students open the app (cnnviz.lessons.public_url): the configured public address, else
    the browser's, with this server's LAN address for localhost; ``url`` "" (links relative)
    when the browser's address is unknown."""
    base = (st.context.url or "").rstrip("/")
    if page_path and base.endswith("/" + page_path):  # st.context.url can still hold the page's own path
        base = base[: -len(page_path) - 1]
    if not base:
        return PublicBase("", "browser")
    return public_base(
        base,
        public=os.environ.get(PUBLIC_ENV),
        server_address=st.get_option("browser.serverAddress"),  # "localhost" unless set: ignored then
        server_port=st.get_option("browser.serverPort"),
        base_path=st.get_option("server.baseUrlPath") or "",
        listen_address=st.get_option("server.address"),
        lan_ip=lan_ipv4(),
    )


def view_url(page_path: str, params: dict[str, str], base: PublicBase | None = None) -> str:
    """The full link of a view, on ``base`` (default: :func:`link_base`)."""
    root = (base or link_base(page_path)).url
    return f"{root}/{page_path}" + (f"?{urlencode(params)}" if params else "")


def qr_png(url: str, scale: int) -> bytes:
    """A QR code of ``url`` as PNG bytes, ``scale`` pixels per module (medium error correction).

    Raises CnnvizError when the link is longer than a QR code holds (2,331 bytes at this
    error correction; a link with many choices or a hand-made one can be)."""
    import segno

    buf = io.BytesIO()
    try:
        code = segno.make(url, error="m", micro=False)
    except segno.DataOverflowError:
        raise CnnvizError(
            _("This link is too long for a QR code ({n} characters): copy the link instead.").format(
                n=number(len(url), 0)
            )
        ) from None
    code.save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()


# The code as large as the screen allows: beside the link on a wide screen, above it on a phone
# (columns stack), never taller than the screen less the dialog's title and paddings: a fixed
# 640 px ran below the fold at 1280×720. Fixed CSS, no data in it.
QR_CSS = """
<style>
[role="dialog"] [data-testid="stImage"] img {
  width: auto !important; max-width: 100%; max-height: calc(100dvh - 11rem); image-rendering: pixelated;
}
[role="dialog"] [data-testid="stImageContainer"] { align-items: center; }
[role="dialog"] [data-testid="stCode"] code { font-size: 0.75rem; }
@media (max-width: 640px) { [role="dialog"] [data-testid="stAlert"] p { font-size: 0.8rem; } }
</style>
"""


def _big_qr(url: str, warning: str | None = None) -> None:
    """The view's QR code, as large as the screen allows, in a dialog titled in the reader's language."""
    st.dialog(_("Scan to open this view"), width="large")(_big_qr_body)(url, warning)


def _big_qr_body(url: str, warning: str | None = None) -> None:
    st.html(QR_CSS)
    code, text = st.columns([1, 1], vertical_alignment="center")
    try:
        code.image(qr_png(url, 12), alt=alt_text.qr(url))
    except CnnvizError as e:  # a link longer than a QR code holds: the sentence, and the link to copy
        code.warning(str(e))
    with text:
        if warning:
            st.warning(warning, icon=":material/wifi_off:")
        st.code(url, language=None, wrap_lines=True)


def share_panel(page_path: str, params: dict[str, str]) -> None:
    """The Share popover (link to copy, QR code) and the presenter toggles."""
    base = link_base(page_path)
    url = view_url(page_path, params, base)
    with st.popover(_("Share this view"), icon=":material/share:", width="stretch"):
        st.caption(_("Copy the link (button at its right), or show the class its QR code (the button below)."))
        st.code(url, language=None, wrap_lines=True)
        if base.warning:
            st.caption(base.warning)
        if "image" not in params and st.session_state.get(state.IMAGE_BYTES) is not None:
            st.caption(_("Your own photo is not in this link: this server does not keep shared photos."))
        elif params.get("image", "").startswith(L.UPLOAD_PREFIX):
            st.caption(
                _(
                    "Your photo is kept on this server so the link works for others here; "
                    "it is deleted after a while (see README)."
                )
            )
    if page_path not in NOT_VIEWS and st.button(
        _("Add this view to the lesson"), key=state.LESSON_ADDED, icon=":material/playlist_add:", width="stretch"
    ):
        try:
            added = _("Added as step {k} of your lesson (the Lesson page).").format(
                k=lesson_store.add_view(page_path, params)
            )
        except LessonError as e:  # e.g. a lesson at its size limit
            st.warning(str(e))
        else:  # a toast at the top, where the teacher looks; the sidebar's line can be below the fold
            st.toast(added, icon=":material/playlist_add_check:")
            st.success(added)
    # the QR code is made only when asked for: on every run it cost ~25 ms and a picture
    if st.button(_("Show the QR code"), key="link_big_qr", icon=":material/qr_code_2:", width="stretch"):
        _big_qr(url, base.warning)
    st.toggle(
        _("Presenter mode"),
        key=state.PRESENT,
        disabled=locked(),
        help=_(
            "For a projector: hides the sidebar's choices and enlarges text and pictures. "
            "It is part of the link (present=1)."
        ),
    )
    if presenting():
        st.toggle(
            _("Lock choices"),
            key=state.LOCK,
            help=_("Whoever opens the link sees exactly this view: changes are undone (lock=1)."),
        )


PRESENTER_CSS = f"""
<style>
html {{ font-size: {ROOT_PX}px; }}  /* Streamlit sizes text in rem: every text and control grows, pictures keep their fit */
/* ... and so do the gaps: a little tighter, so that the first picture stays above a 720 px fold */
[data-testid="stMainBlockContainer"] [data-testid="stVerticalBlock"] {{ gap: 0.8rem; }}
[data-testid="stMainBlockContainer"] h1 {{ font-size: 1.9rem; }}
</style>
"""
LOCKED_TEXT = N_("Locked by the presenter's link: this view stays as the link shows it.")
# Locked widgets of the main area ignore the pointer and say "(locked)" after their label
# (__LOCKED__: the word in the reader's language, as a CSS string).
LOCK_CSS = """
<style>
[data-testid="stMain"] [data-testid="stWidgetLabel"] ~ div { pointer-events: none; opacity: 0.75; }
[data-testid="stMain"] [data-testid="stWidgetLabel"] p::after { content: __LOCKED__; font-style: italic; }
</style>
"""
# ... and to the keyboard and a screen reader: while this script's element is on the page,
# every control of those widgets is aria-disabled with the reason as its description, and
# keys other than Tab and Escape do nothing there (the run would undo them). Fixed text, no
# data; the reason comes in the element's data-why (the reader's language), read at each
# change; installed once per tab, it undoes itself when the element goes (lock turned off).
LOCK_SCRIPT = """
<style>[data-testid="stElementContainer"]:has(script[data-cnnviz-lock]) { display: none; }</style>
<script data-cnnviz-lock data-why="__WHY__">
(() => {
  const w = window;
  if (w.__cnnvizLock) return;
  w.__cnnvizLock = true;
  const CONTROLS = '[data-testid="stMain"] [data-testid="stWidgetLabel"] ~ div :is(input, textarea, button, [role])';
  const on = () => !!document.querySelector("script[data-cnnviz-lock]");
  const mark = () => {
    const locked = on();
    const why = locked ? document.querySelector("script[data-cnnviz-lock]").dataset.why : "";
    for (const el of document.querySelectorAll(CONTROLS)) {
      if (locked && !el.hasAttribute("data-cnnviz-locked")) {
        el.setAttribute("data-cnnviz-locked", el.getAttribute("aria-disabled") || "");
        el.setAttribute("aria-disabled", "true");
        el.setAttribute("aria-description", why);
      } else if (!locked && el.hasAttribute("data-cnnviz-locked")) {
        const was = el.getAttribute("data-cnnviz-locked");
        if (was) el.setAttribute("aria-disabled", was); else el.removeAttribute("aria-disabled");
        el.removeAttribute("aria-description");
        el.removeAttribute("data-cnnviz-locked");
      }
    }
  };
  new MutationObserver(mark).observe(document.body, { childList: true, subtree: true });
  mark();
  document.addEventListener("keydown", (e) => {
    if (on() && e.key !== "Tab" && e.key !== "Escape" && e.target.closest && e.target.closest(CONTROLS)) {
      e.preventDefault();
      e.stopPropagation();
    }
  }, true);
})();
</script>
"""


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string: letters, digits, spaces and brackets as they are, every
    other character as a CSS escape (a translation's quote cannot end the string or the rule)."""
    return '"' + "".join(c if c.isalnum() or c in " ()" else f"\\{ord(c):x} " for c in text) + '"'


def presenter_style() -> None:
    """Enlarge the main area for a projector (fixed CSS, no data in it)."""
    if presenting():
        st.markdown(PRESENTER_CSS, unsafe_allow_html=True)
        if locked():
            st.markdown(LOCK_CSS.replace("__LOCKED__", css_string(" " + _("(locked)"))), unsafe_allow_html=True)
            st.html(
                LOCK_SCRIPT.replace("__WHY__", html.escape(_("Locked by the presenter's link"))),
                unsafe_allow_javascript=True,
            )
            st.info(
                _(LOCKED_TEXT) + " " + _("To explore on your own, turn off Lock choices in the sidebar."),
                icon=":material/lock:",
            )
