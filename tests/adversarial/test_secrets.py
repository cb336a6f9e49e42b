"""Secrets never leak: not from `run`, `probe` or `pytest --wiringcheck`, in no format, in no escaped form.

The hostile server and backend echo the token they received everywhere a careless
server could: a close reason (``code 4401 (unauthorized token=…)``), frames shown as
evidence (raw, base64, URL-, JSON- and XML-escaped, and placed so that a 60-character
cut shows only its first characters), an event's field, and a warning the backend
logs (WC105).  Tokens in a target URL's query and passwords in its userinfo are
secrets too, in passing runs as much as failing ones.  Every output is searched:
stdout, stderr, the --output, --json and --junit files, and pytest's own --junitxml.
"""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from wiringcheck.render import Format

from .support import TOKEN_ENV, Outcome, in_process, leaks, write_config

pytest_plugins = ["pytester"]

NASTY_TOKENS = [
    "tok&<>\"'%\\é€-9f3a",
    "plain-secret-7d1e40c9b2",
    "Zm9v+/==ü日🙂;q=1",
]
"""Tokens with every character an escaping output changes, and one that looks like nothing special."""

AUTH = {"query": "token", "token_env": TOKEN_ENV}

ALL_FORMATS = tuple(Format)


def assert_no_leak(secret: str, outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        found = leaks(secret, outcome.everything)
        assert not found, f"the secret leaked (exit {outcome.code}): {found[:3]}"


def every_format(args: list[str], folder: Path, *, env: dict[str, str], formats=ALL_FORMATS) -> list[Outcome]:
    """`wiringcheck ARGS` once per format, in process; the console run (to stdout) also writes --json and --junit."""
    outcomes = []
    for fmt in formats:
        files = [folder / f"out.{fmt.value}"]
        extra = ["--output", str(files[0])]
        if fmt is Format.CONSOLE:
            files += [folder / "report.json", folder / "report.xml"]
            extra = ["--json", str(files[1]), "--junit", str(files[2])]
        outcomes.append(in_process([*args, "--format", fmt.value, "-vv", *extra], env=env, files=files))
    return outcomes


def pytest_outcome(pytester, config: Path, *extra: str) -> Outcome:
    """`pytest --wiringcheck` (in this process) on `config`, with pytest's own --junitxml."""
    junit = pytester.path / "pytest-junit.xml"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
        result = pytester.runpytest(
            "-p",
            "wiringcheck.pytest_plugin",
            "--wiringcheck",
            f"--wiringcheck-config={config}",
            "-v",
            "-rA",  # pytest also prints the log records it captured while an item ran
            f"--junitxml={junit}",
            "-o",
            "junit_logging=all",
            *extra,
        )
    files = {junit.name: junit.read_text(encoding="utf-8")} if junit.is_file() else {}
    return Outcome(int(result.ret), result.stdout.str(), result.stderr.str(), 0.0, files)


# -- the token echoed by the server or logged by the backend -------------------------------------


@pytest.mark.parametrize("token", [NASTY_TOKENS[0], NASTY_TOKENS[2]])
def test_run_app_never_shows_the_token_the_backend_logs_and_echoes(token, tmp_path):
    """`run` on an in-process backend that logs the token (WC105), echoes it and closes with it: no output has it."""
    config = write_config(tmp_path, app="tests.adversarial.backends:echo_token", probe={"auth": AUTH, "deadline": 1.0})

    outcomes = every_format(["run", "--config", str(config)], tmp_path, env={TOKEN_ENV: token})

    report = outcomes[0].json_report()
    codes = {f["code"] for check in report["checks"] for f in check["findings"]}
    assert {1} == {o.code for o in outcomes}
    assert {"WC105", "WC406", "WC408"} <= codes  # the attack happened: logged, echoed in frames, closed
    assert_no_leak(token, outcomes)


@pytest.mark.parametrize("token", NASTY_TOKENS)
def test_run_url_never_shows_the_token_the_server_echoes(token, server, tmp_path):
    """`run` against a running server that echoes the token in frames and its close reason: no output has it."""
    config = write_config(tmp_path, url=server.url("echo"), probe={"auth": AUTH, "deadline": 1.0})

    outcomes = every_format(["run", "--config", str(config)], tmp_path, env={TOKEN_ENV: token})

    assert {1} == {o.code for o in outcomes}
    assert "4401" in outcomes[0].stdout
    assert_no_leak(token, outcomes)


@pytest.mark.parametrize("token", NASTY_TOKENS)
def test_probe_never_shows_the_token_the_server_echoes(token, server, tmp_path):
    """`probe URL --token-env` against the echoing server: no output has the token, even escaped or cut."""
    args = ["probe", server.url("echo"), "--token-env", TOKEN_ENV, "--deadline", "1"]

    outcomes = every_format(args, tmp_path, env={TOKEN_ENV: token})

    assert {1} == {o.code for o in outcomes}
    assert_no_leak(token, outcomes)


@pytest.mark.parametrize("token", NASTY_TOKENS[:2])
def test_pytest_plugin_never_shows_the_token(token, pytester, monkeypatch):
    """`pytest --wiringcheck` on the echoing backend: the terminal, and pytest's --junitxml, never carry it."""
    monkeypatch.setenv(TOKEN_ENV, token)
    config = write_config(
        pytester.path, app="tests.adversarial.backends:echo_token", probe={"auth": AUTH, "deadline": 1.0}
    )

    outcome = pytest_outcome(pytester, config)

    assert 1 == outcome.code
    assert "WC105" in outcome.stdout
    assert_no_leak(token, [outcome])


def test_pytest_plugin_never_shows_the_token_a_running_server_echoes(pytester, server, monkeypatch):
    """`pytest --wiringcheck` with a url target whose server echoes the token: no output carries it."""
    token = NASTY_TOKENS[0]
    monkeypatch.setenv(TOKEN_ENV, token)
    config = write_config(pytester.path, url=server.url("echo"), probe={"auth": AUTH, "deadline": 1.0})

    outcome = pytest_outcome(pytester, config)

    assert 1 == outcome.code
    assert "4401" in outcome.stdout
    assert_no_leak(token, [outcome])


LONG_TOKEN = "tok3n-" + "9f3a5c1b0d7e" * 9
"""Longer than a close reason holds: the echoing server cuts it mid-token, without any mark."""


def test_close_reason_the_server_cut_mid_token_never_leaks(server, tmp_path):
    """`probe` against a server whose 123-byte close reason ends inside the token: no output shows its start."""
    args = ["probe", server.url("echo"), "--token-env", TOKEN_ENV, "--deadline", "1"]

    outcomes = every_format(args, tmp_path, env={TOKEN_ENV: LONG_TOKEN})

    assert {1} == {o.code for o in outcomes}
    assert "4401" in outcomes[0].stdout
    assert_no_leak(LONG_TOKEN, outcomes)


# -- secrets in the target's URL -------------------------------------------------------------------

URL_SECRET = "q-s3cr3t&<é>-5c1b"


def test_token_in_the_config_url_never_leaks_from_a_passing_run(server, tmp_path):
    """``url = "ws://…/ws?token=…"``: the run passes, and "skip boot (… is already running)" masks the token."""
    config = write_config(tmp_path, url=server.url("healthy", token=URL_SECRET), probe={"deadline": 2.0})

    outcomes = every_format(["run", "--config", str(config)], tmp_path, env={})

    assert {0} == {o.code for o in outcomes}, outcomes[0].stdout
    assert_no_leak(URL_SECRET, outcomes)


def test_token_in_the_url_flag_and_the_probe_url_never_leaks(server, tmp_path):
    """`run --url …?token=…` and `probe …?token=…` pass without printing the token."""
    config = write_config(tmp_path, probe={"deadline": 2.0})
    url = server.url("healthy", token=URL_SECRET)

    outcomes = every_format(["run", "--config", str(config), "--url", url], tmp_path, env={})
    outcomes += every_format(["probe", url, "--config", str(config)], tmp_path, env={})

    assert {0} == {o.code for o in outcomes}, outcomes[0].stdout
    assert_no_leak(URL_SECRET, outcomes)


PASSWORD = "pa55&w<o>rd-é-91aa"


def test_password_in_userinfo_never_leaks_from_a_passing_run(server, tmp_path):
    """``ws://user:password@host``: the run and the probe pass, and the password is nowhere in their outputs."""
    config = write_config(tmp_path, probe={"deadline": 2.0})
    url = server.url("healthy", userinfo=f"alice:{PASSWORD.replace('&', '%26').replace('<', '%3C')}")

    outcomes = every_format(["run", "--config", str(config), "--url", url], tmp_path, env={})
    outcomes += every_format(["probe", url, "--config", str(config)], tmp_path, env={})

    assert {0} == {o.code for o in outcomes}, outcomes[0].stdout
    assert_no_leak(PASSWORD, outcomes)
    assert_no_leak(PASSWORD.replace("&", "%26").replace("<", "%3C"), outcomes)


def test_password_in_userinfo_never_leaks_from_a_connect_failure(closed_url, tmp_path):
    """``ws://user:password@host`` that refuses the connection: WC401 names the URL with the password masked."""
    config = write_config(tmp_path, probe={"deadline": 1.0})
    url = closed_url.replace("ws://", f"ws://alice:{PASSWORD.replace('&', '%26').replace('<', '%3C')}@")

    outcomes = every_format(["run", "--config", str(config), "--url", url], tmp_path, env={})
    outcomes += every_format(["probe", url, "--config", str(config)], tmp_path, env={})

    assert {1} == {o.code for o in outcomes}
    assert "WC401" in outcomes[0].stdout
    assert_no_leak(PASSWORD, outcomes)
    assert_no_leak(PASSWORD.replace("&", "%26").replace("<", "%3C"), outcomes)


# -- random tokens ---------------------------------------------------------------------------------

_ALPHABET = "&<>\"'%\\" + "éü€日🙂ß" + "abcdefghkmnpqrstuvwyz" + string.digits + "-_.~+/=;"
"""Characters of the random tokens: every escaping-sensitive one, non-ASCII, and ordinary ones (no ``x``,
which pads the echoed frames, so a token's prefix is never mistaken for padding)."""

tokens = (
    st.text(alphabet=_ALPHABET, min_size=8, max_size=24)
    .filter(lambda token: len(set(token)) >= 5)
    # A plain word ("testcase", which hypothesis takes from the renderers' own literals) is the formats'
    # vocabulary, not a token: a report cannot avoid the word, and no credential is one.
    .filter(lambda token: not token.isalpha())
    # Nor is a token whose start or end is one ("/threads" ends in the SARIF rule "threads left behind"): a
    # secret's first or last six characters are a leak anywhere a cut could leave them, a word is everywhere.
    .filter(lambda token: not token[:6].isalpha() and not token[-6:].isalpha())
    .filter(lambda token: len(token.encode("utf-8")) <= 96)  # fits a close reason after "unauthorized token="
)

FOUND = "\\w2c1üw7-é.8nmhnr~hkfm=-"
"""A token hypothesis found leaking (its first characters scrubbed, the rest shown before a cut), kept as an
explicit example: which random draws expose that leak depends on their first characters."""

QUICK = settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
"""A few examples per entry point (each runs the whole entry point several times), not shrunk: a
failing token is shown as drawn, since shrinking would rerun the entry point hundreds of times."""

SOME_FORMATS = (Format.CONSOLE, Format.GITHUB, Format.SARIF)
"""The console run also writes the JSON and JUnit files, so these three cover every format."""


@QUICK
@given(token=tokens)
@example(token=FOUND)
def test_random_tokens_never_leak_from_run(token, server, tmp_path_factory):
    """`run` against the echoing server, for random tokens with special and non-ASCII characters."""
    folder = tmp_path_factory.mktemp("run")
    config = write_config(folder, url=server.url("echo"), probe={"auth": AUTH, "deadline": 1.0})

    outcomes = every_format(["run", "--config", str(config)], folder, env={TOKEN_ENV: token}, formats=SOME_FORMATS)

    assert {1} == {o.code for o in outcomes}
    assert_no_leak(token, outcomes)


@QUICK
@given(token=tokens)
@example(token=FOUND)
def test_random_tokens_never_leak_from_run_on_a_backend_that_logs_every_form(token, tmp_path_factory):
    """`run` on the in-process backend that logs the token in every escaped, encoded and cut form, for random tokens."""
    folder = tmp_path_factory.mktemp("app")
    # The run ends when the backend closes, after its last form: the deadline is only a bound, far from it.
    config = write_config(folder, app="tests.adversarial.backends:echo_token", probe={"auth": AUTH, "deadline": 10.0})

    outcomes = every_format(["run", "--config", str(config)], folder, env={TOKEN_ENV: token}, formats=SOME_FORMATS)

    assert {1} == {o.code for o in outcomes}
    assert "SHOUTED" in outcomes[0].stdout  # the forms are shown (scrubbed), not merely sent
    assert_no_leak(token, outcomes)


@QUICK
@given(token=tokens)
@example(token=FOUND)
def test_random_tokens_never_leak_from_probe(token, server, tmp_path_factory):
    """`probe URL --token-env` against the echoing server, for random tokens."""
    folder = tmp_path_factory.mktemp("probe")
    args = ["probe", server.url("echo"), "--token-env", TOKEN_ENV, "--deadline", "1"]

    outcomes = every_format(args, folder, env={TOKEN_ENV: token}, formats=SOME_FORMATS)

    assert {1} == {o.code for o in outcomes}
    assert_no_leak(token, outcomes)


@settings(QUICK, max_examples=2)
@given(token=tokens)
@example(token=FOUND)
def test_random_tokens_never_leak_from_the_pytest_plugin(token, server, pytester):
    """`pytest --wiringcheck` with a url target on the echoing server, for random tokens."""
    config = write_config(pytester.path, url=server.url("echo"), probe={"auth": AUTH, "deadline": 1.0})

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(TOKEN_ENV, token)
        outcome = pytest_outcome(pytester, config)

    assert 1 == outcome.code
    assert_no_leak(token, [outcome])


# -- escaped, encoded and cut forms, through every renderer ----------------------------------------
#
# Each attack is a text a hostile server or backend can make wiringcheck show (a frame, a
# close reason, a log line, a setup step's error body); the report that quotes it goes
# through the one scrubber and then every renderer, as every entry point does.

SLASHED = "tok/3n+ab/cd-é€-9f3a"
"""A token with solidi (JSON may escape them), base64 alphabet characters and non-ASCII."""


def rendered(token: str, *texts: str) -> list[Outcome]:
    """A report quoting `texts` in a finding, its evidence and a log line, scrubbed, then in every format at -vv."""
    from wiringcheck.findings import CheckResult, Finding
    from wiringcheck.findings import Phase as CheckPhase
    from wiringcheck.report import LogRecord, Report
    from wiringcheck.secrets import Secrets

    findings = [
        Finding(code="WC408", message=f"the server closed the connection: {text}", evidence=(f"frame: {text}",))
        for text in texts
    ]
    report = Report(kind="run", target="url ws://127.0.0.1:9/ws")
    report.add(CheckResult.judged("probe", CheckPhase.PROBE, findings))
    report.logs = [LogRecord(phase="probe", level="WARNING", logger="app", message=text) for text in texts]
    clean = Secrets([token]).scrub(report)
    return [Outcome(1, fmt.render(clean, verbosity=2), "", 0.0, {}) for fmt in Format]


def test_token_in_json_with_escaped_slashes_never_leaks():
    """``{"detail": "tok\\/3n…"}``: JSON may write ``/`` as ``\\/``; that form is scrubbed too."""
    import json

    escaped = json.dumps({"detail": SLASHED}).replace("/", "\\/")

    assert_no_leak(SLASHED, rendered(SLASHED, escaped))


def test_json_escaped_token_shown_again_through_repr_never_leaks():
    """A frame holding the JSON-escaped token, shown through repr (backslashes doubled): scrubbed."""
    import json

    frame = json.dumps({"detail": NASTY_TOKENS[0]})

    assert_no_leak(NASTY_TOKENS[0], rendered(NASTY_TOKENS[0], repr(frame), repr(repr(frame))))


def test_token_in_lower_case_or_double_percent_encoding_never_leaks():
    """``tok%26%3c…`` (lower-case hex digits) and ``tok%2526…`` (%-encoded twice): scrubbed."""
    from urllib.parse import quote

    token = NASTY_TOKENS[0]
    lower = quote(token, safe="").lower()
    twice = quote(quote(token, safe=""), safe="")

    assert_no_leak(token, rendered(token, f"next={lower}", f"redirect={twice}"))


@pytest.mark.parametrize("before", ["", "A", "Bearer "], ids=["aligned", "one byte before", "seven bytes before"])
def test_token_in_base64_of_a_longer_text_never_leaks(before):
    """base64 (standard and URL-safe) of ``"<text>token expires=…"``: the token's part is scrubbed at any offset."""
    import base64

    token = NASTY_TOKENS[1]
    raw = f"{before}{token} expires=3600".encode()

    texts = [base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode().rstrip("=")]

    assert_no_leak(token, rendered(token, *texts))


def test_token_in_hex_of_a_longer_text_never_leaks():
    """The hex of ``"Bearer <token>"``, lower- or upper-case: scrubbed."""
    token = NASTY_TOKENS[1]
    raw = f"Bearer {token}".encode()

    assert_no_leak(token, rendered(token, raw.hex(), raw.hex().upper()))


def test_token_as_html_numeric_entities_never_leaks():
    """``&#116;&#111;…`` and ``&#x74;&#x6f;…``: every character as an HTML numeric entity, scrubbed."""
    token = NASTY_TOKENS[0]
    decimal = "".join(f"&#{ord(char)};" for char in token)
    hexadecimal = "".join(f"&#x{ord(char):X};" for char in token)

    assert_no_leak(token, rendered(token, f"<p>{decimal}</p>", f"<p>{hexadecimal}</p>"))


def test_upper_cased_token_never_leaks():
    """A server that shouts: ``UNAUTHORIZED TOKEN=PLAIN-SECRET-…``: scrubbed whatever the letter case."""
    token = NASTY_TOKENS[1]

    assert_no_leak(token, rendered(token, f"UNAUTHORIZED TOKEN={token.upper()}"))


def test_token_in_a_bytes_repr_never_leaks():
    """``b'tok&<>\\xc3\\xa9…'``: the token's UTF-8 bytes shown as a bytes repr, scrubbed."""
    token = NASTY_TOKENS[0]

    assert_no_leak(token, rendered(token, repr(token.encode("utf-8"))))


@pytest.mark.parametrize("at", [6, 12, 18])
def test_token_split_across_two_consecutive_frames_never_leaks(at):
    """One frame ends with the token's start, the next begins with its rest: neither part shows."""
    token = NASTY_TOKENS[1] + "-a8e2"

    assert_no_leak(token, rendered(token, f"partial token={token[:at]}", f"{token[at:]} (continued)"))


def test_close_reason_cut_by_the_server_without_a_mark_never_leaks():
    """A close reason the server cut at 123 bytes, mid-token, with no "…": the token's start is scrubbed."""
    token = "tok3n-" + "9f3a5c1b0d7e" * 4
    reason = f"unauthorized: the session of user 4821 has expired ({'-' * 42}) the token was {token} and more"
    while len(reason.encode()) > 123:  # what a server does to fit a close frame (RFC 6455 §5.5)
        reason = reason[:-1]
    assert 11 <= len(reason) - reason.index("tok3n") <= 16  # the attack: 11 to 16 of its characters, unmarked

    assert_no_leak(token, rendered(token, f"code 4401 ({reason})"))


@pytest.mark.parametrize("limit", [200, 120])
def test_setup_error_body_cut_without_a_mark_never_shows_part_of_the_token(limit):
    """A setup step's error body cut at 200 (or 120) characters with 10 of the token's 24 characters before the cut."""
    token = "sess-" + "0123456789abcdefghi"
    body = "x" * (limit - 10) + token + " rest of the body"

    assert_no_leak(token, rendered(token, f"setup step 'login' answered 401: {body[:limit]}"))
