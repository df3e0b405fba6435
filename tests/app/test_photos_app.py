"""The sidebar's photo through AppTest (issue 23): session state holds a ticket, the bytes are
in held_photos' store, and a photo the caps let go reads as a sentence asking for it again."""

from __future__ import annotations

from cnnviz.inputs.gallery import sample_bytes
from cnnviz.serving.sharing import SharedImages
from cnnviz.ui import held_photos
from cnnviz.ui.held_photos import HeldPhotos, Photo
from testing.helpers import make_app, page_text


def test_an_uploaded_photo_is_a_ticket_and_a_dropped_one_is_asked_for_again(monkeypatch, tmp_path):
    # no copy on disk that could give it back (the page's own store is cached for the process)
    monkeypatch.setattr(held_photos, "default_store", lambda: SharedImages(tmp_path, enabled=False))
    at = make_app(image_source="Upload")
    data = sample_bytes("rocket")
    at.file_uploader(key="image_upload").upload("launch.jpg", data, "image/jpeg").run()
    assert not at.exception, at.exception
    ticket = at.session_state["image_bytes"]
    assert isinstance(ticket, Photo) and held_photos.STORE.get(ticket) == data
    assert "forward pass" in page_text(at)
    monkeypatch.setattr(held_photos, "STORE", HeldPhotos())  # the process cap let it go
    at.run()
    assert not at.exception, at.exception
    assert [w.value for w in at.warning] == [held_photos.DROPPED]
    assert not at.error
