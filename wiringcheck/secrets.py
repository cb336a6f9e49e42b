"""Secrets never appear in any output: one scrubber, applied to the whole report before rendering.

Every entry point (`run`, `probe`, `inspect`, the pytest plugin) builds one `Secrets`
from what it will send (the token, credentials in a URL's userinfo or query) and
passes its `Report` through `Secrets.scrub` once, before any renderer sees it.  A
renderer then cannot leak what it never receives, whatever it escapes or truncates.

A secret is looked for in every form it can take in text that came from elsewhere
(a server's close reason, a frame, a log line, a URL): raw, URL-encoded, JSON- and
XML-escaped, as a Python repr, base64 (standard and URL-safe, padded or not), and
as the start of a secret cut by a truncation (``tok3n-abc…``).  Independently of the
known secrets, every URL's password and query values are masked (`mask_urls`), since
a query string is where tokens travel.

Pure: no I/O.  Texts are truncated only with `shorten`, after which the scrubber
recognises a secret's prefix before the ellipsis.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import json
import re
from collections.abc import Callable, Iterable
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, quote_plus, urlsplit

__all__ = [
    "ELLIPSIS",
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

_PREFIX_BEFORE_CUT = 4
"""A secret's first characters this long, right before a truncation mark, are a leak too."""

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


def _forms(secret: str) -> set[str]:
    """The ways `secret` may be written in text that escaped or encoded it."""
    raw = secret.encode("utf-8")
    forms = {
        secret,
        quote(secret, safe=""),
        quote(secret),
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
        ascii(secret)[1:-1],
        secret.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
        secret.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;"),
        secret.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("'", "&apos;"),
        secret.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"),
    }
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        text = encoded.decode("ascii")
        forms.update((text, text.rstrip("=")))
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


class Secrets:
    """The secrets of one invocation, and the scrubber that removes them from anything it outputs."""

    def __init__(self, values: Iterable[str | None] = ()) -> None:
        secrets = {value for value in values if value and len(value) >= MIN_SECRET_LENGTH}
        # Longest first, so a secret that contains another is replaced whole.
        self._forms = sorted({form for secret in secrets for form in _forms(secret)}, key=len, reverse=True)
        self._cut = Secrets._cut_patterns(self._forms)

    def __bool__(self) -> bool:
        return bool(self._forms)

    def with_values(self, *values: str | None) -> Secrets:
        """A copy that also knows `values` (a token resolved late, a credential a setup step received)."""
        merged = Secrets(values)
        merged._forms = sorted({*self._forms, *merged._forms}, key=len, reverse=True)
        merged._cut = Secrets._cut_patterns(merged._forms)
        return merged

    @staticmethod
    def _cut_patterns(forms: list[str]) -> list[re.Pattern[str]]:
        if not forms:
            return []
        prefixes = (
            re.escape(form[:length]) for form in forms for length in range(len(form) - 1, _PREFIX_BEFORE_CUT - 1, -1)
        )
        # Grouped, so the look-ahead (a cut follows) applies to every prefix, not just the last one.
        return [re.compile("(?:" + "|".join(prefixes) + r")(?=['\"]?(?:…|\.\.\.))")]

    def scrub_text(self, text: str) -> str:
        """`text` with every form of every secret, a secret's prefix before a cut, and URL credentials masked."""
        for form in self._forms:
            if form in text:
                text = text.replace(form, REDACTED)
        for pattern in self._cut:
            text = pattern.sub(REDACTED, text)
        return mask_urls(text)

    def scrub(self, value: _T) -> _T:
        """A copy of `value` (a report, a finding, any dataclass, mapping or sequence) with every string scrubbed."""
        return map_strings(value, self.scrub_text)


def map_strings(value: _T, change: Callable[[str], str]) -> _T:
    """A copy of `value` with `change` applied to every string in it, through dataclasses, mappings and sequences."""
    return _map(value, change)  # type: ignore[no-any-return]


def _map(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, enum.Enum) or value is None or isinstance(value, bool | int | float | bytes):
        return value
    if isinstance(value, str):
        return change(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _map(getattr(value, f.name), change) for f in dataclasses.fields(value) if f.init}
        return dataclasses.replace(value, **changes)
    if isinstance(value, dict):
        return {_map(key, change): _map(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [_map(item, change) for item in value]
    if isinstance(value, tuple):
        return tuple(_map(item, change) for item in value)
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
