"""The page frame: a compact header for a projector (1280×720), controls a thumb can hit,
and a page menu that gets out of the way on a phone.

Streamlit leaves ~6 rem above the first element and draws titles at 2.75 rem: at 720 px that
pushed every page's main picture to the fold. Our own static CSS and script, no data in them.
"""

from __future__ import annotations

import streamlit as st

_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding: 3.6rem 2.5rem 2rem 2.5rem; }
/* a phone: Streamlit's own 1 rem at the sides (2.5 rem left 305 of 390 px to the pictures) */
@media (max-width: 640px) {
  [data-testid="stMainBlockContainer"] { padding-left: 1rem; padding-right: 1rem; }
  /* number grids (Convolution, Pooling): tighter cells, so that 6 columns fit a phone */
  .cnnviz-grids td { padding: 2px 4px !important; font-size: 0.85rem !important; }
}
[data-testid="stMainBlockContainer"] h1 { font-size: 2.1rem; padding-top: 0.25rem; padding-bottom: 0.25rem; }
[data-testid="stMainBlockContainer"] h2 { font-size: 1.55rem; }
[data-testid="stSidebarHeader"] { height: 1.5rem; min-height: 1.5rem; padding-top: 0.5rem; }
[data-testid="stSidebarUserContent"] { padding-top: 0.5rem; }
/* an st.html that only runs a script (this menu's, the owner cookie's) takes no room and no gap */
[data-testid="stElementContainer"]:has(> [data-testid="stHtml"] > script:only-child) { display: none; }
/* WCAG 2.5.8: every target at least 24×24 px. Radio options are 23.8 px tall (1.4 rem), toggles
   22; the "?" help buttons and the headings' link icons 17×17 (negative margins: nothing moves). */
[data-testid="stCheckbox"] label, [data-testid="stRadio"] label { min-height: 24px; }
[data-testid="stTooltipHoverTarget"] > button, [data-testid="stHeaderActionElements"] a {
  min-width: 24px; min-height: 24px; margin: -3.5px; display: inline-flex; align-items: center; justify-content: center;
}
</style>
"""

# On a narrow screen the top bar's page menu moves into the sidebar, which then covers ~80 % of
# the page. Streamlit closes it after a page is picked only when the browser's user agent says
# "mobile": a tablet, a phone asking for the desktop site or a narrow window kept it open over
# the page just opened. This closes it after a click (or Enter) on a page link whenever the
# sidebar lies over the page (Streamlit's md breakpoint, 768 px). Registered once per tab.
_CLOSE_MENU_JS = """
<script>
(() => {
  if (window.cnnvizMenuCloser) return;
  window.cnnvizMenuCloser = true;
  document.addEventListener("click", (e) => {
    const link = e.target instanceof Element && e.target.closest('[data-testid="stSidebarNavLink"]');
    if (!link || window.innerWidth > 768) return;
    setTimeout(() => {  // after Streamlit's own handler, which may have closed it already (mobile)
      const close = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
      if (close && close.getAttribute("aria-expanded") === "true") close.click();
    }, 0);
  }, true);
})();
</script>
"""


def apply() -> None:
    """The page's title, icon, width and frame: call once per run, before the page draws."""
    st.set_page_config(page_title="CNN Explorer", page_icon=":material/search:", layout="wide")  # i18n: not UI (a name)
    st.html(_CSS)
    st.html(_CLOSE_MENU_JS, unsafe_allow_javascript=True)
