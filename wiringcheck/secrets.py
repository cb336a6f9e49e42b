"""Secrets never appear in any output: one scrubber, applied to the whole report before rendering.

Every entry point (`run`, `probe`, `load`, `inspect`, the pytest plugin) builds one
`Secrets` from what it will send (the token, credentials in a URL's userinfo or query,
the values its setup steps captured) and passes its `Report` through `Secrets.scrub`
once, before any renderer sees it.  A renderer then cannot leak what it never
receives, whatever it escapes or truncates.

A secret is looked for in every form it can take in text that came from elsewhere
(a server's close reason, a frame, a log line, a URL, what the backend printed):

- raw, and in any letter case (an upper-cased token, lower-case %-encoding, hex);
- escaped once or twice by the usual escapers: URL (%-encoding, also doubled), JSON
  (``\\u00e9``, ``\\/``), Python's repr of a str or of bytes, XML and HTML (named and
  numeric character references), GitHub's workflow-command encoding; so a JSON-escaped
  token shown again through repr is found too;
- base64 (standard and URL-safe, padded or not) and hex, of the secret alone or of a
  longer text holding it (its base64 depends on where in the text it starts);
- cut: any first `MIN_FRAGMENT` characters or more of any of those forms where the
  text stops after them (its end, a space, a closing bracket or quote), since a server
  may cut its own text without a mark (a close reason at 123 bytes); any last
  `MIN_FRAGMENT` characters or more where a text starts before them, since a token may
  be split across two frames; and, right before a truncation mark (``tok3n…``), its
  first `_PREFIX_BEFORE_CUT` characters or more. A fragment that runs on into a word
  (``studio`` of ``studio-dev-token`` in ``studio_guarded_rename``) is not a cut.

Independently of the known secrets, every URL's password and query values are masked
(`mask_urls`), since a query string is where tokens travel.

Pure: no I/O.  The forms are built once per `Secrets`; each text is searched for the
few distinct leading and trailing fragments of all forms at C speed (`str.find`), and
the same text is scrubbed once per report, however often it repeats.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import html
import json
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

__all__ = [
    "ELLIPSIS",
    "MIN_FRAGMENT",
    "MIN_SECRET_LENGTH",
    "REDACTED",
    "SECRET_NAMES",
    "Secrets",
    "looks_secret",
    "map_strings",
    "mask_urls",
    "shorten",
]

REDACTED = "***"
"""What a secret is replaced with."""

ELLIPSIS = "…"
"""The mark `shorten` leaves where it cut a text."""

MIN_SECRET_LENGTH = 3
"""Shorter values are not treated as secrets: replacing every ``a`` in a report would destroy it."""

MIN_FRAGMENT = 6
"""A secret's first or last characters this long are a leak wherever they appear (a cut nobody marked)."""

_PREFIX_BEFORE_CUT = 4
"""A secret's first characters this long, right before a truncation mark, are a leak too."""

_CUT_MARKS = ("…", "...")
_QUOTES = "'\""

_T = TypeVar("_T")

_URL = re.compile(r"(?i)\b(?:wss?|https?)://[^\s'\"<>`]*[^\s'\"<>`:,.;!?)\]}]")
"""A URL in prose: it never ends with the punctuation that follows it (``ws://h/ws?token=x: refused``)."""


SECRET_NAMES = ("token", "secret", "ticket", "password", "passwd", "key", "credential")
"""A value whose name contains one of these (any case) is a credential: a setup step's capture, an `[env]`
variable. It is scrubbed from every output."""


def looks_secret(name: str) -> bool:
    """Whether a value called `name` is treated as a credential (`SECRET_NAMES`)."""
    lowered = name.lower()
    return any(part in lowered for part in SECRET_NAMES)


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending with `ELLIPSIS` when it was cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)] + ELLIPSIS


def _mask_url(match: re.Match[str]) -> str:
    url = match.group(0)
    try:
        parts = urlsplit(url)
    except ValueError:  # malformed (a bad IPv6 host): mask by shape, never show it whole
        url = re.sub(r"(//[^/@\s:]*:)[^/@\s]*@", rf"\g<1>{REDACTED}@", url)
        return re.sub(r"([?&][^=&#\s]*=)[^&#\s]*", rf"\g<1>{REDACTED}", url)
    shown = url
    if parts.password:
        shown = shown.replace(f":{parts.password}@", f":{REDACTED}@", 1)
    if parts.query:
        masked = "&".join(
            f"{key}={REDACTED}" if key else REDACTED for key, _ in parse_qsl(parts.query, keep_blank_values=True)
        )
        shown = shown.replace(f"?{parts.query}", f"?{masked}" if masked else "?", 1)
    return shown


def mask_urls(text: str) -> str:
    """Every ws://, wss://, http:// and https:// URL in `text` with its password and query values masked."""
    if "://" not in text:
        return text
    return _URL.sub(_mask_url, text)


# -- the forms of a secret -------------------------------------------------------------------------


