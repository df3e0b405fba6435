"""Every view in its URL: links in, links out, "Share this view" and presenter mode.

How it fits together (app.py calls the first and last, each page calls ``page``):

- ``begin(url_path)`` — before the sidebar. If the URL is not the one this session wrote
  last (a link opened, back/forward, ``st.switch_page(..., query_params=...)``), the
  sidebar parameters (model, weights, image, present, lock) are checked and put into the
  session. A page link in the sidebar keeps the previous page's query string: then the new
  page gets the choices it had when last shown.
- ``page(**params)`` — the first call of every page: ``links.page(layer=links.layer_param(
  state.FEAT_LAYER), channel=links.int_param(state.FEAT_CHANNEL), ...)`` declares which
  session keys this page keeps in the URL, under which parameter names (README, "Links"),
  and puts the link's values into them before the widgets are drawn. It also fixes a
  page opened on a cold server without app.py (see ``_ensure_app_ran``).
- ``end(notice, share)`` — after the page: one message for the parts of a link that could
  not be used (checked values, and values the page itself reset: a layer the model lacks,
  a channel out of range), then the view's parameters are written to the URL (the browser
  gets a history entry per view) and the Share panel is drawn (``cnnviz/ui/share.py``, which
  also holds presenter mode).
"""

from __future__ import annotations

import runpy
import sys
import threading
from pathlib import Path
from urllib.parse import urlencode

import streamlit as st

from cnnviz.errors import CnnvizError, ImageError
from cnnviz.i18n import _
from cnnviz.inputs.gallery import SAMPLES, sample_bytes
from cnnviz.lessons import links as L
from cnnviz.lessons.links import (  # noqa: F401 (re-exported for pages)
    Param,
    bool_param,
    choice_param,
    float_param,
    int_param,
    layer_param,
    model_param,
    numbers_param,
)
from cnnviz.serving import uploads
from cnnviz.serving.sharing import default_store
from cnnviz.ui import compat, held_photos, language, loaders, state
from cnnviz.ui.owner import openable, student, visible_models
from cnnviz.ui.share import locked, share_panel

__all__ = [
    "Param",
    "applied",
    "begin",
    "bool_param",
    "choice_param",
    "end",
    "float_param",
    "int_param",
    "layer_param",
    "model_param",
    "numbers_param",
    "page",
    "stop",
]

_run = threading.local()  # this script run's page, declared parameters and link values
GLOBAL_NAMES = ("model", "weights", "image", "present", "lock", "lang")  # lang: cnnviz.ui.language
MAX_WRITTEN = 64  # query strings remembered to recognise the entry a sidebar page link pushes


@st.cache_resource
def shared_images():
    """The server's store of shared uploads (cnnviz.serving.sharing; configured by the environment)."""
    return default_store()


def _canon(params: dict) -> str:
    return urlencode(sorted(params.items()))


def _global_spec() -> dict[str, Param]:
    return {
        # Only models this browser may open: another's private model reads as an unknown name.
        "model": model_param(state.MODEL, openable()),
        "present": bool_param(state.PRESENT),
        "lock": bool_param(state.LOCK),
    }


def begin(url_path: str) -> None:
    """Read the URL into the session when it is new to this session (see module docstring)."""
    ss = st.session_state
    _run.page, _run.spec, _run.applied, _run.problems, _run.quiet = url_path, {}, {}, [], False
    _run.refused_model = None
    _run.began = True
    query = st.query_params.to_dict()
    too_long = L.query_too_long(query)
    if too_long:
        _run.problems.append(too_long)
        st.query_params.clear()  # not kept: the view's own link replaces it
        query = {}
    last = ss.get(state.LINK_LAST)
    written = ss.get(state.LINK_WRITTEN) or {}
    qkey = _canon(query)
    if last is not None and qkey == _canon(last["params"]) and not locked():
        # widgets drive this run; a different page means a sidebar page link was clicked
        _run.query = None if url_path == last["page"] else _remembered(url_path, query)
    elif last is not None and written.get(qkey) not in (None, url_path) and not locked():
        _run.query = _remembered(url_path, query)  # the history entry such a click pushed
    else:
        if last is not None and not locked():  # only what differs from the view last written is news
            query = {
                k: v
                for k, v in query.items()
                if last["params"].get(k) != v or (k not in GLOBAL_NAMES and last["page"] != url_path)
            }
        _run.query = query
        _apply_globals(query)


def _remembered(url_path: str, query: dict[str, str]) -> dict[str, str]:
    """A page opened from the page menu (the URL still holds the last page's view): the choices
    this page had when last shown, else the shared ones of the last page (its layer, channel...),
    as long as the model is the same (layer names belong to a model)."""
    _run.quiet = True  # values this session chose itself: no message if the page resets one
    model = st.session_state.get(state.MODEL)
    carried = {k: v for k, v in query.items() if k not in GLOBAL_NAMES} if query.get("model") == model else {}
    kept = (st.session_state.get(state.LINK_PAGES) or {}).get(url_path, {})
    if kept.get("model") != model:
        kept = {}
    return {**carried, **kept}


