"""Helpers of the adversarial suite: scratch configurations, the entry points, and the leak detector.

- `write_config` writes a ``wiringcheck.toml`` from keyword values (numbers may be
  ``nan`` or ``inf``: TOML spells them, and an attacker's file can too).
- `cli` runs ``python -m wiringcheck`` in a process of its own (forked by `tests.prefork`)
  with a hard timeout and measures its wall time; `in_process` calls `wiringcheck.cli.main` and captures
  everything it writes.
- `leaks` finds a secret in any text, in every form an output could carry it:
  raw, URL-, JSON- (``\\/`` too), XML-, GitHub-escaped, HTML numeric entities, base64 and
  hex (also inside a longer text), a Python repr of a str or of bytes, escaped twice, in
  any letter case, as its first or last `FRAGMENT` characters anywhere, and as its first
  characters right before a truncation mark.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import html
import io
import json
import math
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

from wiringcheck.cli import main

from .. import prefork
from ..conftest import MS
from ..integration.helpers import REPO

__all__ = [
    "MS",
    "REPO",
    "TOKEN_ENV",
    "Outcome",
    "cli",
    "in_process",
    "leaks",
    "output_lines",
    "write_config",
]

TOKEN_ENV = "WC_ADV_TOKEN"
"""The variable the suite's configurations name as `token_env`."""

SUBPROCESS_TIMEOUT = 60.0
"""Seconds any subprocess may take before the test kills it and fails (a hang is a failure, not a wait)."""


# -- configurations --------------------------------------------------------------------------------


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if isinstance(value, float) and math.isnan(value):
            return "nan"
        if isinstance(value, float) and math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value)  # a JSON string is a TOML basic string
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{key} = {_toml(item)}" for key, item in value.items()) + " }"
    raise TypeError(f"cannot write {value!r} as TOML")


def write_config(folder: Path, *, probe: Mapping[str, Any] | None = None, **top: Any) -> Path:
    """A ``wiringcheck.toml`` in `folder` with `top` keys and a ``[probe]`` table; imports resolve in the repo.

    Values already spelled as TOML can be given as `Raw` (``deadline=Raw("nan")``).
    """
    lines = [f"pythonpath = {_toml([str(REPO)])}"]
    lines += [f"{key} = {value.text if isinstance(value, Raw) else _toml(value)}" for key, value in top.items()]
    if probe:
        lines.append("[probe]")
        lines += [f"{key} = {value.text if isinstance(value, Raw) else _toml(value)}" for key, value in probe.items()]
    path = folder / "wiringcheck.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@dataclass(frozen=True)
class Raw:
    """A value written into the TOML file exactly as given (``nan``, ``-inf``, ``1e12``)."""

    text: str


# -- entry points ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What an invocation did: its exit code, its output streams, its wall time, and the files it left."""

    code: int
    stdout: str
    stderr: str
    elapsed: float
    files: dict[str, str]

    @property
    def everything(self) -> str:
        """Every byte of output, streams and files, as one text to search."""
        return "\n".join([self.stdout, self.stderr, *self.files.values()])

    def json_report(self, name: str = "report.json") -> Any:
        """The JSON report file, parsed strictly (NaN and Infinity are not JSON)."""
        return json.loads(self.files[name], parse_constant=_reject_constant)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"the JSON report contains {name}, which is not JSON")


def _read(paths: Iterable[Path]) -> dict[str, str]:
    return {path.name: path.read_text(encoding="utf-8", errors="replace") for path in paths if path.is_file()}


def cli(
    args: list[str],
    *,
    env: Mapping[str, str] | None = None,
    files: Iterable[Path] = (),
    timeout: float = SUBPROCESS_TIMEOUT,
    cwd: Path = REPO,
) -> Outcome:
    """``python -m wiringcheck ARGS`` in a process of its own killed after `timeout` seconds (which fails the test).

    The process is forked from an interpreter that has imported wiringcheck already (`tests.prefork`):
    it dies, hangs and exits as a new one would, without the 0.3 s of CPU a new one spends importing.
    """
    environment = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1", **(env or {})}
    environment.pop("WIRINGCHECK_DEBUG", None)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wiringcheck-cli-") as scratch:
        try:
            completed = prefork.run(args, env=environment, cwd=cwd, timeout=timeout, scratch=Path(scratch))
        except prefork.Timeout as exc:
            raise AssertionError(f"`wiringcheck {' '.join(args)}` was still running after {timeout:g} s") from exc
    elapsed = time.monotonic() - started
    return Outcome(completed.returncode, completed.stdout, completed.stderr, elapsed, _read(files))


def in_process(args: list[str], *, env: Mapping[str, str] | None = None, files: Iterable[Path] = ()) -> Outcome:
    """`wiringcheck.cli.main(args)` in this process, with stdout and stderr captured and `env` set."""
    stdout, stderr = io.StringIO(), io.StringIO()
    saved = {name: os.environ.get(name) for name in (env or {})}
    os.environ.update(env or {})
    started = time.monotonic()
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = main(args)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    elapsed = time.monotonic() - started
    return Outcome(code, stdout.getvalue(), stderr.getvalue(), elapsed, _read(files))


