"""The keyboard alone, in real Chromium: upload a photo, see its prediction, pick a Feature
maps channel and unit, explain the second class with Grad-CAM, pick a Network tile and open
the Share panel, with Tab, arrows, Enter and typing only. The page counts pointer events: the
test ends with none."""

from __future__ import annotations

import re

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from cnnviz.inputs.gallery import sample_bytes
from testing.browser import PICTURE, no_exception, open_app, wait_idle

# The focused element, looking through shadow roots (the clickable pictures' own).
ACTIVE = """() => {
  let e = document.activeElement;
  while (e && e.shadowRoot && e.shadowRoot.activeElement) e = e.shadowRoot.activeElement;
  if (!e) return {};
  const group = e.closest('[data-testid="stRadio"], [data-testid="stFileUploader"]');
  return {tag: e.tagName, role: e.getAttribute('role') || '', testid: e.getAttribute('data-testid') || '',
          name: (e.getAttribute('aria-label') || e.innerText || '').trim(),
          group: group ? group.innerText.split('\\n')[0] : '',
          uploader: !!e.closest('[data-testid="stFileUploader"]')};
}"""

# Every pointer event on the page from here on (a keyboard "click" on a button is a click event
# with no pointer event before it, so pointerdown/mousedown are what a mouse or a finger leaves).
COUNT_POINTER = """() => {
  window.__pointer = 0;
  for (const t of ['pointerdown', 'mousedown', 'touchstart', 'wheel'])
    window.addEventListener(t, () => { window.__pointer += 1; }, true);
}"""


def _tab_to(page, want, limit: int = 90, back: bool = False) -> dict:
    """Press Tab (Shift+Tab with ``back``) until the focused element satisfies ``want``."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        a = page.evaluate(ACTIVE)
        if want(a):
            return a
        seen.append(f"{a.get('tag')} {a.get('role')} {a.get('name', '')[:30]!r}")
    raise AssertionError("never focused; went through: " + " / ".join(seen))


def _open_page(page, section: str, title: str) -> None:
    """The top bar's menu, by keyboard: its section button, Enter, arrows to the page, Enter."""
    _tab_to(page, lambda a: a.get("testid") == "stTopNavSection" and a.get("name") == section)
    page.keyboard.press("Enter")
    for _ in range(12):
        a = page.evaluate(ACTIVE)
        if a.get("testid") == "stTopNavDropdownLink" and a.get("name", "").endswith(title):
            break
        page.keyboard.press("ArrowDown")
    else:
        raise AssertionError(f"no {title!r} in the {section!r} menu")
    page.keyboard.press("Enter")
    wait_idle(page)
    no_exception(page)


def _picture(a: dict) -> bool:
    return a.get("role") == "application" and a.get("testid") == "cnnvizPicture"


def _uploader(a: dict) -> bool:
    return a.get("tag") == "BUTTON" and a.get("uploader")


def _badge(page) -> str:
    """The name shown by the focused picture's keyboard cursor."""
    return page.locator(PICTURE + " .badge").filter(visible=True).first.inner_text()


def _choose(page, keys: list[str]) -> None:
    """Move a focused picture's cursor with ``keys``, then Enter, and wait for the page."""
    for k in keys:
        page.keyboard.press(k)
    page.keyboard.press("Enter")
    wait_idle(page)