def _apply_globals(query: dict[str, str]) -> None:
    ss = st.session_state
    spec = _global_spec()
    values, problems = L.parse_params(spec, query)
    if "model" in query and "model" not in values:
        # another browser's private model or an unknown name: the default model, said once (end)
        _run.refused_model = query["model"]
        problems = [p for p in problems if not p.startswith("model ")]
        ss[state.MODEL] = state.DEFAULT_MODEL
    for name, v in values.items():
        ss[spec[name].key] = v
    if "weights" in query:
        problems += _apply_weights(query["weights"])
    if "image" in query:
        problems += _apply_image(query["image"])
    _run.problems += problems


def _weights_digest() -> str | None:
    """The SHA-256 of the session's uploaded weights file (its folder's name, cnnviz.serving.uploads), or None."""
    path = st.session_state.get(state.WEIGHTS_PATH)
    digest = Path(path).parent.name if path else ""
    return digest if L.DIGEST_RE.fullmatch(digest) else None


def _apply_weights(raw: str) -> list[str]:
    """Put the link's weights into the session: trained, random, or an uploaded file kept on this
    server (``upload:<sha256>``); problems as phrases (the session keeps its weights)."""
    ss = st.session_state
    try:
        kind, digest = L.weights_ref(raw)
    except L.LinkValueError as e:
        return [str(e)]
    if digest is None:
        ss[state.WEIGHTS] = kind
        return []
    if ss.get(state.WEIGHTS) == state.WEIGHTS_FILE and _weights_digest() == digest:
        return []
    if not shared_images().enabled:
        return [_("this server does not share uploads, so the linked weights file is not here")]
    path = uploads.find(digest, owner=student())  # holds it for this student too
    if path is None:
        return [
            _(
                "the weights file upload:{digest}… is not on this server (uploaded weights are kept for a limited time)"
            ).format(digest=digest[:12])
        ]
    ss[state.WEIGHTS], ss[state.WEIGHTS_PATH], ss[state.WEIGHTS_LINKED] = state.WEIGHTS_FILE, str(path), str(path)
    return []


def _apply_image(raw: str) -> list[str]:
    """Put the link's image into the session; problems as phrases (the session keeps its image)."""
    ss = st.session_state
    try:
        kind, ref = L.image_ref(raw, SAMPLES)
    except L.LinkValueError as e:
        return [str(e)]
    if kind == "gallery":
        if ss.get(state.IMAGE_REF) != ref:
            try:
                data = sample_bytes(ref)
            except ImageError as e:
                return [str(e).rstrip(".")]
            held_photos.STORE.release(held_photos.holder())  # the gallery photo replaces it
            ss[state.IMAGE_SOURCE], ss[state.GALLERY] = state.SOURCE_GALLERY, ref
            ss[state.IMAGE_BYTES], ss[state.IMAGE_NAME], ss[state.IMAGE_REF] = data, ref, ref
        return []
    if ss.get(state.IMAGE_REF) == L.UPLOAD_PREFIX + ref:
        return []
    store = shared_images()
    if not store.enabled:
        return [_("this server does not keep shared photos, so the linked photo is not here")]
    data = store.get(ref)
    if data is None:
        return [
            _("the shared photo upload:{digest}… is not on this server (photos are kept for a limited time)").format(
                digest=ref[:12]
            )
        ]
    ss[state.IMAGE_SOURCE] = state.SOURCE_UPLOAD
    ss[state.IMAGE_BYTES], ss[state.IMAGE_NAME] = (
        held_photos.keep(data),
        _("shared photo {digest}").format(digest=ref[:8]),
    )
    ss[state.IMAGE_REF] = L.UPLOAD_PREFIX + ref
    return []


def page(**params: Param) -> None:
    """Declare the session keys this page keeps in its URL; apply a link's values to them.

    Call it first thing in a page, before any widget. ``params``: parameter name → Param
    (``int_param``, ``float_param``, ``choice_param``, ``bool_param``, ``layer_param``).
    """
    _ensure_app_ran()
    _run.spec = params
    query = getattr(_run, "query", None)
    if not query:
        return
    values, problems = L.parse_params(params, query)
    if not _run.quiet:
        _run.problems += problems
    ss = st.session_state
    for name, v in values.items():
        p = params[name]
        for k in p.clear:
            ss.pop(k, None)
        ss[p.key] = v
        _run.applied[p.key] = (name, v)


def applied() -> frozenset[str]:
    """The session keys this run's link set (a page's own defaults must not overwrite them)."""
    return frozenset(getattr(_run, "applied", {}))


class PageEnd(Exception):  # noqa: N818 (not an error: the page is done)
    """Raised by :func:`stop`; app.py catches it around ``nav.run()``."""


