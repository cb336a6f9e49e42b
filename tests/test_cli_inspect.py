"""`wiringcheck inspect`: the tree of what startup built, then a clean shutdown."""

from __future__ import annotations

import contextlib
import io
import re
import socket

import pytest

from wiringcheck.cli import main
from wiringcheck.commands.inspect import contract_line, format_signature, members_of
from wiringcheck.report import ExitCode

from .conftest import MS
from .integration.helpers import FAULTS, REPO


@pytest.fixture(name="in_repo")
def _in_repo(monkeypatch):
    """Run from the repository, whose [tool.wiringcheck] configures the reference backend."""
    monkeypatch.chdir(REPO)


@pytest.fixture(name="healthy_tree", scope="module")
def _healthy_tree():
    """The plain tree `wiringcheck inspect` prints for the reference backend (booted once for the module)."""
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        patch.chdir(REPO)
        patch.delenv("CI", raising=False)
        code = main(["inspect"])
    return code, out.getvalue().splitlines()


def test_inspect_shows_each_role_class_and_origin(healthy_tree):
    """Each role's class, where it lives, and its bases are shown."""
    code, lines = healthy_tree

    assert ExitCode.OK == code
    assert any(
        re.match(r"\s+registry: fixtures\.agentchat\.registry\.AgentRegistry  at state\.agent_supervisor", line)
        for line in lines
    )
    assert "bases: BaseAgentRegistry" in {line.strip() for line in lines}


def test_inspect_marks_async_and_says_own_or_inherited_with_file_and_line(healthy_tree):
    """Members carry their signature (async marked), and where they are defined: own or inherited, file:line."""
    _, lines = healthy_tree
    stripped = [line.strip() for line in lines]

    started = stripped.index(
        "async def notify_agent_started(self, run_id: str, agent_name: str, "
        "context: dict[str, Any] | None = None) -> None"
    )
    assert re.fullmatch(r"own, fixtures/agentchat/bridge\.py:\d+", stripped[started + 1])
    assert "contract ✓ async notify_agent_started(run_id, agent_name, context=None)" == stripped[started + 2]
    register = stripped.index("def register(self, agent: Agent) -> None")
    assert re.fullmatch(
        r"inherited from BaseAgentRegistry, fixtures/agentchat/registry\.py:\d+", stripped[register + 1]
    )
    assert 'contract: "register(agent)"' == stripped[register + 2]


def test_inspect_shows_wire_state_with_values(healthy_tree):
    """Each wire is shown holding or not, with the value on each side."""
    _, lines = healthy_tree
    stripped = [line.strip() for line in lines]

    wire = stripped.index("✓ registry.websocket_manager is bridge.websocket_manager")
    assert stripped[wire + 1].startswith(
        "registry.websocket_manager = <fixtures.agentchat.websocket_manager.WebSocketManager at 0x"
    )


def test_inspect_shuts_the_backend_down(healthy_tree):
    """After the tree is printed nothing listens any more on the port the backend was served on."""
    _, lines = healthy_tree
    port = int(re.search(r"served at ws://127\.0\.0\.1:(\d+)/ws", lines[0])[1])

    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=5000 * MS):
        pass


def test_inspect_shows_a_broken_wire(in_repo, capsys):
    """On the seed's fault the wires are shown broken, both sides None."""
    code = main(["inspect", "--config", str(FAULTS / "legacy_setter" / "wiringcheck.toml")])

    out = capsys.readouterr().out
    assert ExitCode.OK == code
    assert "✗ bridge.websocket_manager is not None\n      bridge.websocket_manager = None" in out


def test_inspect_of_a_backend_that_does_not_boot_exits_three(in_repo, capsys):
    """A startup crash is one line naming the exception, exit 3."""
    code = main(["inspect", "--config", str(FAULTS / "boot_crash" / "wiringcheck.toml")])

    err = capsys.readouterr().err
    assert ExitCode.BOOT_FAILED == code
    assert "wiringcheck: error: boot: the lifespan's startup raised RuntimeError: redis connection refused" in err


def test_inspect_refuses_a_url_target(tmp_path, monkeypatch, capsys):
    """A running URL has no objects to show: exit 2 saying why."""
    config = tmp_path / "wiringcheck.toml"
    config.write_text('url = "ws://127.0.0.1:9/ws"\n')

    code = main(["inspect", "--config", str(config)])

    assert ExitCode.USAGE_ERROR == code
    assert "inspect boots the backend in-process" in capsys.readouterr().err


class _Base:
    async def ping(self, a, /, b, *args, c=1, **kw) -> None: ...

    @property
    def state(self) -> int:
        return 1


class _Child(_Base):
    limit = 3

    @staticmethod
    def make(x: int) -> _Child: ...

    def __init__(self) -> None:
        self.wired = None
        self._hidden = 1


def test_members_of_classifies_kind_and_origin_without_calling_anything():
    """Methods, properties, static methods, class and instance attributes, own or inherited; _private hidden."""
    members = {m.name: (m.kind, m.origin) for m in members_of(_Child())}

    assert {
        "limit": ("class attribute", "own"),
        "make": ("staticmethod", "own"),
        "ping": ("async def", "inherited from _Base"),
        "state": ("property", "inherited from _Base"),
        "wired": ("instance attribute", "instance"),
    } == members


def test_signature_and_contract_line_follow_the_source():
    """Positional-only, *args, keyword-only and **kwargs read as written; the contract line drops self."""
    import inspect

    signature = inspect.signature(_Base.ping)

    assert "(self, a, /, b, *args, c=1, **kw) -> None" == format_signature(signature)
    assert "async ping(a, b, *args, c=1, **kw)" == contract_line("ping", signature, is_async=True, bound=True)


def _inspect(*args: str) -> tuple[int, list[str]]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        patch.chdir(REPO)
        patch.delenv("CI", raising=False)
        code = main(["inspect", *args])
    return code, [line.strip() for line in out.getvalue().splitlines()]


def test_inspect_lists_the_apps_websocket_routes(healthy_tree):
    """An in-process app's WebSocket routes are listed, so ws_path can be copied from them."""
    stripped = [line.strip() for line in healthy_tree[1]]

    assert "/ws" == stripped[stripped.index("websocket routes") + 1]


def test_inspect_probe_suggests_matchers_for_a_nested_protocol():
    """`inspect --probe` shows each frame shape once and maps the studio's nested types onto the five events."""
    config = str(REPO / "fixtures" / "studio" / "wiringcheck.toml")

    code, lines = _inspect("--config", config, "--probe")

    assert ExitCode.OK == code
    assert 'tool_executing = { type = "message", "data.type" = "ToolCallRequestEvent" }' in lines
    assert 'agent_completed = { type = "completion", status = "complete" }' in lines
    assert "/api/ws/runs/{run_id}" in lines


def test_inspect_probe_splits_batches_and_ignores_heartbeats():
    """With batch_field configured, batched events are shapes of their own, and heartbeats are suggested ignored."""
    config = str(REPO / "fixtures" / "relay" / "wiringcheck.toml")

    code, lines = _inspect("--config", config, "--probe")

    assert (ExitCode.OK, True, True) == (
        code,
        'ignore = [{ op = "ping" }]' in lines,
        'tool_completed = { kind = "tool.result" }' in lines,
    )
