"""The catalogues against the code: what is untranslated, and the .po files brought up to date.

    python -m cnnviz.i18n_check                 # per language: strings still untranslated (exit 1 if any)
    python -m cnnviz.i18n_check --list de       # ... and which ones
    python -m cnnviz.i18n_check --update        # new strings into every messages.po, gone ones marked obsolete

The strings are what Babel extracts with ``babel.cfg`` (``_``, ``N_``, ``ngettext``,
``pgettext`` in the app's code, and the shipped lessons' texts), the same as
``pybabel extract -F babel.cfg``. A translation counts when its msgstr is filled in, not
fuzzy, and keeps the English text's ``{placeholders}`` (``check``).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

from cnnviz import i18n

ROOT = Path(__file__).resolve().parents[1]
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")
# %-fields: no space flag, so "25 % de la imagen" is prose, not a "% d" field
_PERCENT = re.compile(r"%(?:\([a-z_]+\))?[-+#0]*\d*(?:\.\d+)?[sdifrx]")

Key = str | tuple[str, str]  # a msgid, or (msgid, msgctxt)


def extract() -> Catalog:
    """Every string of the app's code and shipped lessons, as Babel extracts it (the template).

    Returns:
        The Babel Catalog.
    """
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    template = Catalog(project="CNN Explorer")
    for filename, lineno, message, comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        template.add(message, locations=[(filename, lineno)], auto_comments=comments, context=context)
    return template


def _key(message: Message) -> Key:
    msgid = message.id[0] if isinstance(message.id, tuple) else message.id
    return (msgid, message.context) if message.context else msgid


def catalogue(lang: str) -> dict[Key, Message]:
    """Every translated message of a language, over all its .po files (the first file that has
    one wins).

    Args:
        lang: the language code.

    Returns:
        Key (a msgid, or (msgid, msgctxt)) -> Message.
    """
    out: dict[Key, Message] = {}
    for po in sorted((i18n.LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po")):
        with po.open("rb") as f:
            for message in read_po(f, locale=lang):
                if message.id and _key(message) not in out:
                    out[_key(message)] = message
    return out


def placeholders(text: str) -> list[str]:
    """The ``{name}`` and ``%s``-style fields of a text (a translation must keep the same).

    Args:
        text: a message.

    Returns:
        The fields, sorted.
    """
    return sorted(_PLACEHOLDER.findall(text) + _PERCENT.findall(text))


def check(source: Message, translated: Message | None) -> str | None:
    """Why a translation does not translate its source.

    Args:
        source: the template's message.
        translated: the language's message, or None.

    Returns:
        "missing", "fuzzy", "plural forms missing", "empty" or a placeholder mismatch;
        None when it translates.
    """
    if translated is None:
        return "missing"
    if translated.fuzzy:
        return "fuzzy"
    ids = source.id if isinstance(source.id, tuple) else (source.id,)
    strs = translated.string if isinstance(translated.string, tuple) else (translated.string,)
    if isinstance(source.id, tuple) and len(strs) < 2:
        return "plural forms missing"
    if not all(strs):
        return "empty"
    want = placeholders(ids[-1])
    for s in strs:
        if placeholders(s) != want and not (isinstance(source.id, tuple) and placeholders(s) == placeholders(ids[0])):
            return f"placeholders {placeholders(s)} != {want}"
    return None


def untranslated(lang: str, template: Catalog | None = None) -> Iterator[tuple[Message, str]]:
    """The strings of the code that a language does not translate.

    Args:
        lang: the language code.
        template: the extracted strings; None to extract them now.

    Yields:
        (message, why) for each.
    """
    template = template if template is not None else extract()
    have = catalogue(lang)
    for message in template:
        if message.id:
            why = check(message, have.get(_key(message)))
            if why:
                yield message, why


def update(lang: str, template: Catalog) -> Path:
    """Fold a language's .po files into one ``messages.po`` that holds exactly the code's
    strings.

    Translations are kept; new strings arrive empty; strings the code no longer has become
    obsolete entries (``#~``), kept for the translator. Other .po files of the language are
    removed.

    Args:
        lang: the language code.
        template: the extracted strings.

    Returns:
        The path of ``messages.po``.
    """
    folder = i18n.LOCALE_DIR / lang / "LC_MESSAGES"
    target = folder / "messages.po"
    have = catalogue(lang)
    # the file's own header is kept (its Plural-Forms: Babel's CLDR default may differ)
    with target.open("rb") as f:
        merged = read_po(f, locale=lang)
    for message in list(merged):
        if message.id:
            merged.delete(message.id, context=message.context)
    merged.obsolete.clear()
    for message in template:
        if not message.id:
            continue
        old = have.get(_key(message))
        string = old.string if old is not None else ("",) * merged.num_plurals if isinstance(message.id, tuple) else ""
        merged.add(
            message.id,
            string,
            context=message.context,
            flags=old.flags if old is not None else (),
            auto_comments=message.auto_comments,  # the code's notes for translators
            user_comments=old.user_comments if old is not None else (),  # the translators' own
        )
    kept = {_key(m) for m in template if m.id}
    for key, old in have.items():
        if key not in kept and any(old.string if isinstance(old.string, tuple) else (old.string,)):
            merged.obsolete[key] = old
    with target.open("wb") as f:
        write_po(f, merged, omit_header=False, no_location=True, width=100, sort_output=True)
    for other in folder.glob("*.po"):
        if other != target:
            other.unlink()
    return target


def main(argv: list[str] | None = None) -> int:
    """Print how many strings each language lacks; with --update, bring every messages.po up
    to date first; with --list LANG, print LANG's gaps.

    Args:
        argv: the arguments; None for ``sys.argv[1:]``.

    Returns:
        The exit status: 1 when a string is untranslated, else 0.
    """
    parser = argparse.ArgumentParser(prog="python -m cnnviz.i18n_check", description=__doc__.split("\n\n")[0])
    parser.add_argument("--list", metavar="LANG", help="print the untranslated strings of LANG")
    parser.add_argument("--update", action="store_true", help="bring every messages.po up to date with the code")
    args = parser.parse_args(argv)
    template = extract()
    langs = [code for code in i18n.LANGUAGES if code != i18n.SOURCE]
    if args.update:
        for lang in langs:
            print(f"{lang}: {update(lang, template).relative_to(ROOT)}")
    missing = 0
    for lang in langs:
        gaps = list(untranslated(lang, template))
        missing += len(gaps)
        print(f"{lang} ({i18n.language_name(lang)}): {len(gaps)} untranslated of {sum(1 for m in template if m.id)}")
        if args.list == lang:
            for message, why in gaps:
                print(f"  [{why}] {message.id!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
