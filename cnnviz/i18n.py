"""The app's words in the reader's language: one gettext catalogue per language, compiled by Babel.

Every string a student reads goes through :func:`_` (or :func:`ngettext`, :func:`pgettext`);
a string defined at import time is marked with :func:`N_` and translated where it is shown.
The English text is the message id, so English needs no catalogue and a missing
translation falls back to it. Catalogues are ``cnnviz/locale/<lang>/LC_MESSAGES/*.po``:
translators edit the ``.po`` files (docs/TRANSLATING.md); Babel compiles them in memory at
first use, so no build step can leave a stale ``.mo`` behind.

Which language a call gets: the resolver that ``cnnviz.ui.language`` installs (the
session's choice, read in the script thread), else the thread's :func:`use` block, else
English. The CLI never installs a resolver, so it stays English.
"""

from __future__ import annotations

import contextlib
import gettext as _gettext
import io
import re
import threading
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

from babel import Locale, negotiate_locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent, get_decimal_symbol

LOCALE_DIR = Path(__file__).parent / "locale"
SOURCE = "en"  # the language the code is written in: the message ids
# The languages offered, by code, with their names in their own language (the picker shows
# these, so a student who cannot read the current language still finds theirs).
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español", "de": "Deutsch"}

_resolver: Callable[[], str | None] | None = None
_local = threading.local()


def set_resolver(fn: Callable[[], str | None] | None) -> None:
    """Install the function that names the current reader's language.

    Args:
        fn: returns a language code, or None when the reader is not known here (then
            :func:`use`'s language or English); None removes the resolver.
    """
    global _resolver
    _resolver = fn


@contextlib.contextmanager
def use(lang: str) -> Iterator[None]:
    """Translate into ``lang`` inside the block, in this thread (a job, a test, the
    resolver's fallback).

    Args:
        lang: a key of :data:`LANGUAGES`.

    Yields:
        None; the thread's earlier language comes back on exit.
    """
    before = getattr(_local, "lang", None)
    _local.lang = lang
    try:
        yield
    finally:
        _local.lang = before


def current() -> str:
    """The language the current call translates into.

    Returns:
        A key of :data:`LANGUAGES`: the resolver's answer, else :func:`use`'s, else English.
    """
    lang = _resolver() if _resolver is not None else None
    if lang is None:
        lang = getattr(_local, "lang", None)
    return lang if lang in LANGUAGES else SOURCE


def negotiate(preferred: list[str]) -> str:
    """The offered language closest to a browser's preferences.

    Args:
        preferred: language tags, most wanted first (``["de-DE", "en"]``).

    Returns:
        A key of :data:`LANGUAGES` (``"de"`` for the example); English when none matches.
    """
    wanted = [p.replace("_", "-") for p in preferred if p]
    # Babel matches whole tags first; a bare language code then catches "de-AT" for "de".
    found = negotiate_locale(wanted, list(LANGUAGES), sep="-") or negotiate_locale(
        [p.split("-")[0].lower() for p in wanted], list(LANGUAGES), sep="-"
    )
    return found or SOURCE


def accept_language(header: str | None) -> list[str]:
    """The language tags of an ``Accept-Language`` header, most wanted first (q-values
    honoured).

    Args:
        header: the header's value, or None.

    Returns:
        The tags, without their parameters.
    """
    tags = []
    for i, part in enumerate((header or "").split(",")):
        tag, _sep, params = part.strip().partition(";")
        q = 1.0
        m = re.search(r"q=([0-9.]+)", params)
        if m:
            try:
                q = float(m.group(1))
            except ValueError:
                q = 0.0
        if tag and tag != "*" and q > 0:
            tags.append((-q, i, tag))
    return [t for _q, _i, t in sorted(tags)]


@cache
def translations(lang: str) -> _gettext.NullTranslations:
    """Every catalogue of ``lang`` compiled by Babel into one gettext object.

    Args:
        lang: a key of :data:`LANGUAGES` (English needs none).

    Returns:
        A gettext translations object (a null one for English).
    """
    result: _gettext.NullTranslations = _gettext.NullTranslations()
    for po in sorted((LOCALE_DIR / lang / "LC_MESSAGES").glob("*.po")) if lang != SOURCE else ():
        with po.open("rb") as f:
            catalog = read_po(f, locale=lang)
        buf = io.BytesIO()
        write_mo(buf, catalog)  # fuzzy entries are left out: a doubtful translation shows English
        buf.seek(0)
        compiled = _gettext.GNUTranslations(buf)
        compiled.add_fallback(result)
        result = compiled
    return result