def _encoded(text: str) -> bytes:
    """`text` as the bytes it was made of (an environment variable's undecodable bytes come back as they were)."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def _escaped(text: str) -> set[str]:
    """`text` as each escaping output or protocol writes it (once)."""
    xml = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    xml_quoted = xml.replace('"', "&quot;")
    json_ascii = json.dumps(text)[1:-1]
    json_unicode = json.dumps(text, ensure_ascii=False)[1:-1]
    github = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return {
        quote(text, safe=""),
        quote(text),
        quote_plus(text),
        json_ascii,
        json_unicode,
        json_ascii.replace("/", "\\/"),  # JSON may escape the solidus
        json_unicode.replace("/", "\\/"),
        repr(text)[1:-1],
        ascii(text)[1:-1],
        repr(_encoded(text))[2:-1],  # a bytes repr
        xml,
        text.replace("&", "&amp;").replace("<", "&lt;"),  # the least an HTML page escapes
        xml_quoted,
        xml.replace("'", "&apos;"),
        html.escape(text, quote=True),
        xml_quoted.encode("ascii", "xmlcharrefreplace").decode("ascii"),
        "".join(f"&#{ord(char)};" for char in text),  # HTML numeric entities, decimal and hex
        "".join(f"&#x{ord(char):x};" for char in text),
        github,
        github.replace(":", "%3A").replace(",", "%2C"),
    }


def _binary(raw: bytes) -> set[str]:
    """`raw` in hex and base64, alone or inside a longer text (where its base64 depends on its offset)."""
    forms = {raw.hex()}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(raw).decode("ascii")
        forms.update((whole, whole.rstrip("=")))
        for offset in (1, 2):
            shifted = encode(b"\0" * offset + raw).decode("ascii").rstrip("=")
            start = (offset * 8 + 5) // 6  # characters that carry bits of the text before it
            end = len(shifted) - (1 if (offset + len(raw)) % 3 else 0)  # and of the text after it
            forms.add(shifted[start:end])
    return forms


def _forms(secret: str) -> set[str]:
    """The ways `secret` may be written in text that escaped or encoded it, once or twice."""
    # Upper case too: letter case is folded for the search, but ``ß`` upper-cases to ``SS``.
    once = {secret, secret.upper()} | _escaped(secret) | _binary(_encoded(secret))
    twice = {form for first in once for form in _escaped(first)}
    twice.update(form for text in (json.dumps(secret)[1:-1],) for form in _binary(_encoded(text)))
    return {form for form in once | twice if len(form) >= MIN_SECRET_LENGTH}


def _fold(text: str) -> str:
    """`text` in lower case, character for character (so positions in it are positions in `text`)."""
    folded = text.lower()
    if len(folded) == len(text):
        return folded
    return "".join(char.lower() if len(char.lower()) == 1 else char for char in text)


def _common_prefix(text: str, at: int, form: str) -> int:
    """How many characters of `form` `text` holds from `at` on."""
    length = 0
    limit = min(len(form), len(text) - at)
    while length < limit and text[at + length] == form[length]:
        length += 1
    return length


def _common_suffix(text: str, end: int, form: str) -> int:
    """How many of `form`'s last characters `text` holds right before `end`."""
    length = 0
    limit = min(len(form), end)
    while length < limit and text[end - 1 - length] == form[-1 - length]:
        length += 1
    return length


_ESCAPES = "\\&%;"
"""Where an escape begins or ends: a secret's start or end next to one is the secret escaped once more."""

_STOPS = frozenset(" \t\r\n)]}>'\"`,;" + _ESCAPES)
"""What may follow a text cut short: its end, a space, a closing bracket or quote (``(token=tok3n-9f)``), or
an escape the form did not have (the same secret, escaped again)."""

_STARTS = frozenset(" \t\r\n([{<'\"`=:…" + _ESCAPES)
"""What may come before the rest of a split text: its start, a space, an opening bracket or quote, ``=``, or
the end of an escape."""


def _cut_after(text: str, end: int) -> bool:
    """Whether `text` stops at `end` the way a cut text does (a secret's start followed by ``_guarded`` is a word)."""
    return end >= len(text) or text[end] in _STOPS or text.startswith(("…", "..."), end)


def _cut_before(text: str, start: int) -> bool:
    """Whether `text` starts at `start` the way the second part of a split text does."""
    return start <= 0 or text[start - 1] in _STARTS


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


