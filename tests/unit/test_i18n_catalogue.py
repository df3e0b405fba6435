"""The catalogues: every string of the code translated in every language, placeholders kept;
the language layer's own logic (negotiation, numbers, fallbacks, one file to add a language)."""

from __future__ import annotations

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

from cnnviz import i18n, i18n_check

TEMPLATE = i18n_check.extract()
OTHERS = [code for code in i18n.LANGUAGES if code != i18n.SOURCE]


def test_the_code_has_strings_to_translate():
    ids = {m.id for m in TEMPLATE if m.id}
    assert len(ids) > 500  # the whole app goes through the catalogue, not a few titles
    assert {"Predict", "Feature maps", "Language"} <= ids


@pytest.mark.parametrize("lang", OTHERS)
def test_every_string_is_translated_with_the_same_placeholders(lang):
    gaps = [f"[{why}] {m.id!r}" for m, why in i18n_check.untranslated(lang, TEMPLATE)]
    assert not gaps, f"{len(gaps)} strings untranslated in {lang}:\n" + "\n".join(gaps[:40])


@pytest.mark.parametrize("lang", OTHERS)
def test_each_language_is_one_catalogue_file(lang):
    files = sorted(p.name for p in (i18n.LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po"))
    assert files == ["messages.po"]


def test_check_finds_a_placeholder_a_translator_lost():
    source = Message("Channel {n} of {layer}")
    assert i18n_check.check(source, Message(source.id, "Kanal {n} von {layer}")) is None
    assert i18n_check.check(source, Message(source.id, "Kanal {n}")).startswith("placeholders")
    assert i18n_check.check(source, Message(source.id, "Kanal {n} von {Schicht}")).startswith("placeholders")
    assert i18n_check.check(source, Message(source.id, "")) == "empty"
    assert i18n_check.check(source, Message(source.id, "Kanal {n} von {layer}", flags=["fuzzy"])) == "fuzzy"
    assert i18n_check.check(source, None) == "missing"
    plural = Message(("{n} image", "{n} images"))
    assert i18n_check.check(plural, Message(plural.id, ("{n} Bild", "{n} Bilder"))) is None
    assert i18n_check.check(plural, Message(plural.id, ("{n} Bild", ""))) == "empty"


def test_browser_preferences_pick_the_closest_language():
    assert i18n.accept_language("de-AT,de;q=0.9,en;q=0.8") == ["de-AT", "de", "en"]
    assert i18n.accept_language("en;q=0.2, es-MX") == ["es-MX", "en"]
    assert i18n.accept_language("fr;q=0, *") == []
    assert i18n.negotiate(["de-AT", "en"]) == "de"
    assert i18n.negotiate(["es-419"]) == "es"
    assert i18n.negotiate(["fr-FR", "it"]) == "en"  # not offered: English
    assert i18n.negotiate(["fr-FR", "es"]) == "es"
    assert i18n.negotiate([]) == "en"


def test_numbers_and_percentages_follow_the_language():
    assert (i18n.number(3.14159, 2), i18n.percent(0.934)) == ("3.14", "93.4%")
    with i18n.use("de"):
        assert (i18n.number(3.14159, 2), i18n.percent(0.934)) == ("3,14", "93,4\xa0%")
        assert i18n.percent(0.5, 0) == "50\xa0%"
    with i18n.use("es"):
        assert (i18n.number(1234.5, 1), i18n.percent(0.934)) == ("1.234,5", "93,4\xa0%")
    assert i18n.current() == "en"  # the block ended


def test_a_translation_and_its_fallback():
    with i18n.use("de"):
        assert i18n._("Feature maps") == "Merkmalskarten"
        assert i18n._("a sentence no catalogue has") == "a sentence no catalogue has"
    with i18n.use("xx"):  # not offered: English
        assert i18n._("Feature maps") == "Feature maps"
    assert i18n._("Feature maps") == "Feature maps"


def test_a_new_language_is_one_catalogue_file_and_one_line(tmp_path, monkeypatch):
    folder = tmp_path / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    catalog = Catalog(locale="fr", fuzzy=False)
    catalog.add("Feature maps", "Cartes de caractéristiques")
    catalog.add(("{n} image", "{n} images"), ("{n} image", "{n} images"))
    with (folder / "messages.po").open("wb") as f:
        write_po(f, catalog)
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    monkeypatch.setitem(i18n.LANGUAGES, "fr", "Français")  # the one line
    i18n.translations.cache_clear()
    try:
        with i18n.use("fr"):
            assert i18n._("Feature maps") == "Cartes de caractéristiques"
            assert i18n.ngettext("{n} image", "{n} images", 3).format(n=3) == "3 images"
        assert i18n.negotiate(["fr-CA"]) == "fr"
        missing = list(i18n_check.untranslated("fr", TEMPLATE))
        assert len(missing) == sum(1 for m in TEMPLATE if m.id) - ("Feature maps" in {m.id for m in TEMPLATE})
    finally:
        i18n.translations.cache_clear()


def test_the_cli_stays_english():
    """The CLI installs no resolver: a thread with no session translates nothing."""
    assert i18n._resolver is None or i18n._resolver() is None
    assert i18n._("Feature maps") == "Feature maps"


def test_update_folds_the_parts_into_one_messages_po(tmp_path, monkeypatch):
    """--update: one messages.po per language with the code's strings, translations kept,
    new ones empty, gone ones obsolete, the file's own plural rule kept."""
    folder = tmp_path / "es" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Language: es\\n"\n"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
    )
    part = Catalog(locale="es", fuzzy=False)
    part.add("Feature maps", "Mapas de características")
    part.add("a sentence the code lost", "una frase perdida")
    with (folder / "part.po").open("wb") as f:
        write_po(f, part)
    template = Catalog()
    template.add("Feature maps")
    template.add("Language", context="streamlit")
    template.add(("{n} image", "{n} images"))
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    target = i18n_check.update("es", template)
    assert sorted(p.name for p in folder.glob("*.po")) == ["messages.po"]
    with target.open("rb") as f:
        merged = read_po(f, locale="es")
    assert merged.num_plurals == 2
    assert merged.get("Feature maps").string == "Mapas de características"
    assert merged.get("Language", context="streamlit").string == ""
    assert merged.get(("{n} image", "{n} images")[0]).string == ("", "")
    assert "a sentence the code lost" in merged.obsolete
    gaps = {(m.id if isinstance(m.id, str) else m.id[0]) for m, _why in i18n_check.untranslated("es", template)}
    assert gaps == {"Language", "{n} image"}