def stop() -> None:
    """End the page here; use it in pages instead of ``st.stop()``.

    After ``st.stop()`` every Streamlit call raises, so ``links.end`` could neither write the
    view's URL nor draw the Share panel (Grad-CAM before its layer sweep, the Train page before
    a training). In a fragment's own rerun (no app.py around it) this is ``st.stop()``.
    """
    if compat.run_context() is None or compat.fragment_run() or not getattr(_run, "began", False):
        st.stop()
    raise PageEnd


def _ensure_app_ran() -> None:
    """Run app.py first when a page file was started without it.

    AppTest serves page URLs through Streamlit's automatic pages/ folder on every run after
    the first (the server never does: ``compat.navigation_only``): it runs a page file such
    as pages/features.py alone (no session defaults, no sidebar: a KeyError). Then we switch
    that mode off, as st.navigation does, and run app.py here, in this script run (a rerun
    would drop a button's click): it opens the page the URL names, with its query, and this
    outer run stops.
    """
    if getattr(_run, "began", False) or getattr(_run, "inlining", False):
        return
    main_script = compat.main_script_path()
    if main_script is None:
        return
    compat.navigation_only()
    _run.inlining = True
    try:
        runpy.run_path(main_script, run_name="__main__")
    finally:
        _run.inlining = False
    st.stop()


def _image_param() -> str | None:
    """``image=`` for the session's picture: a gallery name, ``upload:<sha256>``, or None."""
    ss = st.session_state
    ref = ss.get(state.IMAGE_REF)
    got = None if ref else loaders.current_image_bytes()
    if got is None:
        return ref
    try:
        # the image the page decoded (cached by digest), not a second decode of the bytes
        img = loaders.decoded_image(got[0], got[1])
        digest = shared_images().put(img, owner=student())  # within this student's share
    except CnnvizError:
        return None
    if digest is None:
        return None
    ss[state.IMAGE_REF] = L.UPLOAD_PREFIX + digest
    return ss[state.IMAGE_REF]


def current_params() -> dict[str, str]:
    """The view's query parameters, from the session (sidebar choices + the page's)."""
    ss = st.session_state
    out = {"model": str(ss.get(state.MODEL))}
    if ss.get(state.WEIGHTS) in (state.WEIGHTS_PRETRAINED, state.WEIGHTS_RANDOM):
        out["weights"] = ss[state.WEIGHTS]
    elif ss.get(state.WEIGHTS) == state.WEIGHTS_FILE and _weights_digest() and shared_images().enabled:
        out["weights"] = L.UPLOAD_PREFIX + _weights_digest()  # the file stays on this server (cnnviz.serving.uploads)
    image = _image_param()
    if image:
        out["image"] = image
    out.update(L.format_params(getattr(_run, "spec", {}), ss))
    if ss.get(state.FOLLOW_CODE):  # a reload follows again, or (on one's own) keeps "Back to the teacher"
        out["class"] = ss[state.FOLLOW_CODE]
        if ss.get(state.FOLLOW_OWN):
            out["own"] = "1"
    out.update(language.url_param())  # the class's language travels with the teacher's links
    if ss.get(state.PRESENT):
        out["present"] = "1"
        if ss.get(state.LOCK):
            out["lock"] = "1"
    return out


def end(notice, share) -> None:
    """After the page: the message for a link's unusable parts, the URL, the Share panel.

    ``notice``: a container at the top of the main area; ``share``: one in the sidebar.
    Does nothing when the run is being replaced (st.rerun, st.switch_page).
    """
    _run.began = False
    exc = sys.exc_info()[1]
    if exc is not None and type(exc).__name__ == "RerunException":
        return
    ss = st.session_state
    problems = list(getattr(_run, "problems", []))
    spec = getattr(_run, "spec", {})
    refused = getattr(_run, "refused_model", None)
    dropped = []
    for key, (name, v) in getattr(_run, "applied", {}).items():
        if ss.get(key) != v and not _run.quiet:  # the page reset it: not a layer/channel/class this view has
            dropped.append(f"{name} {L.shown(spec[name].fmt(v))}")
    if refused is not None:  # what the fallback model lacks is said in the same sentence
        title = next((i.title for i in visible_models() if i.name == ss.get(state.MODEL)), str(ss.get(state.MODEL)))
        notice.warning(L.refused_model_message(refused, title, dropped), icon=":material/lock:")
    else:
        problems += [_("{what} does not exist for this model and choice").format(what=d) for d in dropped]
    if problems:
        notice.warning(L.problems_message(problems), icon=":material/link_off:")
    params = current_params()
    page_path = getattr(_run, "page", "")
    if not locked() and params != st.query_params.to_dict():
        st.query_params.from_dict(params)
    ss[state.LINK_LAST] = {"page": page_path, "params": params}
    written = dict(ss.get(state.LINK_WRITTEN) or {})
    written[_canon(params)] = page_path
    ss[state.LINK_WRITTEN] = dict(list(written.items())[-MAX_WRITTEN:])
    pages = dict(ss.get(state.LINK_PAGES) or {})
    pages[page_path] = {n: params[n] for n in ("model", *spec) if n in params}
    ss[state.LINK_PAGES] = pages
    with share:
        share_panel(page_path, params)
