"""Recall on real-looking regressions: break `bench/scan_app` the way refactors break wiring.

`bench/scan_app` is a small multi-package agent backend (registry, supervisor, WebSocket
bridge and routes, ``app.state`` wiring, ``TYPE_CHECKING`` imports, a mixin, a test suite
that mocks the same methods heavily).  Each `Regression` below is a before/after pair: the
"before" side is the app as it is (clean: no finding), the "after" side applies the edits
of one refactor that broke something, the way such commits do (a method renamed but not
its callers, a setter made ``async``, a parameter added...).

For each pair, the edits are applied to a copy of the app, the whole app is scanned, and
the pair counts as *caught* when the expected code is reported on the line of the bug.
A *negative* pair (`clean`) makes the same kind of change correctly: it counts as right
when the code is *not* reported on its line.  Each miss class of issue 21 has its negative
pair first, then the broken one.
*Leftover* findings are the others in the file of the bug (the noise a reviewer sees).
``--mypy`` runs ``mypy`` on the same copy (its own ``mypy.ini``: ignore missing imports)
and counts an error on the bug's line as caught, every other error in that file as leftover.

    python bench/scan_regressions.py --mypy
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wiringcheck.config import load_settings
from wiringcheck.scan import scan_paths

APP = Path(__file__).resolve().parent / "scan_app"


@dataclass(frozen=True)
class Regression:
    """One refactor that broke the wiring: its edits, and where the bug shows."""

    name: str
    pattern: str
    code: str
    edits: tuple[tuple[str, str, str], ...]
    """(path relative to the app, old text, new text): each old text occurs exactly once."""
    file: str
    line_has: str
    """Text of the line the bug is on, in the after version of `file`."""
    present: bool = True
    """False for a *negative* case: a refactor that breaks nothing, where `code` must stay silent on the line."""


def r(name: str, pattern: str, code: str, file: str, line_has: str, *edits: tuple[str, str, str]) -> Regression:
    return Regression(name, pattern, code, edits, file, line_has)


def clean(name: str, pattern: str, code: str, file: str, line_has: str, *edits: tuple[str, str, str]) -> Regression:
    """A negative case: the same kind of change done right; `code` must not be reported on the line."""
    return Regression(name, pattern, code, edits, file, line_has, present=False)


REG = "agentapp/agents/registry.py"
SUP = "agentapp/agents/supervisor.py"
BASE = "agentapp/agents/base.py"
MIX = "agentapp/agents/mixins.py"
START = "agentapp/startup.py"
WS = "agentapp/routes/websocket.py"
HTTP = "agentapp/routes/http.py"
HEALTH = "agentapp/routes/health.py"
MGR = "agentapp/bridge/manager.py"
BRIDGE = "agentapp/bridge/websocket_bridge.py"
LLM = "agentapp/services/llm.py"
TOOLS = "agentapp/services/tools.py"

# -- the miss classes of issue 21, found on a real application (each: the negative case first) --------

STATE_BUILT_FROM_A_FUNCTION_IMPORT = (
    (START, "from agentapp.agents.supervisor import SupervisorAgent\n", ""),
    (
        START,
        "    app.state.agent_supervisor = SupervisorAgent(registry)\n",
        "    from agentapp.agents.supervisor import SupervisorAgent\n\n"
        "    supervisor = SupervisorAgent(registry)\n    app.state.agent_supervisor = supervisor\n",
    ),
    (
        START,
        "    registry: AgentRegistry = app.state.agent_registry\n",
        "    app.state.agent_supervisor = None\n    registry: AgentRegistry = app.state.agent_registry\n",
    ),
    (
        START,
        "async def wire(app: Starlette) -> None:",
        "def set_supervisor(app, supervisor):\n    app.state.agent_supervisor = supervisor\n\n\n"
        "async def wire(app: Starlette) -> None:",
    ),
)
TYPE_CHECKING_UNEXPORTED = (
    (
        HTTP,
        "    from agentapp.agents.supervisor import SupervisorAgent",
        "    from agentapp.agents import SupervisorAgent",
    ),
)
RECENT_IN_SUMMARIZE = (
    "    return [agent.describe() for agent in supervisor.registry.agents.values()]",
    "    recent = supervisor.recent({args})\n"
    "    return [agent.describe() for agent in supervisor.registry.agents.values()] + recent",
)
PROTOCOL_FACTORY = (
    (
        START,
        "from contextlib import asynccontextmanager\n",
        "from contextlib import asynccontextmanager\nfrom typing import Protocol\n",
    ),
    (
        START,
        "async def wire(app: Starlette) -> None:",
        "class Sender(Protocol):\n"
        "    async def send_message(self, client_id: str, payload: dict[str, str]) -> None: ...\n\n\n"
        "{factory}\n\n\nasync def wire(app: Starlette) -> None:",
    ),
)
OPTIONAL_BRIDGE = (
    (
        START,
        "async def wire(app: Starlette) -> None:",
        "def find_bridge(registry: AgentRegistry) -> AgentWebSocketBridge | None:\n    return registry.bridge\n\n\n"
        "async def wire(app: Starlette) -> None:",
    ),
    (
        START,
        "    registry.set_websocket_bridge(bridge)\n",
        "    registry.set_websocket_bridge(bridge)\n    current = {call}\n"
        '    if current is not bridge:\n        raise StartupError("the bridge is not wired")\n',
    ),
)
LLM_SETTINGS = (
    (
        LLM,
        "from __future__ import annotations\n",
        "from __future__ import annotations\n\nfrom dataclasses import dataclass\n\n\n"
        "@dataclass\nclass LLMSettings:\n    model: str\n    timeout: float = 30.0\n",
    ),
    (
        LLM,
        'def default_client() -> LLMClient:\n    return LLMClient("small")',
        "def default_client() -> LLMClient:\n"
        '    settings = LLMSettings(model="small", timeout=5.0)\n'
        "    return LLMClient(settings.model, settings.timeout)",
    ),
)
GLOBAL_MANAGER = (
    (
        MGR,
        "            await self.send_message(client_id, payload)\n",
        "            await self.send_message(client_id, payload)\n\n\n"
        "_manager: ConnectionManager | None = None\n\n\n"
        "def init_manager() -> None:\n    global _manager\n    _manager = ConnectionManager()\n\n\n"
        "def drop(client_id: str) -> None:\n"
        '    if hasattr(_manager, "disconnect"):\n        _manager.disconnect(client_id)\n',
    ),
)
EVENT_MIXIN = (
    (BASE, "from typing import TYPE_CHECKING\n", "import logging\nfrom typing import TYPE_CHECKING\n"),
    (BASE, "        self.runs = 0\n", "        self.runs = 0\n        self.logger = logging.getLogger(name)\n"),
    (
        BRIDGE,
        "    async def notify_all(self, event: str) -> None:",
        "    def emit_error(self, text: str) -> None:\n        self.sent += 1\n\n"
        "    async def notify_all(self, event: str) -> None:",
    ),
    (
        MIX,
        "        return sorted(self.agents)\n",
        "        return sorted(self.agents)\n\n\nclass EventMixin:\n"
        '    """Reports an agent\'s failures."""\n\n'
        "    def fail(self, text: str) -> None:\n        self.logger.warning(text)\n        self.emit_error(text)\n",
    ),
)

