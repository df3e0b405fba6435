"""Views as links: parse and check query parameters, and turn choices back into them.

A view is a page path plus query parameters (names in README, "Links"). Everything that
arrives in a URL is untrusted text: every parser here takes a string, returns a plain
value or raises :class:`LinkValueError` whose message names the parameter and says what
was wrong, without repeating a value that could be long or hostile. No streamlit here;
``cnnviz/ui/links.py`` moves these values in and out of the session.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np

from cnnviz import i18n
from cnnviz.i18n import N_, _
from cnnviz.models.timm_names import is_timm_name
from cnnviz.serving.shares import DIGEST_RE

__all__ = [
    "DIGEST_RE",
    "MAX_VALUE_LEN",
    "LinkValueError",
    "Param",
    "boolean",
    "choice",
    "image_ref",
    "weights_ref",
    "integer",
    "layer",
    "model",
    "number",
    "numbers",
    "problems_message",
    "shown",
    "text",
]

MAX_VALUE_LEN = 200  # longer values are refused before any parsing (a 10 kB parameter is a hostile one)
# The longest link the app writes is under 1 kB; a longer query is refused whole, and the
# session does not keep it: a hostile link must not cost the server its length in memory.
MAX_QUERY_CHARS = 4000
UPLOAD_PREFIX = "upload:"
# What a value may look like to be repeated in a message: short, and no markup characters.
_ECHO_RE = re.compile(r"[A-Za-z0-9_.:#+\-]{1,48}")
# Layer names are named_modules() paths; "#2" marks a module's second call (the catalogue).
_LAYER_RE = re.compile(r"[A-Za-z0-9_.#\-]{1,160}")


class LinkValueError(ValueError):
    """One parameter of a link cannot be used; ``str(e)`` is a phrase for the user."""


def shown(raw: str) -> str:
    """A link's value as it may appear in a message (values are never turned into markup).

    Args:
        raw: the value.

    Returns:
        The value quoted in backticks if short and plain, else a description.
    """
    if _ECHO_RE.fullmatch(raw):
        return f"`{raw}`"
    return _("a value that is too long or has unusual characters")


def _checked(name: str, raw: str, limit: int = MAX_VALUE_LEN) -> str:
    if not isinstance(raw, str) or len(raw) > limit:
        raise LinkValueError(_("{name}: a value that is too long").format(name=name))
    return raw.strip()


def integer(name: str, raw: str, lo: int = 0, hi: int | None = None) -> int:
    """A whole number in ``lo..hi``, inclusive.

    Args:
        name: the parameter's name, for the message.
        raw: the link's text for it.
        lo: the smallest allowed.
        hi: the largest; None for no bound but 10⁶.

    Returns:
        The number.

    Raises:
        LinkValueError: the text is too long or not such a value; its message is a phrase
            for the user.
    """
    s = _checked(name, raw)
    if not re.fullmatch(r"-?[0-9]{1,7}", s):
        raise LinkValueError(_("{name} {s} is not a whole number").format(name=name, s=shown(s)))
    v = int(s)
    top = 1_000_000 if hi is None else hi
    if not lo <= v <= top:
        raise LinkValueError(_("{name} {s} is out of range ({lo}–{top})").format(name=name, s=shown(s), lo=lo, top=top))
    return v


def number(name: str, raw: str, lo: float, hi: float) -> float:
    """A decimal number in ``lo..hi`` (no nan/inf, no exponents).

    Args:
        name: the parameter's name, for the message.
        raw: the link's text for it.
        lo: the smallest allowed.
        hi: the largest allowed.

    Returns:
        The number.

    Raises:
        LinkValueError: the text is too long or not such a value; its message is a phrase
            for the user.
    """
    s = _checked(name, raw)
    if not re.fullmatch(r"-?[0-9]{1,6}(\.[0-9]{1,6})?", s):
        raise LinkValueError(_("{name} {s} is not a number").format(name=name, s=shown(s)))
    v = float(s)
    if not lo <= v <= hi:
        raise LinkValueError(
            _("{name} {s} is out of range ({lo}–{hi})").format(name=name, s=shown(s), lo=f"{lo:g}", hi=f"{hi:g}")
        )
    return v


_NUMBER_RE = r"-?[0-9]{1,6}(\.[0-9]{1,12})?"  # no nan/inf, no exponents


def numbers(name: str, raw: str, counts: tuple[int, ...], lo: float, hi: float) -> tuple[float, ...]:
    """Comma-separated decimals in ``lo..hi``.

    Args:
        name: the parameter's name, for the message.
        raw: the link's text for it.
        counts: the allowed lengths (a 3×3 or 5×5 kernel: 9 or 25, row by row).
        lo: the smallest allowed.
        hi: the largest allowed.

    Returns:
        The numbers, in order.

    Raises:
        LinkValueError: the text is too long or not such a value; its message is a phrase
            for the user.
    """
    s = _checked(name, raw, limit=max(counts) * 16)
    parts = s.split(",")
    if len(parts) not in counts or not all(re.fullmatch(_NUMBER_RE, p.strip()) for p in parts):
        raise LinkValueError(
            _("{name}: not {counts} numbers separated by commas").format(
                name=name, counts=_(" or ").join(map(str, counts))
            )
        )
    values = tuple(float(p) for p in parts)
    if not all(lo <= v <= hi for v in values):
        raise LinkValueError(
            _("{name}: a number out of range ({lo}–{hi})").format(name=name, lo=f"{lo:g}", hi=f"{hi:g}")
        )
    return values


def choice(name: str, raw: str, options: Iterable[str]) -> str:
    """One of ``options`` exactly.

    Args:
        name: the parameter's name, for the message.
        raw: the link's text for it.
        options: the allowed texts.

    Returns:
        The chosen option.

    Raises:
        LinkValueError: the text is too long or not such a value; its message is a phrase
            for the user.
    """
    s = _checked(name, raw)
    opts = list(options)
    if s not in opts:
        raise LinkValueError(
            _("{name} {s} is not one of {options}").format(name=name, s=shown(s), options=", ".join(opts[:8]))
        )
    return s


NO_MODEL = N_("names a private model of another browser, or one that does not exist")


def model(name: str, raw: str, openable: Iterable[str]) -> str:
    """One of the models this browser may open.

    A private model of someone else and a name nobody uses get the same phrase (no list of
    options either): a link must not tell whether a model exists that the viewer may not open.

    Args:
        name: the parameter's name, for the message.
        raw: the link's text for it.
        openable: the names this browser may open (``timm:NAME`` is always allowed: public, checked when it loads).

    Returns:
        The model's name.

    Raises:
        LinkValueError: the text is too long or not such a value; its message is a phrase
            for the user.
    """
    s = _checked(name, raw)
    if s not in openable and not is_timm_name(s):  # timm:NAME: public, checked when it loads
        raise LinkValueError(
            _("{name} {value} names a private model of another browser, or one that does not exist").format(
                name=name, value=shown(s)
            )
        )
    return s


def boolean(name: str, raw: str) -> bool:
    """``1``/``true``/``yes``/``on`` or ``0``/``false``/``no``/``off``, in any case.

    Args:
        name: the parameter's name, for the message.
        raw: the link's text for it.

    Returns:
        The boolean.

    Raises:
        LinkValueError: the text is too long or not such a value; its message is a phrase
            for the user.
    """
    s = _checked(name, raw).lower()
    if s in {"1", "true", "yes", "on"}:
        return True
    if s in {"0", "false", "no", "off"}:
        return False
    raise LinkValueError(_("{name} {s} is not 1 or 0").format(name=name, s=shown(s)))


def text(name: str, raw: str, pattern: re.Pattern = _LAYER_RE) -> str:
    """A name made of plain characters (whether it exists is the page's question).

    Args:
        name: the parameter's name, for the message.
        raw: the link's text for it.
        pattern: what the whole text must match.

    Returns:
        The name.

    Raises:
        LinkValueError: the text is too long or not such a value; its message is a phrase
            for the user.
    """
    s = _checked(name, raw)
    if not pattern.fullmatch(s):
        raise LinkValueError(_("{name} {s} is not a valid name").format(name=name, s=shown(s)))
    return s


def layer(name: str, raw: str) -> str:
    """A named_modules() path such as ``blocks.3.expand.act``.

    Args:
        name: the parameter's name, for the message.
        raw: the link's text for it.

    Returns:
        The path.

    Raises:
        LinkValueError: the text is too long or not such a value; its message is a phrase
            for the user.
    """
    return text(name, raw, _LAYER_RE)


def image_ref(raw: str, gallery: Iterable[str]) -> tuple[str, str]:
    """The picture a link names.

    Args:
        raw: the link's text for it.

    Returns:
        ``("gallery", name)`` for a sample name, ``("upload", sha256 hex)`` for ``upload:<hex>``.

    Raises:
        LinkValueError: the text is too long or not such a value; its message is a phrase
            for the user.
    """
    s = _checked("image", raw)
    if s.startswith(UPLOAD_PREFIX):
        digest = s[len(UPLOAD_PREFIX) :].lower()
        if not DIGEST_RE.fullmatch(digest):
            raise LinkValueError(_("image: an upload is named upload: and 64 hexadecimal digits"))
        return "upload", digest
    names = list(gallery)
    if s not in names:
        raise LinkValueError(_("image {s} is not in the gallery").format(s=shown(s)))
    return "gallery", s


WEIGHTS_NAMES = ("pretrained", "random")


def weights_ref(raw: str) -> tuple[str, str | None]:
    """The weights a link names.

    Args:
        raw: the link's text for it.

    Returns:
        ``(name, None)`` for ``pretrained``/``random``, ``("upload", sha256 hex)`` for an uploaded
        weights file named ``upload:<hex>``.

    Raises:
        LinkValueError: the text is too long or not such a value; its message is a phrase
            for the user.
    """
    s = _checked("weights", raw)
    if s.startswith(UPLOAD_PREFIX):
        digest = s[len(UPLOAD_PREFIX) :].lower()
        if not DIGEST_RE.fullmatch(digest):
            raise LinkValueError(_("weights: an uploaded file is named upload: and 64 hexadecimal digits"))
        return "upload", digest
    return choice("weights", s, WEIGHTS_NAMES), None


@dataclass(frozen=True)
class Param:
    """One query parameter a page keeps in its URL.

    ``key``: the session-state key holding the value. ``parse(name, raw) -> value`` checks
    the text (raising LinkValueError); ``fmt(value) -> str`` writes it back. ``clear``:
    other session keys to drop when a link sets this one (a layer picker's block, a
    "chosen for" stamp) so the page takes the link's value instead of resetting it.
    """

    key: str
    parse: Callable[[str, str], object]
    fmt: Callable[[object], str] = str
    clear: tuple[str, ...] = field(default=())


def int_param(key: str, lo: int = 0, hi: int | None = None, clear: tuple[str, ...] = ()) -> Param:
    """A whole-number parameter (channel, row, col, class index...).

    Args:
        key: the session-state key holding the value.
        lo: the smallest allowed.
        hi: the largest; None for no bound but 10⁶.
        clear: session keys to drop when a link sets it.

    Returns:
        A Param that parses and writes it.
    """
    return Param(key, _Bounded(integer, lo, hi), str, clear)


def float_param(key: str, lo: float, hi: float) -> Param:  # noqa: D401
    """A decimal parameter (epsilon, temperature, opacity...).

    Args:
        key: the session-state key holding the value.
        lo: the smallest allowed.
        hi: the largest allowed.

    Returns:
        A Param that parses and writes it.
    """
    return Param(key, _Bounded(number, lo, hi), _fmt_float)


def choice_param(key: str, options: Iterable, clear: tuple[str, ...] = ()) -> Param:
    """A parameter that must be one of ``options``.

    Args:
        key: the session-state key holding the value.
        options: the allowed values, written as ``str(option)`` (ints allowed).
        clear: session keys to drop when a link sets it.

    Returns:
        A Param that parses and writes it.
    """
    return Param(key, _Options(tuple(options)), str, clear)


def model_param(key: str, openable: Iterable[str], clear: tuple[str, ...] = ()) -> Param:
    """A model name parameter.

    Args:
        key: the session-state key holding the value.
        openable: the models this browser may open (``ui.owner.openable``).
        clear: session keys to drop when a link sets it.

    Returns:
        A Param that parses and writes it.
    """
    return Param(key, _Openable(frozenset(openable)), str, clear)


def numbers_param(key: str, counts: tuple[int, ...], lo: float, hi: float, clear: tuple[str, ...] = ()) -> Param:
    """A list of numbers (a kernel's cells), written as the shortest text that reads back the
    same float32 (the dtype the page computes in).

    Args:
        key: the session-state key holding the value.
        counts: the allowed lengths.
        lo: the smallest allowed.
        hi: the largest allowed.
        clear: session keys to drop when a link sets it.

    Returns:
        A Param that parses and writes it.
    """
    return Param(key, _Counted(counts, lo, hi), _fmt_numbers, clear)


def bool_param(key: str) -> Param:
    """An on/off parameter, written as 1 or 0.

    Args:
        key: the session-state key holding the value.

    Returns:
        A Param that parses and writes it.
    """
    return Param(key, boolean, _fmt_bool)


def layer_param(key: str) -> Param:
    """A layer path parameter; the layer picker's block key (``key + "_block"``) is cleared with it.

    Args:
        key: the session-state key holding the value.

    Returns:
        A Param that parses and writes it.
    """
    return Param(key, layer, str, (key + "_block",))


@dataclass(frozen=True)
class _Bounded:  # a picklable parser with bounds (no lambdas: see ARCHITECTURE.md)
    fn: Callable
    lo: float | None
    hi: float | None

    def __call__(self, name: str, raw: str):
        return self.fn(name, raw, self.lo, self.hi)


@dataclass(frozen=True)
class _Counted:
    counts: tuple[int, ...]
    lo: float
    hi: float

    def __call__(self, name: str, raw: str):  # float32 values: what the page holds and computes with
        return tuple(float(np.float32(v)) for v in numbers(name, raw, self.counts, self.lo, self.hi))


@dataclass(frozen=True)
class _Options:
    options: tuple[str, ...]

    def __call__(self, name: str, raw: str):
        by_text = {str(o): o for o in self.options}
        return by_text[choice(name, raw, by_text)]


@dataclass(frozen=True)
class _Openable:
    names: frozenset[str]

    def __call__(self, name: str, raw: str) -> str:
        return model(name, raw, self.names)


def _fmt_float(v: object) -> str:
    return f"{float(v):g}"


def _fmt_numbers(v: object) -> str:
    return ",".join(np.format_float_positional(np.float32(x), trim="-") for x in v)  # type: ignore[union-attr]


def _fmt_bool(v: object) -> str:
    return "1" if v else "0"


def parse_params(spec: Mapping[str, Param], query: Mapping[str, str]) -> tuple[dict[str, object], list[str]]:
    """Values of the parameters of ``spec`` present in ``query``, and the problems found.

    Args:
        spec: parameter name -> Param.
        query: the URL's query, name -> text; unknown names are ignored.

    Returns:
        ``({param name: value}, [problem phrase])``.
    """
    values: dict[str, object] = {}
    problems: list[str] = []
    for name, p in spec.items():
        if name not in query:
            continue
        try:
            values[name] = p.parse(name, query[name])
        except LinkValueError as e:
            problems.append(str(e))
    return values, problems


def format_params(spec: Mapping[str, Param], values: Mapping[str, object]) -> dict[str, str]:
    """The query a page writes for its current values.

    Args:
        spec: parameter name -> Param.
        values: session key -> value (None: left out).

    Returns:
        ``{param name: text}`` for the parameters with a value.
    """
    return {n: p.fmt(values[p.key]) for n, p in spec.items() if values.get(p.key) is not None}


def query_too_long(query: dict[str, str]) -> str | None:
    """Whether a query is longer than :data:`MAX_QUERY_CHARS` as a URL's query string.

    Args:
        query: name -> value.

    Returns:
        A problem phrase when it is, else None.
    """
    n = sum(len(k) + len(v) + 2 for k, v in query.items())
    if n <= MAX_QUERY_CHARS:
        return None
    return _(
        "the link is too long ({n} characters; this app's links have at most {limit}), so none of it was used"
    ).format(n=i18n.number(n, 0), limit=i18n.number(MAX_QUERY_CHARS, 0))


PRIVATE_LINK = N_("This link names a private model of another browser, or one that does not exist")


def refused_model_message(raw: str, title: str, dropped: list[str]) -> str:
    """The one sentence for a link whose model this browser may not open: the same for another
    browser's private model and for a name nobody uses (no existence oracle).

    Args:
        raw: the link's model name.
        title: the model shown instead.
        dropped: phrases for the link's choices that model lacks (``layer `features.0.act```).

    Returns:
        One sentence in the reader's language.
    """
    if dropped:
        text = _(
            "This link names a private model of another browser, or one that does not exist ({value}), so {title} "
            "is shown instead, without the link's {dropped}, which it does not have."
        )
    else:
        text = _(
            "This link names a private model of another browser, or one that does not exist ({value}), so {title} "
            "is shown instead."
        )
    return text.format(value=shown(str(raw).strip()), title=title, dropped=", ".join(dict.fromkeys(dropped)))


def problems_message(problems: list[str]) -> str:
    """One sentence for every problem of a link (the page shows it once, at the top).

    Args:
        problems: the phrases found; repeats are shown once.

    Returns:
        The sentence, or '' without problems.
    """
    if not problems:
        return ""
    listed = "; ".join(dict.fromkeys(problems))  # no repeats, order kept
    return _("Part of this link could not be used, so the usual choice is shown instead: {listed}.").format(
        listed=listed
    )
