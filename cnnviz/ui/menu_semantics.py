"""The page menu's list markup, repaired for screen readers (Streamlit 1.67's own markup).

With ``st.navigation`` sections, Streamlit draws the sidebar menu (the one a phone gets) as a
``<ul>`` whose children are section ``<div>``s holding a header and the ``<li>`` links: axe
reports "list" and "listitem" (serious) and a screen reader announces broken lists. A small
static script (no data in it) takes the list roles off that menu (``role="none"`` on the
``<ul>`` and its ``<li>``), leaving the section headers and links as they are; a
MutationObserver does it again when Streamlit redraws the menu. Remove it once Streamlit's
menu is a valid list (``tests/browser/test_axe_browser.py`` fails again if it is not).
"""

from __future__ import annotations

import streamlit as st

_SCRIPT = """
<script>
(() => {
  if (window.cnnvizMenuSemantics) return;
  window.cnnvizMenuSemantics = true;
  const repair = () => {
    for (const ul of document.querySelectorAll('ul[data-testid="stSidebarNavItems"]')) {
      if ([...ul.children].every((c) => c.tagName === 'LI')) continue;  // already a valid list
      ul.setAttribute('role', 'none');
      for (const li of ul.querySelectorAll('li')) li.setAttribute('role', 'none');
    }
  };
  let queued = false;
  new MutationObserver(() => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; repair(); });
  }).observe(document.body, {childList: true, subtree: true});
  repair();
})();
</script>
"""


def repair() -> None:
    """Install the repair once per browser tab (called on every run; the script guards itself)."""
    st.sidebar.html(_SCRIPT, unsafe_allow_javascript=True)
