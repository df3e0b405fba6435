"""Issue 23's smaller cases in the app: each gets one sentence, never Streamlit's generic box."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from testing.catalogue import LONG_LINK


def _qr_dialog(link: str) -> None:
    from cnnviz.ui import share

    share._big_qr(link)


def test_a_link_too_long_for_a_qr_code_gets_a_sentence_and_the_link():
    at = AppTest.from_function(_qr_dialog, args=(LONG_LINK,), default_timeout=60).run()
    assert not at.exception, at.exception
    assert [w.value for w in at.warning] == [
        f"This link is too long for a QR code ({len(LONG_LINK):,} characters): copy the link instead."
    ]
    assert [c.value for c in at.code] == [LONG_LINK]  # still there to copy


def test_a_link_that_fits_still_gets_its_qr_code():
    at = AppTest.from_function(_qr_dialog, args=(LONG_LINK[:2000],), default_timeout=60).run()
    assert not at.exception and not at.warning
    assert len(at.get("image")) == 1 and [c.value for c in at.code] == [LONG_LINK[:2000]]
