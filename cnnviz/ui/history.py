"""One browser-history entry per view, so that one Back press returns to the previous view.

Why: Streamlit's page menu pushes a history entry for the new page that still carries the
old page's query string (its frontend keeps the query across a page link), then
``links.end`` writes the new page's parameters and the frontend pushes a second entry.
Back then first lands on ``/new-page?<old page's parameters>``: the same page again. The
frontend offers no way to replace instead of push, so a small script in the page (fixed
text, no data in it) turns the second push into a replace: a push that keeps the path of a
page just opened, before the user has acted again (pointer, key, focus leaving the page,
back/forward), rewrites that page's entry. ``st.switch_page(query_params=...)`` pushes the new
query on the old path first, then the new page: a page opened by a push made since the user's
last action replaces that entry. A widget change is a user action first, so it still gets
its own entry; back/forward runs already replace (the frontend's own rule). The clickable
pictures (``cnnviz.ui.clickable``) live in the page, not in an iframe: their clicks, taps and
keys reach these listeners like any other. Known gap: a click inside a component iframe
(the sidebar's drawing canvas) that already has the focus is not seen as an action.
"""

from __future__ import annotations

import streamlit as st

SCRIPT = """
<style>[data-testid="stElementContainer"]:has(script[data-cnnviz-history]) { display: none; }</style>
<script data-cnnviz-history>
(() => {
  const w = window;
  if (w.__cnnvizHistory) return;
  w.__cnnvizHistory = true;
  const h = w.history;
  const push = h.pushState.bind(h);
  const replace = h.replaceState.bind(h);
  // The path of the page opened last by a push (or loaded), until the user acts again:
  // this run's own URL write is then part of opening that page, not a new view.
  let opening = w.location.pathname;
  // Whether an entry was pushed since the user last acted: st.switch_page(query_params=...)
  // first writes the new query on the old page's path, then opens the page.
  let pushed = false;
  h.pushState = function (data, unused, url) {
    const next = url == null ? w.location.pathname : new URL(url, w.location.href).pathname;
    const here = w.location.pathname;
    if (opening !== null && next === opening && next === here) {
      return replace(data, unused, url);
    }
    opening = next !== here ? next : null;
    if (next !== here && pushed) {
      return replace(data, unused, url);  // that entry becomes the page it was opening
    }
    pushed = true;
    return push(data, unused, url);
  };
  const acted = () => { opening = null; pushed = false; };
  w.addEventListener("popstate", acted, true);
  w.addEventListener("blur", (e) => { if (e.target === w) acted(); });  // focus went to another window or an iframe
  w.document.addEventListener("pointerdown", acted, true);
  w.document.addEventListener("keydown", acted, true);
})();
</script>
"""


def one_entry_per_view() -> None:
    """Install the script once per browser tab (it guards itself); call it before the page runs."""
    st.html(SCRIPT, unsafe_allow_javascript=True)