ISSUE_21 = (
    clean(
        "state_function_import_correct_call",
        "app.state built from a class imported in the function, None and a parameter stored elsewhere",
        "WC301",
        HTTP,
        "supervisor.status()",
        *STATE_BUILT_FROM_A_FUNCTION_IMPORT,
    ),
    r(
        "state_function_import_renamed_method",
        "app.state built from a class imported in the function, None and a parameter stored elsewhere",
        "WC301",
        HTTP,
        "supervisor.status()",
        *STATE_BUILT_FROM_A_FUNCTION_IMPORT,
        (SUP, "def status(self) -> dict[str, str]:", "def agent_status(self) -> dict[str, str]:"),
    ),
    clean(
        "type_checking_unexported_correct_call",
        "receiver typed through a TYPE_CHECKING import the package does not export",
        "WC302",
        HTTP,
        "recent = supervisor.recent(",
        *TYPE_CHECKING_UNEXPORTED,
        (HTTP, RECENT_IN_SUMMARIZE[0], RECENT_IN_SUMMARIZE[1].format(args="")),
    ),
    r(
        "type_checking_unexported_arity",
        "receiver typed through a TYPE_CHECKING import the package does not export",
        "WC302",
        HTTP,
        "recent = supervisor.recent(",
        *TYPE_CHECKING_UNEXPORTED,
        (HTTP, RECENT_IN_SUMMARIZE[0], RECENT_IN_SUMMARIZE[1].format(args="10")),
    ),
    clean(
        "protocol_factory_awaits",
        "a factory declared to return a typing.Protocol",
        "WC308",
        START,
        "return await registry.build_manager()",
        PROTOCOL_FACTORY[0],
        (
            START,
            PROTOCOL_FACTORY[1][1],
            PROTOCOL_FACTORY[1][2].replace(
                "{factory}",
                "async def make_sender(registry: AgentRegistry) -> Sender:\n    return await registry.build_manager()",
            ),
        ),
    ),
    r(
        "protocol_factory_returns_coroutine",
        "a factory declared to return a typing.Protocol",
        "WC308",
        START,
        "return registry.build_manager()",
        PROTOCOL_FACTORY[0],
        (
            START,
            PROTOCOL_FACTORY[1][1],
            PROTOCOL_FACTORY[1][2].replace(
                "{factory}", "def make_sender(registry: AgentRegistry) -> Sender:\n    return registry.build_manager()"
            ),
        ),
    ),
    clean(
        "optional_result_not_awaited",
        "a plain def returning X | None",
        "WC303",
        START,
        "current = find_bridge(registry)",
        OPTIONAL_BRIDGE[0],
        (START, OPTIONAL_BRIDGE[1][1], OPTIONAL_BRIDGE[1][2].format(call="find_bridge(registry)")),
    ),
    r(
        "optional_result_awaited",
        "a plain def returning X | None",
        "WC303",
        START,
        "current = await find_bridge(registry)",
        OPTIONAL_BRIDGE[0],
        (START, OPTIONAL_BRIDGE[1][1], OPTIONAL_BRIDGE[1][2].format(call="await find_bridge(registry)")),
    ),
    clean(
        "dataclass_keywords_match",
        "a dataclass constructed with keywords",
        "WC302",
        LLM,
        "settings = LLMSettings(",
        *LLM_SETTINGS,
    ),
    r(
        "dataclass_field_renamed",
        "a dataclass field renamed, a keyword left behind",
        "WC302",
        LLM,
        "settings = LLMSettings(",
        *LLM_SETTINGS,
        (LLM, "    timeout: float = 30.0\n", "    timeout_s: float = 30.0\n"),
        (LLM, "settings.timeout)", "settings.timeout_s)"),
    ),
    clean(
        "global_guard_defined",
        "hasattr guard on a module global assigned under 'global'",
        "WC301",
        MGR,
        'if hasattr(_manager, "disconnect"):',
        *GLOBAL_MANAGER,
    ),
    r(
        "global_guard_renamed",
        "hasattr guard on a module global assigned under 'global'",
        "WC301",
        MGR,
        'if hasattr(_manager, "disconnect"):',
        *GLOBAL_MANAGER,
        (
            MGR,
            "    def disconnect(self, client_id: str) -> None:",
            "    def close_client(self, client_id: str) -> None:",
        ),
    ),
    clean(
        "mixin_never_combined",
        "a mixin using members other classes define, combined with nothing",
        "WC301",
        MIX,
        "self.emit_error(text)",
        *EVENT_MIXIN,
    ),
    r(
        "mixin_combined_with_a_host_lacking_a_member",
        "a mixin combined with a host that lacks a member it uses",
        "WC301",
        MIX,
        "class EventMixin",
        *EVENT_MIXIN,
        (BASE, "if TYPE_CHECKING:\n", "from agentapp.agents.mixins import EventMixin\n\nif TYPE_CHECKING:\n"),
        (BASE, "class WriterAgent(BaseAgent):", "class WriterAgent(BaseAgent, EventMixin):"),
    ),
)