def test_from_upload_to_share_with_the_keyboard_only(app_url, page, tmp_path):
    photo = tmp_path / "cat.png"
    photo.write_bytes(sample_bytes("chelsea"))
    open_app(page, app_url)
    page.evaluate(COUNT_POINTER)

    # Upload, in the sidebar: the Image radio group, arrow to "Upload", then its Browse button
    _tab_to(page, lambda a: a.get("group") == "Image" and a.get("tag") == "INPUT")
    page.keyboard.press("ArrowRight")  # Gallery → Upload
    wait_idle(page)
    _tab_to(page, _uploader, back=True)
    for attempt in range(3):  # a rerun that redraws the uploader can swallow the first press
        wait_idle(page)
        if not _uploader(page.evaluate(ACTIVE)):
            _tab_to(page, _uploader, back=True)
        try:
            with page.expect_file_chooser(timeout=10_000) as chooser:
                page.keyboard.press("Enter")
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    chooser.value.set_files(str(photo))
    page.get_by_text("Using: cat.png").wait_for()
    wait_idle(page)

    # Predict (the first page): the photo's top class
    page.get_by_text("forward pass").first.wait_for()
    assert re.search(r"tabby|tiger cat|Egyptian cat", page.inner_text("main"))

    # Feature maps: stem.act's 32 channels, 8 per row, by number; the cursor starts on the chosen 0
    _open_page(page, "Inside the network", "Feature maps")
    page.get_by_text("stem.act", exact=False).first.wait_for()
    _tab_to(page, _picture)
    page.keyboard.press("ArrowRight")
    assert _badge(page) == "stem.act, channel 1"
    _choose(page, ["ArrowRight", "ArrowDown"])  # tile 2 + one row of 8 = channel 10
    page.get_by_text("Channel 10: 112×112", exact=False).wait_for()
    assert page.get_by_role("combobox", name="Channel", exact=True).input_value().startswith("channel 10 (")
    assert _picture(page.evaluate(ACTIVE))  # the focus stays on the picture across the rerun
    # the unit picker (the next picture): from the middle unit (56, 56), 3 left and 2 up
    _tab_to(page, _picture)
    _choose(page, ["ArrowLeft"] * 3 + ["ArrowUp"] * 2)
    page.get_by_text("Receptive field of unit (54, 53)", exact=False).wait_for()

    # Grad-CAM for the second class: the class box lists the top 5 with their probabilities
    _open_page(page, "Why it said that", "Grad-CAM")
    box = page.get_by_role("combobox", name="Class to explain", exact=True)
    _tab_to(page, lambda a: a.get("role") == "combobox" and a.get("name") == "Class to explain")
    page.keyboard.type("top-5")
    options = page.get_by_role("option")
    options.first.wait_for()
    top5 = []
    for text in options.all_inner_texts():
        m = re.fullmatch(r"(.+) \((\d+)\) — top-5, (\d+)%", text.strip())
        assert m, text
        top5.append((int(m.group(3)), int(m.group(2)), m.group(1)))
    top5.sort(reverse=True)
    _, second, name = top5[1]
    page.keyboard.press("Escape")
    page.keyboard.press("Control+A")
    page.keyboard.type(f"{name} ({second})")
    page.get_by_role("option", name=re.compile(re.escape(f"{name} ({second})"))).first.wait_for()
    page.keyboard.press("Enter")
    wait_idle(page)
    page.get_by_text(f"class {second} · probability", exact=False).wait_for()
    assert box.input_value().startswith(f"{name} ({second})")

    # Network: the diagram's cursor starts on the chosen tile (stem's strongest channel); right
    # twice is the next column but one, and Enter opens that tile below
    _open_page(page, "Inside the network", "Network")
    page.get_by_text("Value at (", exact=False).first.wait_for()
    _tab_to(page, _picture)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    layer, channel = re.fullmatch(r"(\S+), channel (\d+)", _badge(page)).groups()
    assert layer.startswith("blocks.")
    _choose(page, [])
    page.get_by_role("heading", name=f"{layer} · channel {channel}").wait_for()

    # Share: the sidebar's popover (before the main area: Shift+Tab)
    _tab_to(page, lambda a: a.get("testid") == "stPopoverButton" and "Share this view" in a.get("name", ""), back=True)
    page.keyboard.press("Enter")
    link = page.locator('[data-testid="stPopoverBody"] code').first
    link.wait_for()
    assert "/network?" in link.inner_text() and f"channel={channel}" in link.inner_text()
    no_exception(page)
    assert page.evaluate("window.__pointer") == 0  # the keyboard did it all


def test_a_locked_view_says_so_to_the_eye_the_keyboard_and_a_screen_reader(app_url, page):
    """A presenter's link with Lock choices: the main area's controls say "(locked)", are
    aria-disabled with the reason, ignore keys; the clickable pictures say it under them and in
    their live region when clicked, and choose nothing."""
    open_app(page, app_url + "/features?present=1&lock=1&channel=3")
    page.get_by_text("Channel 3:", exact=False).first.wait_for()
    wait_idle(page)
    why = "Locked by the presenter's link"
    assert why in page.locator('[data-testid="stAlert"]').first.inner_text()
    layer = page.get_by_role("combobox", name="Layer", exact=True)
    before = layer.input_value()
    assert layer.get_attribute("aria-disabled") == "true" and layer.get_attribute("aria-description") == why
    assert (
        page.locator('[data-testid="stMain"] [data-testid="stWidgetLabel"]').first.evaluate(
            "l => getComputedStyle(l.querySelector('p'), '::after').content"
        )
        == '" (locked)"'
    )
    layer.focus()
    for key in ("ArrowDown", "ArrowDown", "Enter"):
        page.keyboard.press(key)
    wait_idle(page)
    assert layer.input_value() == before
    pic = page.locator(PICTURE).first
    assert pic.get_attribute("aria-disabled") == "true"
    assert page.locator(".scroll ~ .note").filter(visible=True).first.inner_text().startswith(why)
    pic.locator("img").click(position={"x": 5, "y": 5})  # channel 0's tile
    wait_idle(page)
    assert page.get_by_role("combobox", name="Channel", exact=True).input_value().startswith("channel 3 (")
    assert page.locator(".cp [aria-live]").first.inner_text().startswith(why)  # the first picture's
    no_exception(page)
