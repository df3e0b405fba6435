"""Every page in Spanish and in German, in real Chromium at a projector's 1280x720.

On each page: ``<html lang>`` is the language's, no English sentence of the catalogue is
shown (model, layer and class names are data, not catalogue strings), nor one of the other
language (what a cache shared by sessions of two languages would show), and no button, tab,
label, heading or menu entry is cut (German words are long). The browser's own language
chooses for a first visit; a ``lang=`` link and the picker are checked too. Screenshots of
Predict, Network and Grad-CAM in the three languages go to artifacts/screenshots/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cnnviz import i18n, i18n_check
from testing.browser import no_exception, wait_idle
from testing.helpers import nav_pages

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "artifacts" / "screenshots"
NAV = nav_pages()
SHOWN = {"pages/home.py": "predict", "pages/network.py": "network", "pages/gradcam.py": "gradcam"}

# Elements whose text must fit: they clip or wrap badly when a translation is too long.
_CUT = """() => {
  const cut = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) cut.push(`page ${root.scrollWidth} px wide`);
  const sel = 'main button, main [role="tab"], [data-testid="stWidgetLabel"], [data-testid="stMetricLabel"], '
    + 'main h1, main h2, main h3, [data-testid="stTopNavSection"], [data-testid="stSidebar"] button, '
    + '[data-testid="stCaptionContainer"]';
  for (const el of document.querySelectorAll(sel)) {
    if (!el.offsetParent || !el.innerText.trim()) continue;
    for (const e of [el, ...el.querySelectorAll('p, span, div')]) {
      const cs = getComputedStyle(e);
      const clips = cs.overflowX !== 'visible' || cs.textOverflow === 'ellipsis';
      if (clips && e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0) {
        cut.push(`${el.innerText.trim().slice(0, 60)} (${e.scrollWidth} > ${e.clientWidth} px)`);
        break;
      }
    }
  }
  return cut;
}"""


def _phrases(text: str) -> list[re.Pattern]:
    """The fixed parts of 3+ words of a catalogue text, as the page shows them (markdown marks and
    placeholders taken out), as patterns that match whole words across any whitespace."""
    out = []
    for part in re.split(r"\{[^{}]*\}|\*\*|`|_|\n", text):
        words = part.split()
        if len(words) >= 3 and sum(len(w) > 2 for w in words) >= 3:
            out.append(re.compile(r"(?<![\w])" + r"\s+".join(map(re.escape, words)) + r"(?![\w])"))
    return out


def _foreign_sentences(lang: str) -> list[tuple[str, re.Pattern]]:
    """(what, pattern) for each sentence of another language that ``lang``'s page must not show:
    English where ``lang`` translates it differently, and the other catalogues' translations (a
    cache that kept one session's language would show them)."""
    mine = i18n_check.catalogue(lang) if lang != i18n.SOURCE else {}
    out = []
    for other in i18n.LANGUAGES:
        if other == lang:
            continue
        source = i18n_check.catalogue(other if other != i18n.SOURCE else lang)
        for key, message in source.items():
            english = message.id[0] if isinstance(message.id, tuple) else message.id
            theirs = english if other == i18n.SOURCE else message.string
            theirs = theirs[0] if isinstance(theirs, tuple) else theirs
            ours = mine[key].string if key in mine else english
            ours = ours[0] if isinstance(ours, tuple) else ours
            if theirs and theirs != ours:
                out += [(f"{other}: {theirs}", p) for p in _phrases(theirs)]
    return out


def _foreign_shown(page, sentences) -> list[str]:
    text = page.locator("body").inner_text()
    return sorted({what for what, pattern in sentences if pattern.search(text)})


def _open(page, url: str) -> None:
    page.goto(url)
    page.locator('[data-testid="stTopNavSection"]').first.wait_for(timeout=120_000)
    wait_idle(page, 120_000)


def _goto(page, title: str) -> None:
    link = page.locator('[data-testid="stTopNavDropdownLink"]').filter(has=page.get_by_text(title, exact=True))
    for section in page.locator('[data-testid="stTopNavSection"]').all():
        if section.evaluate("e => e.closest('[inert]') !== null"):
            continue  # in the overflow menu ("3 more"), which is a section of its own
        section.click()
        page.wait_for_timeout(150)
        if link.count() and link.first.is_visible():
            link.first.click()
            wait_idle(page, 120_000)
            return
        page.keyboard.press("Escape")
    raise AssertionError(f"no page called {title!r} in the top bar")