REGRESSIONS = (
    # -- a method renamed, a caller left behind (WC301) ---------------------------------------
    r(
        "rename_register",
        "renamed method, direct receiver",
        "WC301",
        START,
        "registry.register_agent(Research",
        (REG, "def register_agent(self, agent: BaseAgent)", "def add_agent(self, agent: BaseAgent)"),
        (
            START,
            'registry.register_agent(WriterAgent("writer", llm))',
            'registry.add_agent(WriterAgent("writer", llm))',
        ),
    ),
    r(
        "rename_dispatch_app_state",
        "app.state receiver (request.app.state)",
        "WC301",
        HTTP,
        "supervisor.status()",
        (SUP, "def status(self) -> dict[str, str]:", "def agent_status(self) -> dict[str, str]:"),
    ),
    r(
        "rename_delegate_websocket_state",
        "app.state receiver (websocket.app.state)",
        "WC301",
        WS,
        "supervisor.delegate(",
        (
            SUP,
            "async def delegate(self, task: str, *, user_id: str)",
            "async def delegate_task(self, task: str, *, user_id: str)",
        ),
    ),
    r(
        "rename_names_self_app_state",
        "app.state receiver (self.app.state)",
        "WC301",
        HEALTH,
        "registry.names()",
        (MIX, "def names(self: AgentRegistry)", "def agent_names(self: AgentRegistry)"),
        (HTTP, "registry.names()", "registry.agent_names()"),
    ),
    r(
        "rename_describe_items_loop",
        "container element (.items())",
        "WC301",
        SUP,
        "report[name] = agent.describe()",
        (
            BASE,
            '    def describe(self) -> str:\n        return f"{self.name} ({self.runs} runs)"',
            '    def summary(self) -> str:\n        return f"{self.name} ({self.runs} runs)"',
        ),
        (
            BASE,
            '    def describe(self) -> str:\n        return f"writer {self.name}"',
            '    def summary(self) -> str:\n        return f"writer {self.name}"',
        ),
        (
            REG,
            "[agent.describe() for agent in self.agents.values()]",
            "[agent.summary() for agent in self.agents.values()]",
        ),
        (SUP, "[agent.describe() for agent in self.history]", "[agent.summary() for agent in self.history]"),
        (HTTP, "[agent.describe() for agent in", "[agent.summary() for agent in"),
    ),
    r(
        "rename_stop_values_loop",
        "container element (.values())",
        "WC301",
        REG,
        "await agent.stop()",
        (BASE, "async def stop(self) -> None:", "async def shutdown(self) -> None:"),
    ),
    r(
        "rename_run_list_loop",
        "container element (list attribute)",
        "WC301",
        HEALTH,
        'await agent.run("ping")',
        (
            BASE,
            "    async def run(self, task: str) -> str:\n        self.runs += 1",
            "    async def execute(self, task: str) -> str:\n        self.runs += 1",
        ),
        (
            BASE,
            "    async def run(self, task: str) -> str:\n        notes",
            "    async def execute(self, task: str) -> str:\n        notes",
        ),
        (SUP, 'return await agent.run(f"{user_id}: {task}")', 'return await agent.execute(f"{user_id}: {task}")'),
    ),
    r(
        "remove_configure_mocked_in_tests",
        "mock stores in tests do not excuse",
        "WC301",
        START,
        "registry.configure(",
        (
            REG,
            "    def configure(self, settings: dict[str, str]) -> None:\n        self.settings.update(settings)\n\n",
            "",
        ),
    ),
    r(
        "rename_send_message_mocked",
        "mock stores in tests do not excuse",
        "WC301",
        BRIDGE,
        "self.manager.send_message(",
        (
            MGR,
            "async def send_message(self, client_id: str, payload: dict[str, Any])",
            "async def send(self, client_id: str, payload: dict[str, Any])",
        ),
        (MGR, "await self.send_message(client_id, payload)", "await self.send(client_id, payload)"),
    ),
    r(
        "remove_describe_all_test_subclass",
        "test-only subclass does not excuse",
        "WC301",
        SUP,
        "self.registry.describe_agents()",
        (
            SUP,
            "        return report\n",
            '        report["all"] = ", ".join(self.registry.describe_agents())\n        return report\n',
        ),
    ),
    r(
        "rename_emit_test_subclass",
        "test-only subclass does not excuse",
        "WC301",
        WS,
        'await bridge.publish("agent_completed"',
        (
            WS,
            'await bridge.notify("agent_completed", {"result": result})',
            'await bridge.publish("agent_completed", {"result": result})',
        ),
    ),
    r(
        "rename_status_type_checking_param",
        "TYPE_CHECKING annotation",
        "WC301",
        HTTP,
        "supervisor.registry.agents.values()",
        (SUP, "        self.registry = registry\n", "        self.agent_registry = registry\n"),
        (SUP, "agent = self.registry.find(", "agent = self.agent_registry.find("),
        (SUP, "in self.registry.agents.items()", "in self.agent_registry.agents.items()"),
        (HEALTH, "supervisor.registry.agents.values()", "supervisor.agent_registry.agents.values()"),
    ),
    r(
        "type_checking_import_not_exported",
        "TYPE_CHECKING import of a name the package does not export",
        "WC305",
        HTTP,
        "from agentapp.agents import SupervisorAgent",
        (
            HTTP,
            "    from agentapp.agents.supervisor import SupervisorAgent",
            "    from agentapp.agents import SupervisorAgent",
        ),
    ),
    r(
        "mixin_self_annotation",
        "mixin with self: AgentRegistry",
        "WC301",
        MIX,
        "self.ensure_known(name)",
        (
            MIX,
            "    def ensure_known(self: AgentRegistry, name: str) -> None:",
            "    def require(self: AgentRegistry, name: str) -> None:",
        ),
    ),
    r(
        "hasattr_guard_renamed",
        "hasattr guard on a renamed setter",
        "WC301",
        START,
        'hasattr(registry, "set_bridge")',
        (
            START,
            "    registry.set_websocket_bridge(bridge)\n",
            '    if hasattr(registry, "set_bridge"):\n        registry.set_bridge(bridge)\n',
        ),
    ),
    r(
        "self_attribute_renamed",
        "attribute assigned in __init__ renamed",
        "WC301",
        BRIDGE,
        "self.sent += 1",
        (BRIDGE, "        self.sent = 0\n", "        self.sent_count = 0\n"),
    ),
    r(
        "role_path_bridge",
        "configured role path",
        "WC301",
        HEALTH,
        "bridge.manager is not None",
        (
            BRIDGE,
            "        self.manager = manager\n        self.client_id",
            "        self.connections = manager\n        self.client_id",
        ),
        (BRIDGE, "await self.manager.send_message(", "await self.connections.send_message("),
        (BRIDGE, "await self.manager.broadcast(", "await self.connections.broadcast("),
    ),
    r(
        "returned_annotation",
        "receiver from a function's return annotation",
        "WC301",
        START,
        "await registry.connect()",
        (REG, "    async def connect(self) -> bool:", "    async def open(self) -> bool:"),
    ),
    r(
        "llm_close_renamed",
        "attribute typed through a TYPE_CHECKING import",
        "WC301",
        BASE,
        "self.llm.close()",
        (LLM, "    def close(self) -> None:", "    def aclose(self) -> None:"),
    ),
    # -- a signature changed, a caller left behind (WC302) ------------------------------------
    r(
        "required_param_added",
        "required parameter added",
        "WC302",
        START,
        "registry.set_websocket_bridge(bridge)",
        (
            REG,
            "def set_websocket_bridge(self, bridge: AgentWebSocketBridge)",
            "def set_websocket_bridge(self, bridge: AgentWebSocketBridge, manager: ConnectionManager)",
        ),
    ),
    r(
        "keyword_renamed_multiline",
        "keyword renamed, multi-line call",
        "WC302",
        START,
        "client_id=",
        (
            BRIDGE,
            'def __init__(self, manager: ConnectionManager, *, client_id: str = "all")',
            'def __init__(self, manager: ConnectionManager, *, channel: str = "all")',
        ),
        (BRIDGE, "self.client_id = client_id", "self.client_id = channel"),
        (
            START,
            'bridge = AgentWebSocketBridge(manager, client_id="all")',
            'bridge = AgentWebSocketBridge(\n        manager,\n        client_id="all",\n    )',
        ),
    ),
    r(
        "param_removed",
        "parameter removed",
        "WC302",
        BASE,
        'self.llm.complete(f"{self.name}: {task}")',
        (
            LLM,
            'async def complete(self, prompt: str) -> str:\n        return f"[{self.model}] {prompt}"',
            'async def complete(self) -> str:\n        return f"[{self.model}]"',
        ),
        (BASE, 'notes = await self.llm.complete(f"research {task}")', "notes = await self.llm.complete()"),
    ),
    r(
        "constructor_changed",
        "constructor requires a new argument",
        "WC302",
        START,
        "SupervisorAgent(registry)",
        (
            SUP,
            'def __init__(self, registry: AgentRegistry, default: str = "research")',
            'def __init__(self, registry: AgentRegistry, bridge: object, default: str = "research")',
        ),
    ),
    r(
        "keyword_only_now_required",
        "keyword-only parameter added",
        "WC302",
        WS,
        "supervisor.delegate(",
        (
            SUP,
            "async def delegate(self, task: str, *, user_id: str)",
            "async def delegate(self, task: str, *, user_id: str, session: str)",
        ),
    ),
    r(
        "getattr_subclass_arity",
        "an unrelated subclass with __getattr__",
        "WC302",
        START,
        "registry.register_agent(",
        (
            REG,
            "def register_agent(self, agent: BaseAgent)",
            "def register_agent(self, agent: BaseAgent, replace: bool)",
        ),
        (
            REG,
            "            await agent.stop()\n",
            "            await agent.stop()\n\n\nclass LazyRegistry(AgentRegistry):\n"
            "    def __getattr__(self, name: str) -> object:\n        return None\n",
        ),
    ),
    # -- async/sync mix-ups (WC303, WC304, WC308) ---------------------------------------------
    r(
        "connect_made_sync_awaited",
        "await of a plain def (now sync)",
        "WC303",
        START,
        "await registry.connect()",
        (REG, "    async def connect(self) -> bool:", "    def connect(self) -> bool:"),
    ),
    r(
        "stop_made_sync_unannotated",
        "await of a plain def building objects",
        "WC303",
        START,
        "await registry.stop_all()",
        (
            REG,
            "    async def stop_all(self) -> None:\n"
            "        for agent in self.agents.values():\n"
            "            await agent.stop()",
            "    def stop_all(self):\n        return AgentRegistry()",
        ),
    ),
    r(
        "setter_made_async",
        "setter made async, call dropped",
        "WC304",
        START,
        "registry.set_websocket_bridge(bridge)",
        (
            REG,
            "    def set_websocket_bridge(self, bridge: AgentWebSocketBridge) -> None:",
            "    async def set_websocket_bridge(self, bridge: AgentWebSocketBridge) -> None:",
        ),
    ),
    r(
        "disconnect_made_async",
        "method made async, called in an except",
        "WC304",
        WS,
        "manager.disconnect(client_id)",
        (
            MGR,
            "    def disconnect(self, client_id: str) -> None:",
            "    async def disconnect(self, client_id: str) -> None:",
        ),
    ),
    r(
        "coroutine_tested_directly",
        "coroutine tested for truth",
        "WC304",
        START,
        "if not registry.connect():",
        (START, "    connected = await registry.connect()\n    if not connected:", "    if not registry.connect():"),
    ),
    r(
        "stored_coroutine_tested",
        "coroutine stored, then tested",
        "WC308",
        START,
        "if not connected:",
        (START, "    connected = await registry.connect()", "    connected = registry.connect()"),
    ),
    r(
        "factory_returns_coroutine",
        "plain def declared -> Manager returns a coroutine",
        "WC308",
        START,
        "return registry.build_manager()",
        (
            START,
            "async def wire(app: Starlette) -> None:",
            "def make_manager(registry: AgentRegistry) -> ConnectionManager:\n"
            "    return registry.build_manager()\n\n\n"
            "async def wire(app: Starlette) -> None:",
        ),
    ),
    # -- imports (WC305) ----------------------------------------------------------------------
    r(
        "lazy_import_renamed",
        "lazy import of a renamed class",
        "WC305",
        START,
        "from agentapp.services.tools import ToolRunner",
        (TOOLS, "class ToolRunner:", "class ToolExecutor:"),
        (TOOLS, "return ToolRunner()", "return ToolExecutor()"),
    ),
    r(
        "import_renamed_function",
        "module-level import of a renamed function",
        "WC305",
        START,
        "import LLMClient, default_client",
        (LLM, "def default_client() -> LLMClient:", "def make_client() -> LLMClient:"),
    ),
    # -- startup contract (WC306, WC307) ------------------------------------------------------
    r(
        "must_call_removed",
        "a required wiring call dropped from startup",
        "WC306",
        "agentapp/main.py",
        "def create_app",
        (START, "    registry.set_websocket_bridge(bridge)\n", ""),
    ),
    r(
        "contract_member_renamed",
        "a contract member renamed on the role's class",
        "WC307",
        REG,
        "class AgentRegistry",
        (REG, "def register_agent(self, agent: BaseAgent)", "def add(self, agent: BaseAgent)"),
        (
            START,
            'registry.register_agent(ResearchAgent("research", llm))',
            'registry.add(ResearchAgent("research", llm))',
        ),
        (START, 'registry.register_agent(WriterAgent("writer", llm))', 'registry.add(WriterAgent("writer", llm))'),
    ),
    *ISSUE_21,
)


