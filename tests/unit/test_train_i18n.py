"""The Train page's words in the reader's language: job messages written in a thread with no
session and shown later, work queued from a Spanish page, the place in line, the dataset's
summary and the training's refusals; English (the CLI, the logs) unchanged."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from cnnviz import i18n
from cnnviz.errors import CnnvizError, DatasetError, Stopped, of_error
from cnnviz.i18n import N_, Message
from cnnviz.serving import jobs, lanes
from cnnviz.training import class_folders, imageset, shots, trainer
from cnnviz.ui.job_views import ordinal, paused_text, progress_text, waiting_text

STOPPED = N_("Stopped after {epochs} epochs; the model keeps what it learnt.")


def test_a_message_is_english_text_that_the_page_translates_when_it_shows_it():
    m = Message(STOPPED, epochs=2.5)
    assert m == "Stopped after 2.5 epochs; the model keeps what it learnt."  # the CLI, logs, tests
    assert str(CnnvizError(m)) == m and of_error(Stopped(m)) is m  # an exception keeps it whole
    with i18n.use("de"):
        assert str(m) == "Nach 2,5 Epochen gestoppt; das Modell behält, was es gelernt hat."
    with i18n.use("es"):
        assert str(m) == "Detenido tras 2,5 épocas; el modelo conserva lo que aprendió."
    assert str(m) == m
    copy = pickle.loads(pickle.dumps(m))  # a snapshot copied on: still translatable
    with i18n.use("de"):
        assert str(copy) == "Nach 2,5 Epochen gestoppt; das Modell behält, was es gelernt hat."


def test_a_message_inside_a_message_is_translated_too():
    inner = Message(N_("Stopped before it started."))
    outer = Message(N_("It failed ({error})."), error=inner)
    assert outer == "It failed (Stopped before it started.)."
    with i18n.use("de"):
        assert str(outer) == "Es ist fehlgeschlagen (Gestoppt, bevor es anfing.)."


def test_a_job_queued_from_a_german_page_speaks_german_and_its_end_is_shown_in_the_readers_language():
    engine = jobs.Engine(slots=1, heartbeat_s=300, grace_s=300)

    def refuse(on_progress, should_stop):
        shots.class_name("")  # raises with _(): in the job's thread, no session of its own

    def stops(on_progress, should_stop):
        raise Stopped(Message(STOPPED, epochs=3.0))

    with i18n.use("de"):
        a = engine.submit("ann", "tab", "refuse", 1, refuse)
    b = engine.submit("ann", "tab", "stops", 2, stops)
    assert a.join(10) and b.join(10)
    assert a.snapshot().message.startswith("Gib der Klasse zuerst einen Namen")
    said = b.snapshot().message
    assert said == "Stopped after 3 epochs; the model keeps what it learnt."
    with i18n.use("es"):  # the student switched to Spanish meanwhile
        assert str(said) == "Detenido tras 3 épocas; el modelo conserva lo que aprendió."


def test_the_big_jobs_lane_answers_in_the_callers_language():
    def refuse():
        raise DatasetError(class_folders.too_much())

    with i18n.use("es"), pytest.raises(DatasetError, match="^Lo subido ocupa más de 200 MB"):
        lanes.one_at_a_time(refuse)
    with pytest.raises(DatasetError, match="^The upload holds more than 200 MB"):
        lanes.one_at_a_time(refuse)
    assert f"more than {class_folders.MAX_TOTAL_BYTES >> 20} MB of files" in class_folders.TOO_MUCH


def test_the_place_in_line_in_each_language():
    assert [ordinal(n) for n in (1, 2, 3, 11, 22)] == ["1st", "2nd", "3rd", "11th", "22nd"]
    with i18n.use("de"):
        assert [ordinal(n) for n in (1, 2, 11)] == ["1.", "2.", "11."]
        assert waiting_text(2, 40.4) == (
            "Wartet: an 2. Stelle; etwa 40 s (lange Aufgaben laufen nacheinander, eine pro Person)."
        )
        assert paused_text(1, 200, "Schritt 3 von 9").startswith("Pausiert bei Schritt 3 von 9, damit")
        assert "als Nächstes dran; etwa 3 min." in paused_text(1, 200, "x")
        done = jobs.Snapshot("running", 12, 256)
        assert progress_text(done, "steps") == "12 von 256 Schritten"
        assert progress_text(jobs.Snapshot("running", 3, 8), "%") == "38\xa0%"
    with i18n.use("es"):
        assert ordinal(3) == "3.º" and waiting_text(None, None) == "Esperando al servidor…"


def _dataset(skipped: int) -> imageset.ImageDataset:
    y = np.repeat(np.arange(2), 10)
    return imageset.finish(
        imageset.ImageDataset("d", ["a", "b"], np.zeros((20, 1, 8, 8), np.uint8), y, skipped=skipped)
    )


def test_the_datasets_summary_in_each_language():
    ds = _dataset(skipped=1)
    assert ds.summary() == (
        "20 images of 8×8 (grey), 2 classes: 16 to train on, 4 to validate on; 1 file skipped (not usable images)."
    )
    with i18n.use("de"):
        assert ds.summary() == (
            "20 Bilder mit 8×8 Pixeln (grau), 2 Klassen: 16 zum Trainieren, 4 zum Validieren; "
            "1 Datei übersprungen (keine brauchbaren Bilder)."
        )
    with i18n.use("es"):
        assert _dataset(skipped=0).summary() == (
            "20 imágenes de 8×8 (en gris), 2 clases: 16 para entrenar, 4 para validar."
        )


def test_a_refused_training_says_why_in_the_readers_language():
    with i18n.use("de"):
        text = trainer.too_long(1500)
    assert text.startswith(
        f"Dieses Training würde hier etwa 25 Minuten dauern; die Grenze liegt bei {trainer.MAX_MINUTES:g}."
    )
    assert trainer.too_long(1500).startswith("This training would take about 25 minutes here;")
