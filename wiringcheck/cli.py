"""The command line: parse arguments, call the runner or the scanner, render, exit.

Kept out of `__main__.py` so that importing it never runs it.  Everything heavy
(uvicorn, websockets, rich, the scan engine) is imported inside the command that
needs it, so `wiringcheck --help` stays fast.

The `wiringcheck` script (`entry`) runs every check that boots the backend in this
process (`run`, `load` and `inspect` of an app or boot target) in a child process
under `wiringcheck.supervisor`: a backend that ends the process (``os._exit(0)``)
still gets its report, and exit code 3. `main`, called from Python, runs them here
unless asked to supervise.

Exit codes: see `wiringcheck.report.ExitCode` and docs/exit-codes.md.

No `from __future__ import annotations` here: Typer reads the commands' annotations
to build them, and evaluating them as strings (three times per command, on every
call, even `--help`) cost 15 to 20 ms.
"""

import copy
import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from wiringcheck.errors import UsageError, WiringcheckError, print_error
from wiringcheck.render import Format, Outputs, write_outputs

if TYPE_CHECKING:
    from wiringcheck.config import Settings
    from wiringcheck.render.console import ConsoleObserver
    from wiringcheck.report import Report
    from wiringcheck.runner import Observer
    from wiringcheck.supervisor import Relay

__all__ = ["app", "main"]

_supervising = False
"""Whether this invocation runs in-process checks in a supervised child (the script does; see `main`)."""

app = typer.Typer(
    name="wiringcheck",
    help="Boot an agent backend, check its startup wiring, and probe its WebSocket events.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _show_version(value: bool) -> None:
    if value:
        from wiringcheck import __version__

        print(f"wiringcheck {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Boot an agent backend, check its startup wiring, and probe its WebSocket events."""


ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="wiringcheck.toml or pyproject.toml (default: found from the cwd up)."),
]
FormatOption = Annotated[Format, typer.Option("--format", "-f", help="How to print the report.")]
OutputOption = Annotated[Path | None, typer.Option("--output", "-o", help="Write the report here, not to stdout.")]
VerboseOption = Annotated[int, typer.Option("--verbose", "-v", count=True, help="Show the full evidence.")]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print the verdict only.")]


