"""What a session is told when its server process was lost: that the server restarted (its
view came back from the URL), and which of its trainings were interrupted.

How this process knows. A browser tab whose websocket closes opens it again and names its
last session in the handshake (Streamlit's frontend sends it as the third
``Sec-WebSocket-Protocol`` entry, for the server to resume it). A process that still holds the
session resumes it and runs nothing new; a fresh session whose handshake names a session this
process never started is a tab that was served by another process, which stopped (a replica
that died, a process restarted behind nginx or Kubernetes). Such a session is built from the
URL alone (every view is a link) and says so in one line. A page reload sends no session id: a
new visit is told nothing.

Trainings a lost process was running are found through their markers on the shared folder
(:mod:`cnnviz.serving.inflight`), on every run, since a marker of another host is known to be left
behind only once its heartbeat is stale (seconds after the reconnection).
"""

from __future__ import annotations

import collections
import threading
import time

import streamlit as st

from cnnviz.i18n import N_, _
from cnnviz.serving import inflight
from cnnviz.ui import compat, state
from cnnviz.ui.text import plain

RESTARTED = N_("The server restarted: this view came back from its link; unsaved work is lost.")
# The stale page (still drawn from the lost process) asks this process for its pictures before
# this session's first run has made them again: 404. The run makes each again under the same
# URL (a digest of its bytes), which the browser then does not fetch again by itself: ask it
# to, for pictures that failed: in the page, its components' shadow roots and same-origin frames.
_RETRY_PICTURES = """<script>
const roots = (doc) => {
  const out = [doc];
  for (const el of doc.querySelectorAll("*")) if (el.shadowRoot) out.push(...roots(el.shadowRoot));
  for (const f of doc.querySelectorAll("iframe")) {
    try { if (f.contentDocument) out.push(...roots(f.contentDocument)); } catch (e) {}
  }
  return out;
};
for (const wait of [300, 1500, 5000]) setTimeout(() => {
  for (const root of roots(document))
    for (const img of root.querySelectorAll('img[src*="/media/"]'))
      if (img.complete && img.naturalWidth === 0) {
        const url = new URL(img.src);
        url.searchParams.set("again", String(wait));
        img.src = url.href;
      }
}, wait);
</script>"""
_STARTED: collections.OrderedDict[str, None] = collections.OrderedDict()  # sessions this process began
_MAX_REMEMBERED = 100_000  # ~10 MB of ids: more than a class of classes opens between restarts
_LOCK = threading.Lock()


def resumed_session(protocols: str | None) -> str | None:
    """The session a reconnecting tab names in its ``Sec-WebSocket-Protocol`` header (its
    third comma-separated entry, as Streamlit parses it), or None (a fresh page load)."""
    entries = [e.strip() for e in (protocols or "").split(",")]
    return entries[2] if len(entries) >= 3 and entries[2] else None


def came_from_elsewhere(session: str | None, resumed: str | None) -> bool:
    """Whether a new ``session`` whose tab named ``resumed`` was served by another process
    (or an earlier run of this one); remembers ``session`` as started here."""
    with _LOCK:
        if session:
            _STARTED[session] = None
            while len(_STARTED) > _MAX_REMEMBERED:
                _STARTED.popitem(last=False)
        return bool(resumed) and resumed != session and resumed not in _STARTED


def interrupted_text(marker: inflight.Marker, now: float) -> str:
    """One sentence (markdown, data escaped) for a training its server's stop interrupted."""
    minutes = max(0, round((now - marker.started) / 60))
    if minutes == 0:
        text = _(
            "Your training ({what}, started less than a minute ago) was interrupted: the server running it "
            "stopped. Nothing of it was saved; press Train on the Train page to run it again."
        )
    else:
        text = _(
            "Your training ({what}, started {minutes} min ago) was interrupted: the server running it "
            "stopped. Nothing of it was saved; press Train on the Train page to run it again."
        )
    return text.format(what=plain(marker.what, 120), minutes=minutes)


def notices(container, page: str, student: str) -> None:
    """Draw this session's notices in ``container`` (the top of the page ``page``)."""
    ss = st.session_state
    notes = ss.setdefault(state.REPLICA_NOTES, [])
    if not ss.get(state.REPLICA_SEEN):
        ss[state.REPLICA_SEEN] = True
        try:
            protocols = st.context.headers.get("Sec-WebSocket-Protocol")
        except Exception:  # no browser behind this session
            protocols = None
        if not isinstance(protocols, str):  # AppTest answers with a mock
            protocols = None
        if came_from_elsewhere(compat.session_id(), resumed_session(protocols)):
            notes.append((page, _(RESTARTED)))
            container.html(_RETRY_PICTURES, unsafe_allow_javascript=True)
    now = time.time()
    for marker in inflight.interrupted(student, now=now):
        notes.append((page, interrupted_text(marker, now)))
        inflight.dismiss(marker)
    ss[state.REPLICA_NOTES] = notes = [(p, text) for p, text in notes if p == page]  # gone once they move on
    for _page, text in notes:
        container.warning(text, icon=":material/sync_problem:")