class Secrets:
    """The secrets of one invocation, and the scrubber that removes them from anything it outputs."""

    def __init__(self, values: Iterable[str | None] = ()) -> None:
        secrets = {value for value in values if value and len(value) >= MIN_SECRET_LENGTH}
        self._index({_fold(form) for secret in secrets for form in _forms(secret)})

    def _index(self, forms: set[str]) -> None:
        """Arrange the (folded) forms for the search: whole short ones, and the others by first and last fragment."""
        self._forms = frozenset(forms)
        self._short = sorted(form for form in forms if len(form) < MIN_FRAGMENT)
        self._heads: dict[str, list[str]] = {}
        self._tails: dict[str, list[str]] = {}
        self._cut_prefixes: set[str] = set()
        for form in forms:
            self._cut_prefixes.update(
                form[:length] for length in range(_PREFIX_BEFORE_CUT, min(len(form), MIN_FRAGMENT))
            )
            if len(form) >= MIN_FRAGMENT:
                self._heads.setdefault(form[:MIN_FRAGMENT], []).append(form)
                self._tails.setdefault(form[-MIN_FRAGMENT:], []).append(form)

    def __bool__(self) -> bool:
        return bool(self._forms)

    def with_values(self, *values: str | None) -> Secrets:
        """A copy that also knows `values` (a token resolved late, a credential a setup step received)."""
        merged = Secrets(values)
        merged._index(set(self._forms | merged._forms))
        return merged

    def _spans(self, folded: str) -> list[tuple[int, int]]:
        """Where in `folded` (a text in lower case) a form of a secret, or a fragment of one, stands."""
        spans: list[tuple[int, int]] = []
        for form in self._short:
            at = folded.find(form)
            while at >= 0:
                spans.append((at, at + len(form)))
                at = folded.find(form, at + 1)
        for head, forms in self._heads.items():  # a form, or its start where the text stops (a cut)
            if head not in folded:  # the common case, and the cheapest test
                continue
            at = folded.find(head)
            while at >= 0:
                matched = [(_common_prefix(folded, at, form), len(form)) for form in forms]
                length = max((n for n, whole in matched if n == whole or _cut_after(folded, at + n)), default=0)
                if length:
                    spans.append((at, at + length))
                at = folded.find(head, at + 1)
        for tail, forms in self._tails.items():  # a form's end (cut before it: the second of two frames)
            if tail not in folded:
                continue
            at = folded.find(tail)
            while at >= 0:
                end = at + MIN_FRAGMENT
                matched = [(_common_suffix(folded, end, form), len(form)) for form in forms]
                length = max((n for n, whole in matched if n == whole or _cut_before(folded, end - n)), default=0)
                if length:
                    spans.append((end - length, end))
                at = folded.find(tail, at + 1)
        for mark in _CUT_MARKS:  # a shorter start, right before a truncation mark
            if mark not in folded:
                continue
            at = folded.find(mark)
            while at >= 0:
                end = at - 1 if at and folded[at - 1] in _QUOTES else at
                for length in range(MIN_FRAGMENT - 1, _PREFIX_BEFORE_CUT - 1, -1):
                    if end >= length and folded[end - length : end] in self._cut_prefixes:
                        spans.append((end - length, end))
                        break
                at = folded.find(mark, at + 1)
        return spans

    def scrub_text(self, text: str) -> str:
        """`text` with every form of every secret, every fragment of one a cut left, and URL credentials masked."""
        if self._forms:
            spans = self._spans(_fold(text))
            if spans:
                parts: list[str] = []
                shown = 0
                for start, end in _merged(spans):
                    parts += (text[shown:start], REDACTED)
                    shown = end
                text = "".join((*parts, text[shown:]))
        return mask_urls(text)

    def scrub(self, value: _T) -> _T:
        """A copy of `value` (a report, a finding, any dataclass, mapping or sequence) with every string scrubbed.

        A text that repeats (an event type, a run id) is scrubbed once.
        """
        done: dict[str, str] = {}

        def scrubbed(text: str) -> str:
            clean = done.get(text)
            if clean is None:
                clean = done[text] = self.scrub_text(text)
            return clean

        return map_strings(value, scrubbed)


def map_strings(value: _T, change: Callable[[str], str]) -> _T:
    """A copy of `value` with `change` applied to every string in it, through dataclasses, mappings and sequences."""
    return _map(value, change)  # type: ignore[no-any-return]


_FIELDS: dict[type, tuple[tuple[str, ...], bool]] = {}
"""Each dataclass's init fields and whether it is frozen, looked up once per type."""


def _fields(kind: type) -> tuple[tuple[str, ...], bool]:
    known = _FIELDS.get(kind)
    if known is None:
        names = tuple(f.name for f in dataclasses.fields(kind) if f.init)
        known = _FIELDS[kind] = (names, bool(kind.__dataclass_params__.frozen))  # type: ignore[attr-defined]
    return known


def _map(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, enum.Enum) or value is None or isinstance(value, bool | int | float | bytes):
        return value
    if isinstance(value, str):
        return change(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names, frozen = _fields(type(value))
        before = [getattr(value, name) for name in names]
        after = [_map(item, change) for item in before]
        if frozen and all(new is old or new == old for new, old in zip(after, before, strict=True)):
            return value  # immutable and unchanged: the same object is the copy
        return dataclasses.replace(value, **dict(zip(names, after, strict=True)))
    if isinstance(value, dict):
        return {_map(key, change): _map(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [_map(item, change) for item in value]
    if isinstance(value, tuple):
        items = tuple(_map(item, change) for item in value)
        return value if all(new is old for new, old in zip(items, value, strict=True)) else items
    return value


def url_secrets(url: str | None) -> list[str]:
    """The values in a URL that may be secrets: its password and every query value."""
    if not url:
        return []
    try:
        parts = urlsplit(url)
        values = [parts.password or ""]
    except ValueError:
        return []
    values.extend(value for _, value in parse_qsl(parts.query, keep_blank_values=True))
    return [value for value in values if value]
