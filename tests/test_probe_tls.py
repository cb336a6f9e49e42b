"""`wiringcheck probe wss://...` against the reference backend served by uvicorn over TLS.

The server runs in its own process, as a deployed one would, with a certificate
issued by a private CA that the test makes with trustme; only a token known to the
test is accepted. One test greps every output format for that token.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest

from wiringcheck.cli import main
from wiringcheck.report import ExitCode

from .conftest import MS
from .integration.helpers import REPO

TOKEN_ENV = "WC_TEST_PROBE_TOKEN"
"""The variable the tests name with --token-env."""


@dataclass(frozen=True)
class Served:
    """A reference backend served over TLS: its wss:// URL, the CA file that trusts it, and its one token."""

    url: str
    cafile: Path
    token: str


@contextmanager
def serve_tls(folder: Path) -> Iterator[Served]:
    """Serve `fixtures.agentchat` with uvicorn on 127.0.0.1 over TLS, accepting one fresh token."""
    import trustme  # here, not at the top: the README's tests import this module in every worker

    ca = trustme.CA()
    certificate = ca.issue_cert("127.0.0.1", "localhost")
    cafile, certfile, keyfile = folder / "ca.pem", folder / "server.pem", folder / "server.key"
    ca.cert_pem.write_to_path(cafile)
    certificate.cert_chain_pems[0].write_to_path(certfile)
    certificate.private_key_pem.write_to_path(keyfile)
    token = f"wc-secret-{secrets.token_hex(12)}"
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "fixtures.agentchat.app:create_app",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--ssl-certfile",
        str(certfile),
        "--ssl-keyfile",
        str(keyfile),
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "AGENTCHAT_TOKENS": f"{token}:alice"}
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 20_000 * MS
        port = None
        while port is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            match = re.search(r"https://127\.0\.0\.1:(\d+)", line)
            port = int(match[1]) if match else None
        if port is None:
            pytest.fail("uvicorn did not report its port")
        yield Served(url=f"wss://127.0.0.1:{port}/ws", cafile=cafile, token=token)
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture(name="served", scope="module")
def _served(tmp_path_factory) -> Iterator[Served]:
    """One TLS server for the whole module."""
    with serve_tls(tmp_path_factory.mktemp("tls")) as served:
        yield served


@pytest.fixture(name="token")
def _token(served, monkeypatch):
    """The server's token, exported in the variable the tests pass to --token-env."""
    monkeypatch.setenv(TOKEN_ENV, served.token)
    return served.token


@pytest.fixture(name="in_repo")
def _in_repo(monkeypatch):
    """Run from the repository, whose [tool.wiringcheck] gives the probe its trigger and events."""
    monkeypatch.chdir(REPO)


def probe(served: Served, *args: str) -> list[str]:
    """`wiringcheck probe URL --token-env ... --cafile ...` plus `args`."""
    return ["probe", served.url, "--token-env", TOKEN_ENV, "--cafile", str(served.cafile), *args]


def test_probe_passes_over_tls_with_the_private_ca(served, token, in_repo, capsys):
    """The gate passes against the TLS backend: it connects, authenticates and sees the five events in order."""
    code = main(probe(served))

    out = capsys.readouterr().out
    assert ExitCode.OK == code
    assert "PASSED 6 passed" in out
    assert f"wiringcheck probe url {served.url}" in out


def test_without_the_ca_the_certificate_is_rejected(served, token, in_repo, capsys):
    """Without --cafile the system trust store does not know the private CA: a WC401 finding, exit 1."""
    code = main(["probe", served.url, "--token-env", TOKEN_ENV, "-v"])

    out = capsys.readouterr().out
    assert ExitCode.CHECK_FAILED == code
    assert "WC401" in out
    assert "CERTIFICATE_VERIFY_FAILED" in out


def test_a_wrong_token_is_a_finding(served, in_repo, monkeypatch, capsys):
    """A token the server rejects is WC413, naming how it was sent and the close code, never a crash."""
    monkeypatch.setenv(TOKEN_ENV, "not-the-token")

    code = main(probe(served, "--deadline", "2", "--format", "json"))

    finding = json.loads(capsys.readouterr().out)["checks"][0]["findings"][0]
    assert (ExitCode.CHECK_FAILED, "WC413", True, True) == (
        code,
        finding["code"],
        "the query parameter 'token'" in finding["message"],
        "closed with code 4401" in finding["message"],
    )


def test_runs_report_percentiles_per_event(served, token, in_repo, capsys):
    """--runs 3 reports p50 <= p95 <= max for every event, over three samples each."""
    code = main(probe(served, "--runs", "3", "--format", "json"))

    data = json.loads(capsys.readouterr().out)
    latency = data["extra"]["latency_ms"]
    assert ExitCode.OK == code
    assert (3, 3) == (data["extra"]["runs"], data["extra"]["completed_runs"])
    assert ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"] == list(latency)
    assert all(s["p50"] <= s["p95"] <= s["max"] and s["samples"] == 3 for s in latency.values())


def test_the_named_percentile_fails_the_gate(served, token, in_repo, capsys):
    """Over budget at the percentile named: a WC405 per event that says which percentile, and exit 1.

    The server runs on this machine, so its clock is the probe's: absolute latency, every one over 1 µs.
    """
    code = main(
        probe(served, "--runs", "2", "--percentile", "p50", "--budget-ms", "0.001", "-v", "--assume-synced-clocks")
    )

    out = capsys.readouterr().out
    assert ExitCode.CHECK_FAILED == code
    assert 5 == out.count("WC405 event over budget")
    assert "agent_started p50 latency" in out
    assert "latency over 2 runs (budget applies to p50)" in out


FORMATS = [
    ["--format", "console"],
    ["--format", "console", "-v"],
    ["--format", "json"],
    ["--format", "junit"],
    ["--format", "github"],
]


@pytest.mark.parametrize(
    "scenario",
    [
        [],
        ["--event", "agent_started", "--event", "never_sent", "--deadline", "0.1"],
        ["--runs", "2", "--budget-ms", "0.001"],
    ],
    ids=["passing", "failing", "over-budget"],
)
def test_the_token_appears_in_no_output_of_any_format(served, token, in_repo, tmp_path, capsys, scenario):
    """Console (plain and -v), JSON, JUnit and GitHub, on stdout, stderr and in files: the token is nowhere."""
    written: dict[str, str] = {}
    for index, fmt in enumerate(FORMATS):
        files = [tmp_path / f"{index}.json", tmp_path / f"{index}.xml", tmp_path / f"{index}.out"]
        main(probe(served, *scenario, *fmt, "--json", str(files[0]), "--junit", str(files[1])))
        main(probe(served, *scenario, *fmt, "--output", str(files[2])))
        captured = capsys.readouterr()
        written |= {f"{fmt} stdout": captured.out, f"{fmt} stderr": captured.err}
        written |= {f"{fmt} {path.name}": path.read_text() for path in files}

    assert [] == [name for name, text in written.items() if not text and "stderr" not in name]
    assert [] == [name for name, text in written.items() if token in text or quote(token, safe="") in text]