def _walk(page, lang: str) -> None:
    sentences = _foreign_sentences(lang)
    assert len(sentences) > 600  # the check has teeth: most of the app's sentences, twice
    problems = []
    for path, title in NAV:
        with i18n.use(lang):
            shown_title = i18n._(title)
        _goto(page, shown_title)
        page.locator("main h1").first.wait_for(timeout=120_000)
        wait_idle(page, 120_000)
        page.wait_for_timeout(500)  # pictures and charts settle
        no_exception(page)
        assert page.evaluate("document.documentElement.lang") == lang, path
        problems += [f"{path}: shown: {m[:90]!r}" for m in _foreign_shown(page, sentences)]
        problems += [f"{path}: cut: {c}" for c in page.evaluate(_CUT)]
        hidden = page.evaluate(
            """() => [...document.querySelectorAll('[data-testid="stTopNavSection"]')]
                 .filter(e => e.closest('[inert]')).map(e => e.innerText)"""
        )
        problems += [f"{path}: menu section in the overflow: {h}" for h in hidden]  # the top bar is full
        if path in SHOWN:
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / f"lang_{lang}_{SHOWN[path]}.png"))
    assert not problems, "\n".join(problems)


@pytest.fixture
def projector(browser, request):
    """A 1280x720 page whose browser prefers the language named by the test's parameter."""
    locale = getattr(request, "param", "en-US")
    ctx = browser.new_context(viewport={"width": 1280, "height": 720}, locale=locale)
    page = ctx.new_page()
    page.set_default_timeout(60_000)
    yield page
    ctx.close()


@pytest.mark.parametrize("projector", ["de-DE"], indirect=True)
def test_german_browser_gets_german_everywhere(projector, app_url):
    """A first visit from a German browser: German without a link or a click, on every page."""
    _open(projector, app_url)
    assert projector.get_by_role("combobox", name="Sprache").count() == 1
    _walk(projector, "de")
    # the words Streamlit's own widgets draw: the uploader's limit line, the top bar's overflow
    projector.locator('[data-testid="stSidebar"]').get_by_text("Hochladen", exact=True).click()
    wait_idle(projector)
    uploader = projector.locator('[data-testid="stFileUploader"]')
    uploader.get_by_text(re.compile(r"MB pro Datei")).wait_for()
    assert "per file" not in uploader.inner_text()
    assert "more" not in projector.locator("header").inner_text()


# <html lang> as the page had it when its HTML was parsed, before any script of Streamlit's or
# the app's ran (those run after the document is interactive).
_LANG_AT_PARSE = """document.addEventListener('readystatechange', () => {
  if (document.readyState === 'interactive') window.__langAtParse = document.documentElement.lang;
});"""


@pytest.mark.parametrize(
    ("projector", "query", "lang"), [("de-DE", "", "de"), ("de-DE", "?lang=es", "es")], indirect=["projector"]
)
def test_the_served_page_carries_the_language_before_any_script(projector, app_url, query, lang):
    """A screen reader picks its voice from the first paint on: the server writes ``<html lang>``."""
    projector.context.add_init_script(_LANG_AT_PARSE)
    response = projector.goto(app_url + "/network" + query)
    assert f'<html lang="{lang}">' in response.text()
    projector.wait_for_function("() => window.__langAtParse !== undefined")
    assert projector.evaluate("window.__langAtParse") == lang
    projector.locator("main h1").first.wait_for()
    wait_idle(projector)
    assert projector.evaluate("document.documentElement.lang") == lang  # and the app's script agrees


def test_a_spanish_link_gives_spanish_everywhere_and_links_keep_it(projector, app_url):
    _open(projector, app_url + "?lang=es")
    _walk(projector, "es")
    assert "lang=es" in projector.url  # Share links and QR codes are made from the URL


def test_the_picker_switches_language_and_english_screenshots(projector, app_url):
    """After the German and Spanish walks on the same server: English pages with no word of theirs."""
    _open(projector, app_url)
    assert projector.evaluate("document.documentElement.lang") == "en"
    others = _foreign_sentences("en")
    for path, title in NAV:
        if path in SHOWN:
            _goto(projector, title)
            projector.locator("main h1").first.wait_for()
            projector.wait_for_timeout(500)
            assert not _foreign_shown(projector, others), path
            SHOTS.mkdir(parents=True, exist_ok=True)
            projector.screenshot(path=str(SHOTS / f"lang_en_{SHOWN[path]}.png"))
    _goto(projector, "Activations")
    projector.locator("main").get_by_text("sigmoid", exact=True).first.click()
    wait_idle(projector)
    projector.get_by_role("combobox", name="Language").click()
    projector.get_by_role("option", name="Deutsch").click()
    wait_idle(projector)
    projector.get_by_role("combobox", name="Sprache").wait_for()
    # the choices made stay chosen, in the new words (Streamlit sends a choice back as its label)
    checked = "() => [...document.querySelectorAll('main [role=radiogroup] input:checked')].map(i => i.closest('label').innerText.trim())"
    assert projector.evaluate(checked) == ["die erste Schicht des Netzes", "Sigmoid"]
    assert projector.evaluate("document.documentElement.lang") == "de"
    assert "lang=de" in projector.url
    assert projector.locator('[data-testid="stTopNavSection"]', has_text="Ins Netz geschaut").count() == 1