def _(message: str) -> str:
    """``message`` (English) in the current language.

    Args:
        message: the English text, as in the catalogue.

    Returns:
        Its translation, or ``message`` itself when there is none.
    """
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of ``singular``/``plural`` for ``n`` in the current language.

    Args:
        singular: the English singular.
        plural: the English plural.
        n: the count that picks the form.

    Returns:
        The translated form, placeholders unfilled.
    """
    return translations(current()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` where the same English word needs different translations.

    Args:
        context: tells the uses apart for translators.
        message: the English text.

    Returns:
        Its translation in that context.
    """
    return translations(current()).pgettext(context, message)


def N_(message: str) -> str:
    """Mark ``message`` for the catalogue without translating it now (module constants:
    translate where shown).

    Args:
        message: the English text.

    Returns:
        ``message`` unchanged.
    """
    return message


class Message(str):
    """A sentence made once and read by many, or read later: English as its value, in the
    reader's language whenever it is turned into text.

    ``Message(N_("Stopped after {epochs} epochs."), epochs=2.5)``. Its value (what ``==``,
    ``+``, ``json`` and the CLI see) is the English sentence; ``str(m)``, ``f"{m}"``,
    ``st.warning(m)`` and ``str(error)`` of an error raised with it give the current reader's
    language. For text kept in a cache shared by sessions of different languages, a module
    constant shown by another module, or a job's words made in a worker thread (no session
    there) and shown by the page.

    Args:
        msgid: the English sentence, marked for the catalogue with ``N_``.
        params: its ``{placeholders}``, data (not translated); a Message among them is
            translated with the sentence, and a float gets the language's decimal sign (at
            most two decimals).
    """

    msgid: str
    params: dict[str, object]

    def __new__(cls, msgid: str, **params: object) -> Message:
        self = super().__new__(cls, msgid.format(**_filled(params, SOURCE)) if params else msgid)
        self.msgid, self.params = msgid, params
        return self

    def __str__(self) -> str:
        lang = current()
        if lang == SOURCE:
            return str.__str__(self)
        with use(lang):
            text = translations(lang).gettext(self.msgid)
            return text.format(**_filled(self.params, lang)) if self.params else text

    def __reduce__(self):  # pickled (a job snapshot copied) as what it is, not as a plain string
        return _message, (self.msgid, self.params)


def _message(msgid: str, params: dict[str, object]) -> Message:
    return Message(msgid, **params)


def _filled(params: dict[str, object], lang: str) -> dict[str, object]:
    out: dict[str, object] = {}
    for k, v in params.items():
        if isinstance(v, Message):
            v = str.__str__(v) if lang == SOURCE else str(v)
        elif isinstance(v, float):
            v = format_decimal(v, format="#,##0.##", locale=lang)
        out[k] = v
    return out


def number(x: float, digits: int = 2) -> str:
    """A number with fixed decimals, in the current language's separators (3.14 / 3,14).

    Args:
        x: the number.
        digits: decimals shown.

    Returns:
        The formatted string.
    """
    pattern = "#,##0" + ("." + "0" * digits if digits > 0 else "")
    return format_decimal(x, format=pattern, locale=current())


def percent(fraction: float, digits: int = 1) -> str:
    """A fraction as a percentage the language's way: "93.4%", "93,4 %" (de), "93,4 %" (es).

    Args:
        fraction: e.g. 0.934.
        digits: decimals shown.

    Returns:
        The formatted string.
    """
    pattern = Locale.parse(current()).percent_formats[None].pattern
    pattern = re.sub(r"0(?=[^0#,]*$)", "0" + ("." + "0" * digits if digits > 0 else ""), pattern, count=1)
    return format_percent(fraction, format=pattern, locale=current())


def significant(x: float, digits: int = 3) -> str:
    """A number to some significant digits as ``{:g}`` writes it, with the language's
    decimal sign (0.123 / 0,123): a German screen reader reads "0.123" as a thousands group.

    Args:
        x: the number.
        digits: significant digits.

    Returns:
        The formatted string.
    """
    return f"{x:.{digits}g}".replace(".", get_decimal_symbol(current()))


def scientific(x: float) -> str:
    """A number like ``f"{x:.1e}"`` ("3.2e-05"), with the language's decimal sign ("3,2e-05"
    in de).

    Args:
        x: the number.

    Returns:
        The formatted string.
    """
    return f"{x:.1e}".replace(".", get_decimal_symbol(current()))


def short(x: float) -> str:
    """A number with at most 3 decimals and no trailing zeros, like ``f"{x:g}"`` ("1", "0.5";
    "0,5" in de).

    Args:
        x: the number.

    Returns:
        The formatted string.
    """
    return format_decimal(x, format="#,##0.###", locale=current())


def language_name(lang: str) -> str:
    """The language's own name ("Deutsch"), for the picker.

    Args:
        lang: a language code.

    Returns:
        Its name, or the code itself for a language not offered.
    """
    return LANGUAGES.get(lang, lang)