def output_lines(text: str) -> list[str]:
    """The lines a log viewer shows: split on every line break a terminal or GitHub's log honours."""
    return re.split(r"\r\n|\r|\n|\x0b|\x0c|\x85|\u2028|\u2029", text)


# -- leaks -----------------------------------------------------------------------------------------

_ELLIPSES = ("…", "...", "\\u2026", "&#8230;", "&#x2026;", "%E2%80%A6")
"""A truncation mark as it appears raw, JSON-escaped, XML character references, URL-encoded."""


def _encoders() -> list[Callable[[str], str]]:
    def xml_minimal(text: str) -> str:
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def xml_quotes(text: str) -> str:
        return xml_minimal(text).replace('"', "&quot;").replace("'", "&apos;")

    def xml_ascii(text: str) -> str:
        return xml_quotes(text).encode("ascii", "xmlcharrefreplace").decode("ascii")

    def github_data(text: str) -> str:
        return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

    def github_property(text: str) -> str:
        return github_data(text).replace(":", "%3A").replace(",", "%2C")

    def b64(encode: Callable[[bytes], bytes], *, pad: bool) -> Callable[[str], str]:
        def encoder(text: str) -> str:
            encoded = encode(text.encode("utf-8")).decode("ascii")
            return encoded if pad else encoded.rstrip("=")

        return encoder

    def inside_longer_text(encode: Callable[[bytes], bytes], before: int) -> Callable[[str], str]:
        """The part of `text`'s base64 that depends neither on the `before` bytes preceding it nor on what follows."""

        def encoder(text: str) -> str:
            raw = text.encode("utf-8")
            encoded = encode(b"\x00" * before + raw).decode("ascii").rstrip("=")
            first = -(-before * 8 // 6)  # the characters carrying bits of the preceding bytes
            last = len(encoded) - (1 if (before + len(raw)) % 3 else 0)
            return encoded[first:last]

        return encoder

    def entities(template: str) -> Callable[[str], str]:
        return lambda text: "".join(template.format(ord(char)) for char in text)

    return [
        lambda text: quote(text, safe=""),
        quote,
        quote_plus,
        lambda text: json.dumps(text)[1:-1],
        lambda text: json.dumps(text, ensure_ascii=False)[1:-1],
        lambda text: json.dumps(text)[1:-1].replace("/", "\\/"),
        lambda text: repr(text)[1:-1],
        lambda text: ascii(text)[1:-1],
        lambda text: repr(text.encode("utf-8"))[2:-1],
        entities("&#{};"),
        entities("&#x{:x};"),
        lambda text: text.encode("utf-8").hex(),
        inside_longer_text(base64.b64encode, 1),
        inside_longer_text(base64.b64encode, 2),
        inside_longer_text(base64.urlsafe_b64encode, 1),
        inside_longer_text(base64.urlsafe_b64encode, 2),
        xml_minimal,
        xml_quotes,
        xml_ascii,
        lambda text: html.escape(text, quote=True),
        github_data,
        github_property,
        b64(base64.b64encode, pad=True),
        b64(base64.b64encode, pad=False),
        b64(base64.urlsafe_b64encode, pad=True),
        b64(base64.urlsafe_b64encode, pad=False),
    ]


_ENCODERS = _encoders()


@functools.cache  # what a secret's forms are depends on the secret alone: worked out once per secret, not per output
def secret_forms(secret: str) -> frozenset[str]:
    """`secret` raw and in every form one or two of the encoders above make of it."""
    once = {secret} | {encode(secret) for encode in _ENCODERS}
    twice = {encode(form) for form in once for encode in _ENCODERS}
    return frozenset(form for form in once | twice if len(form) >= 4)


def _shared_start(one: str, other: str) -> str:
    return os.path.commonprefix([one, other])  # noqa: RUF071 -- characters, not path components, are wanted


@functools.cache
def secret_fragments(secret: str) -> frozenset[str]:
    """What each form of `secret` holds of its first, and of its last, `FRAGMENT` characters.

    Counted in the secret's own characters, not the form's: ``6\\"zw3`` is five characters of
    the token, JSON-escaped, not six. The part of a form the first characters decide is what
    the form has in common with the encoding of those characters alone.
    """
    if len(secret) <= FRAGMENT:
        return frozenset()
    found: set[str] = set()
    once = [_identity, *_ENCODERS]
    for first in once:  # every encoder, and every pair applied one after the other, as `secret_forms` applies them
        encoded = [first(text) for text in (secret, secret[:FRAGMENT], secret[-FRAGMENT:])]
        for second in once:
            form, head, tail = (second(text) for text in encoded)
            start = _shared_start(head, form)
            end = _shared_start(tail[::-1], form[::-1])[::-1]
            found.update(piece.lower() for piece in (start, end) if len(piece) >= FRAGMENT)
    return frozenset(found)


def _identity(text: str) -> str:
    return text


def _within_a_word(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] runs on into letters or digits on both sides: part of a longer word, not a cut."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return before.isalnum() and after.isalnum()


_PREFIX = 4
"""A secret's first characters this long, right before a truncation mark, are a leak."""

FRAGMENT = 6
"""A secret's first or last characters this long are a leak anywhere: a server may cut its text without a mark,
and a token split across two frames shows its start in one and its end in the other."""


def _excerpt(haystack: str, at: int, length: int) -> str:
    return f"…{haystack[max(at - 40, 0) : at + length + 10]!r}…"


def leaks(secret: str, text: str) -> list[str]:
    """Every form of `secret` found in `text` (empty when it does not leak), as short excerpts.

    Letter case is ignored (an upper-cased token, lower-case %-encoding and hex are leaks
    too). Console output may wrap a long line, so the text is also searched with each
    line break and the indentation after it removed.
    """
    lowered = text.lower()
    joined = re.sub(r"\n[ \t]*", "", lowered)
    forms = _lowered_forms(secret)
    found: list[str] = []
    for haystack in (lowered, joined):
        for form in forms:
            at = haystack.find(form)
            if at >= 0:
                found.append(f"{form!r} in {_excerpt(haystack, at, len(form))}")
        if found:
            return found
    fragments = _sorted_fragments(secret)
    for haystack in (lowered, joined):
        for piece in fragments:
            at = haystack.find(piece)
            while at >= 0:
                if not _within_a_word(haystack, at, at + len(piece)):
                    found.append(f"fragment {piece!r} of a form in {_excerpt(haystack, at, FRAGMENT)}")
                    break
                # "hreads" of "threadsleftbehind": a word that shares letters, not a cut secret
                at = haystack.find(piece, at + 1)
        if found:
            return found
    prefixes = _lowered_forms(secret)
    for haystack in (lowered, joined):
        for mark in _ELLIPSES:
            for match in re.finditer(re.escape(mark.lower()), haystack):
                end = match.start()
                if end > 0 and haystack[end - 1] in "'\"":
                    end -= 1
                length = _shortest_prefix_before(prefixes, haystack, end)
                if length:
                    excerpt = haystack[max(end - length - 40, 0) : end + 10]
                    found.append(f"prefix {haystack[end - length : end]!r} before a cut in …{excerpt!r}…")
        if found:
            return found
    return _residues(secret, text)


@functools.cache
def _lowered_forms(secret: str) -> tuple[str, ...]:
    """`secret_forms` in lower case, longest first."""
    return tuple(sorted({form.lower() for form in secret_forms(secret)}, key=len, reverse=True))


@functools.cache
def _sorted_fragments(secret: str) -> tuple[str, ...]:
    return tuple(sorted(secret_fragments(secret)))


def _shortest_prefix_before(forms: tuple[str, ...], text: str, end: int) -> int:
    """The length of the shortest first part of a form, `_PREFIX` characters or more (short of the whole form),
    that `text` has right before `end`; 0 if none.

    Such a part ends with the `_PREFIX` characters before `end`: only where a form has those are lengths compared.
    """
    if end < _PREFIX:
        return 0
    last = text[end - _PREFIX : end]
    shortest = 0
    for form in forms:
        at = form.find(last)
        while at >= 0:
            length = at + _PREFIX
            if length >= len(form) or (shortest and length >= shortest):
                break
            if length <= end and text.startswith(form[:length], end - length):
                shortest = length
                break
            at = form.find(last, at + 1)
    return shortest


_RESIDUE = 5
"""Characters of a secret's middle that may not follow a redaction mark (a secret scrubbed only in part)."""


_ONE_ESCAPE = re.compile(r"&#?\w+;?|(?:%[0-9a-f]{2})+|\\+\w?['\"\\]?")
"""One escaped character (``&quot;`` after a scrubbed JSON string): the escaping's, not the secret's."""


@functools.cache
def _rests(secret: str) -> tuple[str, ...]:
    """`secret` and its forms once encoded (lower case), each without its first character: what may remain of one
    after a scrubber replaced its start."""
    forms = {form.lower() for form in ({secret} | {encode(secret) for encode in _ENCODERS})}
    return tuple(form[1:] for form in forms if len(form) > _RESIDUE)


def _residues(secret: str, text: str) -> list[str]:
    """A secret's rest right after ``***``: `_RESIDUE` or more characters of a form's middle (never its first).

    The longest such run is reported, short of one escaped character. A run is part of a form's rest, and if it
    is, so is each shorter start of it: the run grows while it still is.
    """
    text = text.lower()
    rests = _rests(secret)
    longest = max(map(len, rests), default=0)
    found = []
    for match in re.finditer(re.escape("***"), text):
        after = text[match.end() : match.end() + longest]
        grown = _RESIDUE - 1
        while grown < len(after) and any(after[: grown + 1] in rest for rest in rests):
            grown += 1
        for length in range(grown, _RESIDUE - 1, -1):
            if not _ONE_ESCAPE.fullmatch(after[:length]):
                excerpt = text[max(match.start() - 30, 0) : match.end() + length + 10]
                found.append(f"the rest of a partly scrubbed secret, {after[:length]!r}, in …{excerpt!r}…")
                break
    return found