def apply(root: Path, regression: Regression) -> None:
    for relpath, old, new in regression.edits:
        path = root / relpath
        text = path.read_text(encoding="utf-8")
        count = text.count(old)
        if count != 1:
            raise SystemExit(f"{regression.name}: {old!r} occurs {count} times in {relpath}")
        path.write_text(text.replace(old, new), encoding="utf-8")


def bug_lines(root: Path, regression: Regression) -> set[int]:
    lines = (root / regression.file).read_text(encoding="utf-8").splitlines()
    found = {n for n, text in enumerate(lines, start=1) if regression.line_has in text}
    if not found:
        raise SystemExit(f"{regression.name}: no line of {regression.file} has {regression.line_has!r}")
    return found


def scan(root: Path) -> list[tuple[str, str, int]]:
    settings = load_settings(root / "pyproject.toml")
    report = scan_paths(
        [root / "agentapp", root / "tests"],
        root=root,
        roles=settings.roles,
        must_call=settings.must_call,
        startup_modules=[settings.app] if settings.app else [],
        cache=False,
        jobs=1,
    )
    return [(f.location.path, f.code, f.location.line or 0) for f in report.findings if f.location]


_MYPY_LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): error: ")


def mypy(root: Path, cache: Path) -> list[tuple[str, str, int]]:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(cache), "agentapp", "tests"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    found = []
    for line in result.stdout.splitlines():
        match = _MYPY_LINE.match(line)
        if match:
            found.append((match["path"], "mypy", int(match["line"])))
    return found


