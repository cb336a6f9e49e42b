"""Hostile servers never win: floods are bounded, their text is neutralized, broken frames are named.

Every test probes a route of the hostile server (`servers.ROUTES`): a flood of 200 000
frames, workflow commands and control characters in close reasons and frames,
timestamps no clock gives, frames too big or not UTF-8, a frame racing the close,
servers that never upgrade, send non-JSON or binary, or close mid-run.  Each asserts
the exit code, the finding code, a generous time bound and well-formed reports.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from importlib import resources

import pytest
from jsonschema import Draft202012Validator

from .servers import RACE_FRAME
from .support import MS, Outcome, cli, in_process, output_lines, write_config

DEADLINE = 1.0
"""The run deadline of these probes, in seconds: every hostile route ends well before it, or at it."""

BYTES_DEADLINE = 5 * DEADLINE
"""The byte flood's run deadline: the cap is reached in well under `DEADLINE` on a quiet machine, and this leaves
a busy one (the suite runs four workers on two cores) room to reach it too; the verdict is still bounded by
`DEADLINE`, so a probe that does not stop at the cap fails either way (WC409 at this deadline, or too late)."""

SLACK = 1000 * MS
"""Scheduling noise on top of a subprocess's measured start-up (`baseline`)."""


@pytest.fixture(name="schema", scope="module")
def _schema():
    text = resources.files("wiringcheck").joinpath("schemas/report.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@pytest.fixture(name="baseline", scope="module")
def _baseline(server, tmp_path_factory) -> float:
    """Seconds a subprocess `probe` of a healthy server takes here and now: interpreter, imports, one quick run.

    The flood tests bound their verdict by this plus the deadline plus one second, so
    a loaded machine slows the bound as much as the run, and the bound stays meaningful.
    """
    report = tmp_path_factory.mktemp("baseline") / "report.json"
    outcome = cli(["probe", server.url("healthy"), "--deadline", str(DEADLINE), "--json", str(report)], timeout=60.0)
    assert 0 == outcome.code, outcome.stdout + outcome.stderr
    return outcome.elapsed


def probe(server, route: str, tmp_path, *args: str, fmt: str = "console") -> Outcome:
    """`wiringcheck probe` (in process) on `route`, with --json and --junit files written too."""
    report, junit = tmp_path / "report.json", tmp_path / "report.xml"
    return in_process(
        [
            "probe",
            server.url(route),
            "--deadline",
            str(DEADLINE),
            "--format",
            fmt,
            "-vv",
            "--json",
            str(report),
            "--junit",
            str(junit),
            *args,
        ],
        files=[report, junit],
    )


def findings(outcome: Outcome) -> list[dict]:
    return [f for check in outcome.json_report()["checks"] for f in check["findings"]]


def codes(outcome: Outcome) -> set[str]:
    return {f["code"] for f in findings(outcome)}


def assert_clean(outcome: Outcome) -> None:
    assert "Traceback" not in outcome.stdout + outcome.stderr
    assert "internal error" not in outcome.stderr


# -- servers that send the wrong thing (WC406, WC401, WC413, WC408) ----------------------------------------

MISBEHAVIOURS = {
    "nonjson": "WC406",
    "binary": "WC406",
    "http200": "WC401",
    "http403": "WC413",  # the probe sent a token: a 403 on the upgrade is its credentials refused (#10)
    "close-mid-run": "WC408",
}


@pytest.mark.parametrize(("route", "code"), MISBEHAVIOURS.items(), ids=MISBEHAVIOURS.keys())
def test_misbehaving_server_is_its_documented_code_within_the_deadline(route, code, server, tmp_path):
    """Non-JSON, binary, a plain HTTP 200/403, a close mid-run: the documented code, exit 1, no traceback."""
    outcome = probe(server, route, tmp_path)

    assert 1 == outcome.code
    assert code in codes(outcome)
    assert outcome.elapsed < DEADLINE + 1.0 + 2000 * MS
    assert_clean(outcome)


def test_misbehaving_server_is_reported_by_run_too(server, tmp_path):
    """`run --url` against a server that never upgrades: WC401, exit 1, no traceback."""
    config = write_config(tmp_path, probe={"deadline": DEADLINE})

    outcome = in_process(["run", "--config", str(config), "--url", server.url("http403")])

    assert 1 == outcome.code
    assert "WC401" in outcome.stdout
    assert_clean(outcome)


# -- floods ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_flood_verdict_arrives_within_the_deadline_with_bounded_findings(server, tmp_path, baseline):
    """200 000 small frames: the verdict within deadline + 1 s, one finding per code with a count, short lines."""
    github, report = tmp_path / "github.txt", tmp_path / "report.json"
    args = ["probe", server.url("flood"), "--deadline", str(DEADLINE), "--format", "github"]
    outcome = cli([*args, "--output", str(github), "--json", str(report)], files=[github, report], timeout=60.0)

    assert 1 == outcome.code
    assert outcome.elapsed < baseline + DEADLINE + 1.0 + SLACK
    found = findings(outcome)
    assert len(found) <= 25, [f["code"] for f in found]
    probe_codes = [f["code"] for c in outcome.json_report()["checks"] if c["name"] == "probe" for f in c["findings"]]
    assert len(probe_codes) == len(set(probe_codes)), f"repeated findings of one code not collapsed: {probe_codes}"
    repeated = next(f for f in found if f["code"] == "WC406")
    assert re.search(r"\d{3,}", repeated["message"]), "the collapsed finding says how many times it happened"
    assert max(map(len, outcome.files["github.txt"].splitlines())) < 64 * 1024
    # Beyond the letter: a finding's evidence is for people; thousands of arrivals in one line are noise.
    assert max(len(json.dumps(f)) for f in found) < 16 * 1024


@pytest.mark.slow
def test_flood_of_bytes_reaches_the_frame_limit(server, tmp_path, baseline):
    """About 48 MiB of frames in one burst: WC411 (the probe stopped recording), and the verdict within the deadline."""
    report = tmp_path / "report.json"
    args = ["probe", server.url("flood-bytes"), "--deadline", str(BYTES_DEADLINE), "--json", str(report)]
    outcome = cli(args, files=[report], timeout=60.0)

    assert 1 == outcome.code
    assert outcome.elapsed < baseline + DEADLINE + 1.0 + SLACK
    assert "WC411" in codes(outcome)
    assert len(outcome.files["report.json"]) < 1024 * 1024


# -- untrusted text --------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")
"""Control characters that must never reach a terminal or a CI log raw (tab and newline aside)."""


def assert_neutral(text: str) -> None:
    for line in output_lines(text):
        assert not line.lstrip().startswith("::warning::pwned"), f"forged workflow command: {line!r}"
        assert not line.strip().startswith("PASSED"), f"forged verdict line: {line!r}"
    raw = _CONTROL.findall(text)
    assert not raw, f"raw control characters reached the output: {sorted(set(raw))}"


@pytest.mark.parametrize("fmt", ["console", "github"])
def test_injected_workflow_commands_and_verdicts_never_reach_a_line_start(fmt, server, tmp_path):
    """Close reasons and frames with ``\\n::warning::pwned`` and ``\\nPASSED``: neither starts a line of output."""
    outcome = probe(server, "inject", tmp_path, fmt=fmt)

    assert 1 == outcome.code
    assert "pwned" in outcome.stdout  # shown, neutralized: not hidden
    assert_neutral(outcome.stdout)
    assert_neutral(outcome.stderr)


def test_injection_through_run_is_neutralized_too(server, tmp_path):
    """`run --url` on the injecting server, console and github: no forged line, no raw control character."""
    config = write_config(tmp_path, probe={"deadline": DEADLINE})
    for fmt in ("console", "github"):
        outcome = in_process(["run", "--config", str(config), "--url", server.url("inject"), "--format", fmt, "-vv"])
        assert 1 == outcome.code
        assert_neutral(outcome.stdout)


def test_reports_stay_well_formed_with_control_characters(server, tmp_path, schema):
    """Frames with \\x00 and \\x1b: the JUnit file parses as XML, the JSON report validates against its schema."""
    outcome = probe(server, "inject", tmp_path)

    ET.fromstring(outcome.files["report.xml"])
    Draft202012Validator(schema).validate(outcome.json_report())


def test_absurd_timestamps_never_write_nan_or_infinity(server, tmp_path, schema):
    """Timestamps 1e400, -1e308, "NaN", NaN, -Infinity: the JSON report has no NaN/Infinity and validates."""
    outcome = probe(server, "timestamps", tmp_path)

    report = outcome.json_report()  # parse_constant rejects NaN, Infinity, -Infinity
    Draft202012Validator(schema).validate(report)
    ET.fromstring(outcome.files["report.xml"])
    assert_clean(outcome)


def test_absurd_timestamps_never_pass(server, tmp_path):
    """An event whose latency is infinite, negative or NaN is not "within budget": the probe does not pass."""
    outcome = probe(server, "timestamps", tmp_path)

    assert 1 == outcome.code, outcome.stdout


# -- the client's own closes -----------------------------------------------------------------------

OWN_CLOSES = {"huge": "1009", "bad-utf8": "1007"}


@pytest.mark.parametrize(("route", "close_code"), OWN_CLOSES.items(), ids=["frame too big", "invalid UTF-8"])
def test_the_probes_own_close_is_reported_as_such(route, close_code, server, tmp_path):
    """A frame over max_size (1009) or not UTF-8 (1007): WC410 says the probe closed and why, never 1006."""
    outcome = probe(server, route, tmp_path)

    assert 1 == outcome.code
    (own,) = [f for f in findings(outcome) if f["code"] == "WC410"]
    assert close_code in own["message"]
    assert "probe" in own["message"]
    assert "1006" not in outcome.stdout
    assert "1006" not in outcome.files["report.json"]
    assert outcome.elapsed < DEADLINE + 1.0 + 2000 * MS
    assert_clean(outcome)


@pytest.mark.parametrize("attempt", range(3))
def test_a_frame_sent_right_before_the_close_is_recorded(attempt, server, tmp_path):
    """A frame the server sends and closes right after, racing the trigger, is still in the report."""
    outcome = probe(server, "race", tmp_path)

    assert 1 == outcome.code
    assert "server_notice" in outcome.files["report.json"], RACE_FRAME
    assert "WC408" in codes(outcome)


# -- malformed URLs --------------------------------------------------------------------------------

MALFORMED = [
    "ws://[::1/ws",
    "ws://127.0.0.1:99999/ws",
    "ws://127.0.0.1:port/ws",
    "ws:///ws",
    "ws://[::1]]:80/ws",
    "ws://127.0.0.1:-1/ws",
]


@pytest.mark.parametrize("url", MALFORMED)
def test_malformed_probe_url_is_a_usage_error(url):
    """`probe URL` with a malformed URL: exit 2 naming the URL's problem, never 4 (internal error)."""
    outcome = in_process(["probe", url])

    assert 2 == outcome.code, outcome.stderr
    assert outcome.stderr.startswith("wiringcheck: error: ")
    assert_clean(outcome)


@pytest.mark.parametrize("url", MALFORMED)
def test_malformed_run_url_flag_is_a_usage_error(url, tmp_path):
    """`run --url URL` with a malformed URL: exit 2, never 4."""
    config = write_config(tmp_path, probe={"deadline": DEADLINE})

    outcome = in_process(["run", "--config", str(config), "--url", url])

    assert 2 == outcome.code, outcome.stderr
    assert_clean(outcome)


@pytest.mark.parametrize("key", ["url", "ws_url"])
@pytest.mark.parametrize("url", MALFORMED)
def test_malformed_config_url_is_a_usage_error_naming_the_key(key, url, tmp_path):
    """``url`` or ``ws_url`` malformed in the file: exit 2 naming the key, never 4."""
    target = {} if key == "url" else {"app": "tests.adversarial.backends:healthy"}
    config = write_config(tmp_path, **target, **{key: url})

    outcome = in_process(["run", "--config", str(config)])

    assert 2 == outcome.code, outcome.stderr
    assert key in outcome.stderr
    assert_clean(outcome)
