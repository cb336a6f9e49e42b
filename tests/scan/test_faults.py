"""The catalog faults visible in code are caught by ``wiringcheck scan fixtures/faults/NAME``, without booting."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from wiringcheck.scan.command import scan_command

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(name="scan", scope="module")
def _scan(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """Run scan_command on a path with a shared cache (the repository is indexed once)."""
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WIRINGCHECK_CACHE_DIR", str(cache))

        def run(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
            code = scan_command(
                paths=[path],
                root=None,
                config=None,
                fmt="console",
                baseline=None,
                update_baseline=False,
                output=None,
                cache=True,
                jobs=1,
                verbose=0,
            )
            return code, capsys.readouterr().out

        yield run


@pytest.mark.parametrize(
    ("fault", "code", "line_text"),
    [
        ("guarded_missing", "WC301", 'if hasattr(registry, "set_websocket_manager"):'),
        ("unguarded_rename", "WC301", "registry.set_websocket_manager(manager)"),
        ("unawaited_setter", "WC304", "registry.set_websocket_manager(manager)"),
        ("signature_drift", "WC302", "registry.set_websocket_manager(manager)"),
        ("legacy_setter", "WC306", None),
    ],
)
def test_fault_is_caught(
    scan: object, capsys: pytest.CaptureFixture[str], fault: str, code: str, line_text: str | None
) -> None:
    """Each code-visible fault gives its finding at the faulty line, and exit code 1."""
    folder = REPO / "fixtures" / "faults" / fault
    exit_code, out = scan(folder, capsys)  # type: ignore[operator]
    found = [line for line in out.splitlines() if f" {code} " in line]

    assert 1 == exit_code
    assert found, out
    if line_text is not None:
        source = (folder / "app.py").read_text(encoding="utf-8").splitlines()
        number = int(found[0].split(":")[1])
        assert line_text in source[number - 1]


def test_legacy_setter_names_the_old_call(scan: object, capsys: pytest.CaptureFixture[str]) -> None:
    """The must_call finding of legacy_setter points at the call startup makes instead."""
    _, out = scan(REPO / "fixtures" / "faults" / "legacy_setter", capsys)  # type: ignore[operator]

    assert "it calls registry.set_websocket_bridge()" in out


def test_healthy_backend_scans_clean(scan: object, capsys: pytest.CaptureFixture[str]) -> None:
    """The reference backend fixtures/agentchat has no finding."""
    exit_code, out = scan(REPO / "fixtures" / "agentchat", capsys)  # type: ignore[operator]

    assert (0, "wiringcheck scan: 0 errors, 0 warnings") == (exit_code, out.splitlines()[-1].partition(" in ")[0])