def judge(
    found: list[tuple[str, str, int]], regression: Regression, lines: set[int], code: str | None
) -> tuple[bool, int]:
    """(right, leftover): the code on the bug's line (absent from it, for a negative case), and the other findings."""
    in_file = [(c, line) for path, c, line in found if path == regression.file]
    reported = any(line in lines and (code is None or c == code) for c, line in in_file)
    leftover = sum(1 for c, line in in_file if not (line in lines and (code is None or c == code)))
    return reported == regression.present, leftover


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mypy", action="store_true", help="also run mypy on each pair")
    parser.add_argument("-k", default="", help="only the pairs whose name contains this")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="wiringcheck-regressions-"))
    pristine = work / "pristine"
    shutil.copytree(APP, pristine)
    cache = work / "mypy_cache"
    before = scan(pristine)
    print(f"before (the app as it is): {len(before)} scan findings")
    if args.mypy:
        mypy_before = mypy(pristine, cache)
        print(f"before: {len(mypy_before)} mypy errors")
    chosen = [reg for reg in REGRESSIONS if args.k in reg.name]
    rows = []
    totals = {"scan": [0, 0, 0.0], "mypy": [0, 0, 0.0]}
    for regression in chosen:
        copy = work / regression.name
        shutil.copytree(APP, copy)
        apply(copy, regression)
        lines = bug_lines(copy, regression)
        started = time.perf_counter()
        found = scan(copy)
        totals["scan"][2] += time.perf_counter() - started
        caught, leftover = judge(found, regression, lines, regression.code)
        totals["scan"][0] += caught
        totals["scan"][1] += leftover
        verdict = ("caught" if caught else "MISSED") if regression.present else ("silent" if caught else "NOISY")
        row = f"{regression.name:44} {regression.code}  scan {verdict:6} +{leftover}"
        if not caught:
            row += "  " + "; ".join(f"{p}:{n} {c}" for p, c, n in found) if found else "  (nothing)"
        if args.mypy:
            started = time.perf_counter()
            errors = mypy(copy, cache)
            totals["mypy"][2] += time.perf_counter() - started
            m_caught, m_leftover = judge(errors, regression, lines, None)
            totals["mypy"][0] += m_caught
            totals["mypy"][1] += m_leftover
            m_verdict = (
                ("caught" if m_caught else "missed") if regression.present else ("silent" if m_caught else "noisy")
            )
            row += f"   mypy {m_verdict:6} +{m_leftover}"
        rows.append(row)
        print(row, flush=True)
        shutil.rmtree(copy)
    n = len(chosen)
    for tool in ("scan", "mypy") if args.mypy else ("scan",):
        caught, leftover, seconds = totals[tool]
        print(
            f"{tool}: caught {caught}/{n} ({100 * caught / n:.0f}%), leftover {leftover} "
            f"({leftover / n:.2f} per after file), {seconds / n:.2f}s per pair"
        )
    shutil.rmtree(work)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
