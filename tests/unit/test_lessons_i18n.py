"""The lesson, class and live views in the reader's language: the class questions' text
alternatives with the language's numbers, a live frame answered in its student's language
outside the student's run, a lock word that cannot break its CSS, and a lesson step that
never carries the teacher's language to a follower."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from cnnviz import i18n
from cnnviz.a11y import alt_questions as A
from cnnviz.a11y.alt_text import quoted
from cnnviz.camera import live, live_http
from cnnviz.camera.live_streams import Streams
from cnnviz.inside.catalogue import catalogue, find_layer
from cnnviz.lessons import builder
from cnnviz.lessons.format import Step, View

NBSP = "\xa0"  # CLDR's space before "%" in German and Spanish


def test_counts_read_in_german_with_german_percentages():
    with i18n.use("de"):
        text = A.counts("Welche Klasse?", ("cat", "dog"), (2, 1), model=0)
        # 2 of 3 and 1 of 3, rounded by hand: 67 % and 33 %, with the number's space German puts before %
        assert text == (
            f"Antworten auf {quoted('Welche Klasse?')}: 3 insgesamt. {quoted('cat')}: 2 (67{NBSP}%); "
            f"{quoted('dog')}: 1 (33{NBSP}%). Die Antwort des Modells: {quoted('cat')}."
        )
    assert "„cat“" in text  # German quotation marks (alt_text.quoted)


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "Picture 2 of 4 (chelsea). Mean activation of the channel: 0.123."),
        ("es", "Imagen 2 de 4 (chelsea). Activación media del canal: 0,123."),
        ("de", "Bild 2 von 4 (chelsea). Mittlere Aktivierung des Kanals: 0,123."),
    ],
)
def test_a_picture_choice_says_its_activation_with_the_language_s_separator(lang, expected):
    with i18n.use(lang):
        assert A.choice_image(1, 4, "gallery:chelsea", 0.12345) == expected  # 3 significant digits


def test_significant_digits_follow_the_old_english_format():
    for v in (0.5, 12.3456, -0.00123, 3.0, 0.0):
        assert A.sig3(v) == f"{v:.3g}"


def _jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def test_a_live_frame_is_described_in_its_student_s_language(effnet, hopper_bytes):
    """The route runs outside any script run: the stream's own language decides its words."""
    from cnnviz.inputs.images import decode_image

    frame = _jpeg(decode_image(hopper_bytes).resize((320, 240)))
    layer = find_layer(catalogue(effnet), "blocks.3")
    streams = Streams(cap=4)
    de = streams.register("a", "s1", effnet, live.LiveSettings(layer, n=4, cam=True, lang="de"))
    en = streams.register("b", "s2", effnet, live.LiveSettings(layer, n=4, cam=True))
    _, body_de = live_http.answer(streams, de, frame)
    _, body_en = live_http.answer(streams, en, frame)
    channels = ", ".join(str(c) for c in body_de["channels"])
    assert body_de["tiles_alt"] == (
        f"Die 4 stärksten Kanäle der Schicht blocks.3, der stärkste zuerst: Kanäle {channels}. "
        "Helle Kacheln: wo der Kanal am stärksten anspricht."
    )
    assert body_de["cam_alt"].startswith(f"Grad-CAM für „{body_de['cam_label']}“ in ")
    assert body_en["tiles_alt"].startswith("The 4 strongest channels of layer blocks.3")
    # a refusal of that stream is in its language too; an unknown token's in English
    _, refused = live_http.answer(streams, de, b"x" * (live_http.MAX_FRAME_BYTES + 1))
    assert refused["error"] == "Dieses Bild ist zu groß; die Live-Ansicht schickt kleine Bilder."
    assert live_http.answer(streams, "nope", b"x")[1]["error"].startswith("This live view has ended")
    assert i18n.current() == "en"  # the route's language did not stay on the thread


def test_the_lock_word_cannot_end_its_css_string():
    from cnnviz.ui.share import css_string

    assert css_string(" (gesperrt)") == '" (gesperrt)"'
    hostile = css_string('x"; } body { display: none } /*')
    assert hostile.count('"') == 2 and "}" not in hostile and ";" not in hostile


def test_a_step_never_carries_the_teacher_s_language():
    from cnnviz.ui.lesson_follow import view_params

    view = builder.view_of("features", {"model": "m", "layer": "x", "lang": "de", "present": "1"})
    assert dict(view.params) == {"model": "m", "layer": "x"}
    handmade = Step(title="t", view=View("features", {"layer": "x", "lang": "es"}))
    assert view_params(handmade, "K7F3Q", keep_photo=False) == {"layer": "x", "class": "K7F3Q"}


def test_a_default_step_title_is_written_in_the_teacher_s_language():
    with i18n.use("de"):
        assert builder.step_title("Merkmalskarten", {"layer": "blocks.3", "channel": "12"}) == (
            "Merkmalskarten: blocks.3, Kanal 12"
        )
    assert builder.step_title("Feature maps", {"layer": "blocks.3", "channel": "12"}) == (
        "Feature maps: blocks.3, channel 12"
    )