def _limited(name: str, *, whole: bool = False) -> Callable[[Any], Any]:
    """A flag's check: the same bounds as the configuration file (`config.LIMITS`, or `config.COUNTS` for a
    `whole` number), NaN and inf refused."""

    def check(value: Any) -> Any:
        if value is None:
            return None
        from wiringcheck.config import check_count, check_number

        try:
            return check_count(name, value) if whole else check_number(name, value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None

    return check


BudgetOption = Annotated[
    float | None, typer.Option(help="Per-event delivery budget in ms.", callback=_limited("budget_ms"))
]
AssumeSyncedOption = Annotated[
    bool,
    typer.Option(
        "--assume-synced-clocks",
        help="url targets: trust the server's clock for timestamp latency instead of estimating its offset.",
    ),
]
DeadlineOption = Annotated[float | None, typer.Option(help="Run deadline in seconds.", callback=_limited("deadline"))]
JsonOption = Annotated[Path | None, typer.Option("--json", help="Also write the JSON report here.")]
JunitOption = Annotated[Path | None, typer.Option("--junit", help="Also write a JUnit XML report here.")]


def load(config: Path | None) -> "Settings":
    from wiringcheck.config import load_settings

    return load_settings(config)


def targeted(config: Path | None, app_ref: str | None, boot: str | None, url: str | None) -> "Settings":
    """The configuration with the target the flags name (a flag replaces the file's target), which must exist."""
    settings = load(config)
    if url is not None:
        _check_url("--url", url)
    settings = settings.with_target(app=app_ref, boot=boot, url=url)
    if settings.target_kind == "none":
        raise UsageError("no target: set app, boot or url in the configuration, or pass --app/--boot/--url")
    return settings


def _check_url(flag: str, url: str) -> None:
    from wiringcheck.config import check_ws_url

    try:
        check_ws_url(url)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None


def _observer(outputs: Outputs) -> "ConsoleObserver | None":
    """Live progress, when the report itself goes to the terminal as console text."""
    if outputs.format is not Format.CONSOLE or outputs.output is not None:
        return None
    from wiringcheck.render.console import ConsoleObserver, make_console

    return ConsoleObserver(make_console(), verbosity=outputs.verbosity)


@app.command()
def run(
    config: ConfigOption = None,
    app_ref: Annotated[
        str | None, typer.Option("--app", help="ASGI app or factory, 'pkg.mod:attr' (overrides the config).")
    ] = None,
    boot: Annotated[str | None, typer.Option(help="Boot async context manager, 'pkg.mod:attr'.")] = None,
    url: Annotated[str | None, typer.Option(help="Probe a running backend at this ws:// or wss:// URL.")] = None,
    budget_ms: BudgetOption = None,
    deadline: DeadlineOption = None,
    startup_timeout: Annotated[
        float | None, typer.Option(help="Startup deadline in seconds.", callback=_limited("startup_timeout"))
    ] = None,
    trace: Annotated[bool, typer.Option(help="Trace calls on the roles' classes during boot.")] = True,
    isolation: Annotated[
        bool, typer.Option("--isolation", help="Also run K users at once ([isolation], default 2) to catch cross-talk.")
    ] = False,
    assume_synced_clocks: AssumeSyncedOption = False,
    fmt: FormatOption = Format.CONSOLE,
    output: OutputOption = None,
    json_path: JsonOption = None,
    junit_path: JunitOption = None,
    verbose: VerboseOption = 0,
    quiet: QuietOption = False,
) -> None:
    """Boot the backend, check its roles, contract and wires, and probe the agent events."""
    from dataclasses import replace

    settings = targeted(config, app_ref, boot, url)
    if startup_timeout is not None:
        settings = replace(settings, startup_timeout=startup_timeout)
    if not trace:
        settings = replace(settings, trace=False)
    probe_changes: dict[str, object] = {
        k: v for k, v in (("budget_ms", budget_ms), ("deadline", deadline)) if v is not None
    }
    if assume_synced_clocks:
        probe_changes["assume_synced_clocks"] = True
    if isolation and not settings.isolation.enabled:
        settings = replace(settings, isolation=replace(settings.isolation, enabled=True))
    if probe_changes:
        settings = settings.with_probe(**probe_changes)

    outputs = Outputs(fmt, output, json_path, junit_path, verbosity=-1 if quiet else verbose)
    display = _observer(outputs)
    try:
        report = execute(settings, outputs, display)
    finally:
        if display is not None:
            display.close()
    write_outputs(report, outputs)
    raise typer.Exit(int(report.exit_code))


def execute(settings: "Settings", outputs: Outputs, display: "Observer | None" = None) -> "Report":
    """Run the checks, here or, for an in-process target of the script, in a supervised child process."""
    if not _supervising or settings.target_kind == "url":  # a url target runs no backend code here
        return checks(None, settings, outputs, display)
    import os

    from wiringcheck.secrets import Secrets
    from wiringcheck.supervisor import report_of, supervise
    from wiringcheck.watchdog import MARGIN, budget

    supervised = supervise(checks, (settings, outputs), timeout=budget(settings) + 3 * MARGIN, observer=display)
    return report_of(supervised, settings, kind="run", secrets=Secrets(settings.credentials(os.environ)))


def checks(
    relay: "Relay | None", settings: "Settings", outputs: Outputs, display: "Observer | None" = None
) -> "Report":
    """The run's checks under the watchdog; in a supervised child, progress and the verdict go through `relay`."""
    from wiringcheck.runner import run as run_checks
    from wiringcheck.watchdog import Watchdog

    observer = relay if relay is not None else display
    deliver = relay.deliver if relay is not None else None
    with Watchdog(settings, outputs, observer, deliver=deliver) as watchdog:
        return run_checks(settings, observer=watchdog)


@app.command()
def scan(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to scan.")],
    root: Annotated[Path | None, typer.Option(help="Project root (default: from pyproject.toml).")] = None,
    config: ConfigOption = None,
    fmt: FormatOption = Format.CONSOLE,
    baseline: Annotated[Path | None, typer.Option(help="Fail only on findings not in this baseline.")] = None,
    update_baseline: Annotated[
        bool, typer.Option("--update-baseline", help="Record today's findings into --baseline.")
    ] = False,
    output: OutputOption = None,
    cache: Annotated[bool, typer.Option(help="Reuse parse results of unchanged files.")] = True,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", help="Parser processes (default: automatic).")] = None,
    verbose: VerboseOption = 0,
) -> None:
    """Find wiring bugs in the code statically, without importing or running it."""
    from wiringcheck.scan.command import scan_command

    raise typer.Exit(
        scan_command(
            paths=paths,
            root=root,
            config=config,
            fmt=fmt.value,
            baseline=baseline,
            update_baseline=update_baseline,
            output=output,
            cache=cache,
            jobs=jobs,
            verbose=verbose,
        )
    )


@app.command()
def explain(code: Annotated[str, typer.Argument(help="A finding code, e.g. WC211.")]) -> None:
    """Print the documentation page of a finding code."""
    from wiringcheck.codes import CODES
    from wiringcheck.docs import code_page
    from wiringcheck.suggest import suggest

    code = code.upper()
    if code not in CODES:
        guess = suggest(code, CODES)
        hint = f"; did you mean {guess}?" if guess else ""
        raise UsageError(f"unknown code {code!r}{hint} (known: {min(CODES)}…{max(CODES)})")
    page = code_page(code)
    if sys.stdout.isatty():
        from rich.markdown import Markdown

        from wiringcheck.render.console import make_console

        make_console().print(Markdown(page))
    else:
        sys.stdout.write(page)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the configuration, for editors to complete and check it."""
    from wiringcheck.config_schema import schema_text

    sys.stdout.write(schema_text())


@app.command()
def probe(
    url: Annotated[str, typer.Argument(help="The running backend's WebSocket URL, ws:// or wss://.")],
    config: ConfigOption = None,
    token_env: Annotated[
        str | None,
        typer.Option("--token-env", metavar="NAME", help="Environment variable holding the token (never printed)."),
    ] = None,
    token_query: Annotated[
        str | None, typer.Option(metavar="PARAM", help="Send the token as this query parameter (default: token).")
    ] = None,
    token_header: Annotated[
        str | None, typer.Option(metavar="HEADER", help="Send the token in this header (Authorization: Bearer).")
    ] = None,
    cafile: Annotated[
        Path | None, typer.Option(help="PEM file of the certificate authority that signed a wss:// server.")
    ] = None,
    runs: Annotated[int, typer.Option(help="Repeat the run N times and report p50/p95/max per event.", min=1)] = 1,
    trigger: Annotated[str | None, typer.Option(help="JSON message that starts a run (overrides the config).")] = None,
    event: Annotated[
        list[str] | None, typer.Option("--event", help="An expected event, in order; repeat for each.")
    ] = None,
    terminal: Annotated[str | None, typer.Option(help="The event that ends a run (default: the last).")] = None,
    budget_ms: BudgetOption = None,
    deadline: DeadlineOption = None,
    connect_timeout: Annotated[
        float | None, typer.Option(help="Connection timeout in seconds.", callback=_limited("connect_timeout"))
    ] = None,
    percentile: Annotated[
        str | None, typer.Option(help="With --runs: the latency that must fit the budget: p50, p95 or max.")
    ] = None,
    assume_synced_clocks: AssumeSyncedOption = False,
    isolation: Annotated[
        bool, typer.Option("--isolation", help="Run K users at once in every run ([isolation], default 2).")
    ] = False,
    fmt: FormatOption = Format.CONSOLE,
    output: OutputOption = None,
    json_path: JsonOption = None,
    junit_path: JunitOption = None,
    verbose: VerboseOption = 0,
    quiet: QuietOption = False,
) -> None:
    """Probe a running backend before deploying: start agent runs and check the events that arrive."""
    from wiringcheck.commands.probe import ProbeRequestOptions, probe_command

    options = ProbeRequestOptions(
        config=config,
        trigger=trigger,
        events=tuple(event or ()),
        terminal=terminal,
        budget_ms=budget_ms,
        deadline=deadline,
        connect_timeout=connect_timeout,
        percentile=percentile,
        token_env=token_env,
        token_query=token_query,
        token_header=token_header,
        cafile=cafile,
        runs=runs,
        assume_synced_clocks=assume_synced_clocks,
        isolation=isolation,
    )
    _check_url("URL", url)
    outputs = Outputs(fmt, output, json_path, junit_path, verbosity=-1 if quiet else verbose)
    raise typer.Exit(probe_command(url, options, outputs))


@app.command("load")
def load_test(
    config: ConfigOption = None,
    app_ref: Annotated[
        str | None, typer.Option("--app", help="ASGI app or factory, 'pkg.mod:attr' (overrides the config).")
    ] = None,
    boot: Annotated[str | None, typer.Option(help="Boot async context manager, 'pkg.mod:attr'.")] = None,
    url: Annotated[str | None, typer.Option(help="Load a running backend at this ws:// or wss:// URL.")] = None,
    users: Annotated[
        int | None,
        typer.Option(
            "--users", "-u", help="Concurrent users (default: [load] users).", callback=_limited("users", whole=True)
        ),
    ] = None,
    spawn_rate: Annotated[
        float | None,
        typer.Option(
            "--spawn-rate",
            "-r",
            help="Users started per second (default: all in 1 s).",
            callback=_limited("spawn_rate"),
        ),
    ] = None,
    duration: Annotated[
        float | None,
        typer.Option("--duration", "-t", help="Seconds the test lasts, ramp included.", callback=_limited("duration")),
    ] = None,
    runs: Annotated[
        int | None, typer.Option(help="Runs per user, instead of a duration.", callback=_limited("runs", whole=True))
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            "--workers",
            "-w",
            help="Client processes (default: one per CPU, at most).",
            callback=_limited("workers", whole=True),
        ),
    ] = None,
    grace: Annotated[
        float | None,
        typer.Option(
            help="Seconds runs in flight at the end may take to finish (default: the run deadline).",
            callback=_limited("grace"),
        ),
    ] = None,
    budget_ms: BudgetOption = None,
    deadline: DeadlineOption = None,
    fmt: FormatOption = Format.CONSOLE,
    output: OutputOption = None,
    json_path: JsonOption = None,
    junit_path: JunitOption = None,
    verbose: VerboseOption = 0,
    quiet: QuietOption = False,
) -> None:
    """Many users at once: each runs the probe in a loop; report per-event percentiles and judge thresholds."""
    from wiringcheck.load.command import load_command

    settings = targeted(config, app_ref, boot, url)
    probe_changes = {k: v for k, v in (("budget_ms", budget_ms), ("deadline", deadline)) if v is not None}
    if probe_changes:
        settings = settings.with_probe(**probe_changes)
    code = load_command(
        settings,
        users=users,
        spawn_rate=spawn_rate,
        duration=duration,
        runs=runs,
        workers=workers,
        grace=grace,
        outputs=Outputs(fmt, output, json_path, junit_path, verbosity=-1 if quiet else verbose),
        supervised=_supervising,
    )
    raise typer.Exit(code)


@app.command("inspect")
def inspect_backend(
    config: ConfigOption = None,
    app_ref: Annotated[
        str | None, typer.Option("--app", help="ASGI app or factory, 'pkg.mod:attr' (overrides the config).")
    ] = None,
    boot: Annotated[str | None, typer.Option(help="Boot async context manager, 'pkg.mod:attr'.")] = None,
    url: Annotated[str | None, typer.Option(help="A running backend's URL: only --probe can look at it.")] = None,
    private: Annotated[bool, typer.Option("--private", help="Also show members whose name starts with _.")] = False,
    probe: Annotated[
        bool,
        typer.Option("--probe", help="Also start one run: show the frame shapes and a suggested probe table."),
    ] = False,
) -> None:
    """Boot the backend and show its routes, what sits on app.state, each role's members and each wire's state."""
    from wiringcheck.commands.inspect import inspect_command, inspect_settings

    settings = inspect_settings(config, app=app_ref, boot=boot, url=url)
    raise typer.Exit(inspect_command(settings, private=private, probe=probe, supervised=_supervising))


@app.command("init")
def init_project(
    config: ConfigOption = None,
    app_ref: Annotated[
        str | None, typer.Option("--app", help="ASGI app or factory, 'pkg.mod:attr' (asked for when no target).")
    ] = None,
    boot: Annotated[str | None, typer.Option(help="Boot async context manager, 'pkg.mod:attr'.")] = None,
    url: Annotated[str | None, typer.Option(help="A running backend's URL (ws://, wss://, http://, https://).")] = None,
    from_run: Annotated[
        bool,
        typer.Option(
            "--from-run",
            help="Boot the backend, start one run, and write what its frames suggest (completes a config in place).",
        ),
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            help="The file to write: pyproject.toml ([tool.wiringcheck], the default) or wiringcheck.toml.",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace a configuration already there (a pyproject.toml keeps its other lines)."),
    ] = False,
) -> None:
    """Write a commented starter configuration, or complete one from a run of the backend (--from-run)."""
    from wiringcheck.commands.init import init_command

    raise typer.Exit(
        init_command(output, config=config, app=app_ref, boot=boot, url=url, from_run=from_run, force=force)
    )


class _PlainCoercion:
    """An option's text converted as Typer would, without pydantic, for the plain types our options use.

    Typer (0.2x) builds a pydantic ``TypeAdapter`` to convert every option, even an
    absent one, so each command paid for importing pydantic and building the adapters
    (about 200 ms) while parsing its options. Ours are str, int, float, bool, Path or an
    Enum, alone, ``| None`` or in a list, with at most a ``min``/``max``; any other option
    keeps Typer's conversion.
    """

    def __init__(self, convert: Callable[[Any], Any]) -> None:
        self.convert = convert

    def coerce(self, value: Any, param: Any, ctx: Any) -> Any:
        many = bool(param.multiple) or param.nargs == -1
        if value is None:
            return () if many else None
        try:
            return [self.convert(item) for item in value] if many else self.convert(value)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), ctx=ctx, param=param) from None


def _plain_converter(annotation: Any, info: Any) -> Callable[[Any], Any] | None:
    """How to convert a value for `annotation` without pydantic; None for what only Typer knows."""
    import enum
    import types
    import typing
    from functools import partial

    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return _plain_converter(inner[0], info) if len(inner) == 1 else None
    if origin is list:
        return _plain_converter(typing.get_args(annotation)[0], info)
    if getattr(info, "parser", None) is not None or getattr(info, "click_type", None) is not None:
        return None
    if annotation in (int, float):
        return partial(_number, annotation, info.min, info.max)
    if info.min is not None or info.max is not None:
        return None
    if annotation is str:
        return str
    if annotation is bool:
        return _boolean
    plain_path = info.file_okay and info.dir_okay and not (info.exists or info.resolve_path or info.allow_dash)
    if annotation is Path and plain_path and not info.writable:
        return Path
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum) and info.case_sensitive:
        return partial(_choice, annotation)
    return None


def _number(kind: type[float], low: float | None, high: float | None, value: Any) -> float:
    if not isinstance(value, kind) or isinstance(value, bool):
        try:
            value = kind(value)
        except (TypeError, ValueError):
            what = "an integer" if kind is int else "a number"
            raise ValueError(f"Input should be {what}, got {value!r}") from None
    assert isinstance(value, float | int)
    if low is not None and value < low:
        raise ValueError(f"Input should be greater than or equal to {low}")
    if high is not None and value > high:
        raise ValueError(f"Input should be less than or equal to {high}")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"Input should be a boolean, got {value!r}")
    return value


def _choice(choices: Any, value: Any) -> Any:
    if isinstance(value, choices):
        return value
    for member in choices:
        if str(member.value) == str(value):
            return member
    listed = ", ".join(repr(str(member.value)) for member in choices)
    raise ValueError(f"{value!r} is not one of {listed}.")


def _commands() -> dict[str, Any]:
    """`app`'s commands (typer's `CommandInfo`) by the name a command line gives them."""
    return {
        info.name or typer.main.get_command_name(getattr(info.callback, "__name__", "")): info
        for info in app.registered_commands
    }


def _named(argv: list[str]) -> str | None:
    """The command `argv` runs: its first word that is no option (the group's own options take no value)."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg if arg in _commands() else None
    return None


def _listed(name: str, info: Any) -> Any:
    """`info` with a callback of no parameters but the same help: what the group's own help lists of a command."""
    listed = copy.copy(info)

    def callback() -> None:  # never run: only a command line that names no command builds the group it is in
        raise AssertionError(name)

    callback.__doc__ = info.callback.__doc__
    listed.name, listed.callback = name, callback
    return listed


@functools.cache
def _command(name: str | None) -> Any:
    """The click command of `app` for a command line that runs the command `name` (None: that runs none), its
    options converted without importing pydantic (`_PlainCoercion`).

    Typer builds a command's options from its signature and annotations, about a millisecond a
    command: a command line that names one gets a group of that command alone, and one that
    names none (``--help``, ``--version``, a mistyped name) a group that lists every command by
    its name and help, without the options it never parses. Built once per process and name:
    `main` may run many times in one process (the test suite calls it some 400 times).
    """
    commands = _commands()
    shaped = copy.copy(app)
    if name is not None:
        shaped.registered_commands = [commands[name]]
    else:
        shaped.registered_commands = [_listed(each, info) for each, info in commands.items()]
    command = typer.main.get_command(shaped)
    for each in (command, *getattr(command, "commands", {}).values()):
        helper = each.get_help_option(typer.Context(each)) if hasattr(each, "get_help_option") else None
        for param in (*each.params, *filter(None, [helper])):
            descriptor = getattr(param, "type_descriptor", None)
            if descriptor is None or getattr(param, "_runtime_param", False) is not None:
                continue  # a Typer that converts without pydantic, or conversion already set
            convert = _plain_converter(descriptor.annotation, descriptor.parameter_info)
            if convert is not None:
                param._runtime_param = _PlainCoercion(convert)
    return command


def main(argv: list[str] | None = None, *, supervise: bool = False) -> int:
    """Run the command line `argv`; returns the exit code.

    With `supervise`, checks that boot the backend in this process run in a supervised
    child (`wiringcheck.supervisor`), as the `wiringcheck` script runs them.
    """
    global _supervising
    _supervising = supervise
    try:
        return _main(argv)
    finally:
        _supervising = False


def _main(argv: list[str] | None) -> int:
    try:
        # Without standalone mode click returns a command's Exit code instead of exiting.
        code = _command(_named(sys.argv[1:] if argv is None else argv))(
            args=argv, prog_name="wiringcheck", standalone_mode=False
        )
        return int(code) if isinstance(code, int) else 0
    except typer.Exit as exc:
        return int(exc.exit_code)
    except WiringcheckError as exc:
        return print_error(exc)
    except SystemExit as exc:  # click's own exits (--help)
        return int(exc.code or 0) if isinstance(exc.code, int | None) else 1
    except KeyboardInterrupt:
        print("wiringcheck: interrupted", file=sys.stderr)
        return 130
    except typer.Abort:
        return 130
    except typer.TyperException as exc:
        # Usage errors (an unknown option, a missing argument). typer vendors its own click,
        # so these are typer's exception classes, not click's.
        show = getattr(exc, "show", None)  # ClickException's; TyperException declares none
        if callable(show):
            from wiringcheck.report import ExitCode  # only when it is needed: --help must not pay for report.py

            show()
            return ExitCode.USAGE_ERROR
        return print_error(UsageError(str(exc)))
    except Exception as exc:
        if os.environ.get("WIRINGCHECK_DEBUG"):
            details = getattr(exc, "details", None)  # a supervised child's own traceback
            if details:
                print(details, file=sys.stderr)
            raise
        from wiringcheck.report import ExitCode

        print(
            f"wiringcheck: internal error: {type(exc).__name__}: {exc}\n"
            "This is a bug in wiringcheck; rerun with WIRINGCHECK_DEBUG=1 for the traceback and report it.",
            file=sys.stderr,
        )
        return ExitCode.INTERNAL_ERROR


def entry() -> None:
    """Run `main` and exit with its code, even when the backend left non-daemon threads running (WC109)."""
    import threading

    code = main(supervise=True)
    sys.stdout.flush()
    sys.stderr.flush()
    if any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread()):
        os._exit(code)  # the interpreter would wait for those threads forever; the report is already written
    sys.exit(code)
