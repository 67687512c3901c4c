"""The ``clinicall`` command line.

Each command is one function that declares its arguments on the sub-parser it is given and
returns the handler that runs it; :data:`COMMANDS` wires them explicitly, in the order
``--help`` lists them.  Handlers import what they need lazily, so ``clinicall --help`` stays
fast and one unfinished part cannot break the other commands.

Every command finds the clinic config by one rule (:mod:`clinicall.settings.location`):
``--config FILE`` (or the positional ``FILE`` where a command always took one), else
``$CLINICALL_CONFIG``, else ``/etc/clinicall/clinic.yaml``, else ``./clinic.yaml``.

Exit codes: 0 success, 1 failure (a bad config, a failed build, a store not ready), 2 usage
errors (argparse), 70 an unexpected error (one line on stderr, the traceback in a crash log).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from clinicall import logbudget
from clinicall.cli_appointments import appointments_command
from clinicall.cli_args import (
    CommandError,
    Configure,
    Handler,
    checked_db_option,
    config_arg,
    config_path,
    generated_args,
    load,
    load_config_of,
    write_generated,
)
from clinicall.cli_callbacks import callbacks_command
from clinicall.cli_recordings import audit_command, recordings_command
from clinicall.cli_store import db_command, user_command
from clinicall.crashlog import write_crash_log
from clinicall.doctor.command import doctor_command
from clinicall.event_loop import LOOP_NAMES
from clinicall.settings.location import RULE

EPILOG = f"""\
examples:
  clinicall check-config /etc/clinicall/clinic.yaml
  clinicall asterisk-config --out /etc/asterisk
  clinicall freeswitch-config --out /etc/freeswitch/clinicall
  clinicall prompts --out /usr/share/asterisk/sounds
  clinicall db upgrade
  clinicall user add maria --role manager
  clinicall run -v
  clinicall doctor
  clinicall report --from 2026-11-01 --to 2026-11-30 --by queue,hour --format csv
  clinicall demo

The clinic config: {RULE}.
Run 'clinicall COMMAND --help' for the options of one command.
"""
#: Exit code of an unexpected error (sysexits' EX_SOFTWARE).
EXIT_CRASH = 70


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    summary: str  # one line, shown in 'clinicall --help'
    configure: Configure


# -- check-config ---------------------------------------------------------------------------

def check_config_command(parser: argparse.ArgumentParser) -> Handler:
    config_arg(parser)

    def run(args: argparse.Namespace) -> int:
        from clinicall.settings import check_config
        from clinicall.settings.example_secrets import example_secret_warnings

        path = config_path(args)
        report = check_config(path)
        for problem in report.problems:
            print(problem)
        if report.config is None:
            print(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s) "
                  f"in {path}", file=sys.stderr)
            return 1
        c = report.config
        secrets = example_secret_warnings(path, c)  # fine for a trial, not for a clinic
        print(f"OK: {path}: {c.clinic.name[c.default_language]} ({len(c.queues)} queues, "
              f"{len(c.operators)} operators, {len(c.ivr.menus)} menus, "
              f"{len(c.services)} services, {len(c.routes)} routes, "
              f"{len(report.warnings) + len(secrets)} warning(s))")
        for warning in secrets:
            print(warning)
        return 0

    return run


# -- asterisk-config ------------------------------------------------------------------------

def asterisk_config_command(parser: argparse.ArgumentParser) -> Handler:
    config_arg(parser)
    parser.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help="Asterisk's config directory; only clinicall_*.conf files are "
                             "written there (created if missing)")
    generated_args(parser)
    parser.add_argument("--simulated", action="store_true",
                        help="queue members are simulated operators (Local channels), and add "
                             "the simulated patient context, for the demo and the tests")
    parser.add_argument("--bind", default="127.0.0.1",
                        help="address AMI listens on, and SIP unless the config's sip.bind "
                             "says otherwise (default: %(default)s)")
    parser.add_argument("--agi-url", default=None,
                        help="FastAGI URL of the IVR (default: from the config's asterisk:)")

    def run(args: argparse.Namespace) -> int:
        from clinicall.asterisk_config import render_asterisk_config
        from clinicall.asterisk_config.includes import instructions
        from clinicall.settings import ClinicConfig

        config = load_config_of(args)
        assert isinstance(config, ClinicConfig)
        files = render_asterisk_config(config, simulated=args.simulated,
                                       agi_url=args.agi_url, bind=args.bind)
        if not write_generated(args.out, files, diff=args.diff, force=args.force):
            return 0
        print(instructions(files), end="")
        _warn_of_own_transports(args.out, config)
        return 0

    return run


def _warn_of_own_transports(out: Path, config: object) -> None:
    """Say so when the administrator's pjsip.conf has a transport and clinicall made its own."""
    from clinicall.asterisk_config.own_transports import transports
    from clinicall.settings import ClinicConfig

    assert isinstance(config, ClinicConfig)
    try:
        theirs = transports((out / "pjsip.conf").read_text(encoding="utf-8", errors="replace"))
    except OSError:
        return
    if theirs and config.sip.transport is None:
        print(f"Note: {out / 'pjsip.conf'} has a transport of its own ({', '.join(theirs)}); "
              f"two on one port fail to bind: set 'sip.transport: {theirs[0]}' under sip: in "
              "the clinic config and generate again.")


# -- freeswitch-config ----------------------------------------------------------------------

def freeswitch_config_command(parser: argparse.ArgumentParser) -> Handler:
    from clinicall.freeswitch_config.command import freeswitch_config_command as configure

    return configure(parser)


# -- prompts --------------------------------------------------------------------------------

def prompts_command(parser: argparse.ArgumentParser) -> Handler:
    config_arg(parser)
    parser.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help="sounds directory; files go to DIR/clinicall/<language>/<key>.wav")
    parser.add_argument("--cache", type=Path, default=None, metavar="DIR",
                        help="cache of synthesised prompts (default: $CLINICALL_CACHE/prompts, "
                             "else /var/cache/clinicall/prompts as root, else "
                             "~/.cache/clinicall/prompts)")

    def run(args: argparse.Namespace) -> int:
        from clinicall import prompt_build
        from clinicall.settings import ClinicConfig

        config = load_config_of(args)
        assert isinstance(config, ClinicConfig)
        items = prompt_build.prompt_texts(config)

        def progress(done: int, total: int, item: prompt_build.PromptText, cached: bool) -> None:
            state = "cached" if cached else "built"
            print(f"[{done}/{total}] {item.language}/{item.key}: {state}", flush=True)

        try:
            recorded = config.ivr.recorded_prompts
            paths = asyncio.run(prompt_build.build_prompts(
                items, args.out, cache_dir=args.cache or prompt_cache_dir(), progress=progress,
                recorded=Path(recorded) if recorded else None))
        except prompt_build.PromptBuildError as exc:
            raise CommandError(str(exc), "check that espeak-ng and sox are installed") from None
        except OSError as exc:
            raise CommandError(f"cannot write {exc.filename}: {exc.strerror}",
                               "choose a writable --out (and --cache) folder") from None
        print(f"{len(paths)} prompt(s) in {args.out}")
        return 0

    return run


def prompt_cache_dir() -> Path:
    """Where synthesised prompts are cached when --cache is not given: never the working
    directory (a root shell in / would fill /var/cache/prompts), and the demo's cache as root."""
    from clinicall.sandbox.rootfs import CACHE_ENV, DEFAULT_CACHE

    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]) / "prompts"
    if os.geteuid() == 0:
        return DEFAULT_CACHE / "prompts"
    home_cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(home_cache) / "clinicall" / "prompts"


# -- demo -----------------------------------------------------------------------------------

def demo_command(parser: argparse.ArgumentParser) -> Handler:
    parser.add_argument("config", metavar="FILE", type=Path, nargs="?", default=None,
                        help="the clinic config (default: config/clinic.example.yaml, or "
                             "config/clinic.freeswitch.example.yaml with --engine freeswitch: "
                             "the demo is a trial of the example clinic, so it does not look "
                             "for the clinic's own)")
    parser.add_argument("--engine", choices=("asterisk", "freeswitch"), default=None,
                        help="the engine to run the demo on (default: the config's)")
    parser.add_argument("--at", metavar="TIME", default=None,
                        help="the clinic's clock for the IVR, ISO format in the clinic's time "
                             "zone (default: now, or the next opening + 1 h when closed)")
    parser.add_argument("--port", type=int, default=None,
                        help="port of the web dashboard (default: the config's http.port)")
    parser.add_argument("--exit", action="store_true",
                        help="exit when the calls are done instead of keeping the dashboard up")

    def run(args: argparse.Namespace) -> int:
        from clinicall.demo import demo_clock, run_demo
        from clinicall.sandbox.errors import SandboxUnavailable
        from clinicall.settings import ClinicConfig

        path = args.config or Path("config/clinic.freeswitch.example.yaml"
                                   if args.engine == "freeswitch"
                                   else "config/clinic.example.yaml")  # fmt: skip
        config = load(path)
        assert isinstance(config, ClinicConfig)
        if args.engine is not None and config.engine.type != args.engine:
            raise CommandError(f"{path} is a clinic on {config.engine.type}, not {args.engine}",
                               f"leave out --engine, or give a config with 'engine: "
                               f"{{type: {args.engine}, ...}}'")  # fmt: skip
        clock, note = demo_clock(config, args.at)
        print(f"demo: {note}")
        try:
            if config.engine.type == "freeswitch":
                from clinicall.demo.freeswitch import run_freeswitch_demo

                asyncio.run(run_freeswitch_demo(config, now=clock, web_port=args.port,
                                                keep_serving=not args.exit))
            else:
                asyncio.run(run_demo(config, now=clock, web_port=args.port,
                                     keep_serving=not args.exit))
        except SandboxUnavailable as exc:
            raise CommandError(str(exc), "run ./scripts/demo as root on Debian") from None
        return 0

    return run


# -- report ---------------------------------------------------------------------------------

def report_command(parser: argparse.ArgumentParser) -> Handler:
    from clinicall.reports.cli import report_command as configure

    return configure(parser)


def staffing_command(parser: argparse.ArgumentParser) -> Handler:
    from clinicall.reports.cli import staffing_command as configure

    return configure(parser)


def simulate_command(parser: argparse.ArgumentParser) -> Handler:
    from clinicall.simclinic.cli import simulate_command as configure

    return configure(parser)


# -- run ------------------------------------------------------------------------------------

def run_command(parser: argparse.ArgumentParser) -> Handler:
    config_arg(parser)
    parser.add_argument("--db", metavar="URL", default=None,
                        help="database URL (default: the config's database.url)")
    parser.add_argument("--no-web", action="store_true", help="do not serve the web app")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log every call and reconnect (INFO), not only problems")
    parser.add_argument("--allow-example-secrets", action="store_true",
                        help="run with the example config's 'change-me' secrets (a trial on "
                             "a closed machine, the tests); refused otherwise")
    parser.add_argument("--loop", choices=LOOP_NAMES, default=LOOP_NAMES[0],
                        help="the event loop: auto (default: uvloop when installed, else "
                             "asyncio), asyncio or uvloop (less CPU per FastAGI call, and the "
                             "IVR keeps every call under a local flood; bench/README.md)")

    def run(args: argparse.Namespace) -> int:
        from clinicall import event_loop
        from clinicall.serve import serve
        from clinicall.settings import ClinicConfig

        try:
            event_loop.loop_factory(args.loop)  # before anything starts: a missing extra
        except event_loop.LoopUnavailable as exc:
            raise CommandError(str(exc), exc.hint) from None
        path = config_path(args)
        config = load(path)
        assert isinstance(config, ClinicConfig)
        if not args.allow_example_secrets:
            _refuse_example_secrets(path, config)
        if args.db is not None:
            checked_db_option(args.db)
        if args.verbose:
            logging.getLogger().setLevel(logging.INFO)
        loop = event_loop.resolve(args.loop)
        _announce(f"event loop {loop}" + (" (uvloop is not installed)"
                                          if args.loop == "auto" and loop == "asyncio" else ""))
        try:
            event_loop.run(serve(config, db_url=args.db, web_enabled=not args.no_web,
                                 announce=_announce), loop=loop)
        except OSError as exc:
            raise CommandError(f"cannot start: {exc}",
                               "is another clinicall (or something else) using the port?") from None
        return 0

    return run


def _announce(line: str) -> None:
    """A start-up line of ``run``: on stderr (the journal, under systemd), with or without -v."""
    print(f"clinicall run: {line}", file=sys.stderr, flush=True)


def _refuse_example_secrets(path: Path, config: object) -> None:
    """``change-me`` secrets are the example's: anyone who read it knows them."""
    import os

    from clinicall.serve import SECRET_ENV
    from clinicall.settings import ClinicConfig
    from clinicall.settings.example_secrets import (
        example_secret_warnings,
        is_example_secret,
    )

    assert isinstance(config, ClinicConfig)
    warnings = example_secret_warnings(path, config)
    for warning in warnings:
        print(warning, file=sys.stderr)
    keys = [w.key_path for w in warnings]
    if is_example_secret(os.environ.get(SECRET_ENV, "")):
        keys.append(f"${SECRET_ENV}")
    if keys:
        generator = f"{config.engine.type}-config"
        raise CommandError(f"the example's 'change-me' secrets are still set: {', '.join(keys)}",
                           f"set secrets of your own (then run 'clinicall {generator}' "
                           "again), or pass --allow-example-secrets for a trial")


# -- the command table: one line per command ------------------------------------------------

COMMANDS: tuple[Command, ...] = (
    Command("check-config", "check the clinic config; list every problem with its line",
            check_config_command),
    Command("asterisk-config", "write clinicall_*.conf beside Asterisk's own files",
            asterisk_config_command),
    Command("freeswitch-config", "write FreeSWITCH's config files (dialplan, callcenter, "
            "event socket, CDR) to include", freeswitch_config_command),
    Command("prompts", "synthesise the IVR prompts (uk/ru/en) as 8 kHz WAV",
            prompts_command),
    Command("run", "run the controller (FastAGI IVR, AMI, call account) and the web app",
            run_command),
    Command("report", "KPI report of a period as CSV, XLSX or JSON", report_command),
    Command("staffing", "operators needed per queue and hour of week, from the last weeks",
            staffing_command),
    Command("simulate", "a simulated clinic day through the IVR and the call account, "
            "with its KPIs", simulate_command),
    Command("db", "create or migrate the store, or say its revision", db_command),
    Command("doctor", "check a live installation, one line per check with its fix",
            doctor_command),
    Command("demo", "run the demo: local Asterisk 22, controller, simulated patients",
            demo_command),
    Command("user", "add or list web console users (roles, passwords, API tokens)", user_command),
    Command("recordings", "import recordings from the PBX spool, or apply retention",
            recordings_command),
    Command("audit", "verify the hash chain of the recordings access audit", audit_command),
    Command("callbacks", "list, show or cancel callback jobs (numbers masked)",
            callbacks_command),
    Command("appointments", "import appointments (CSV) or list a day's reminder results",
            appointments_command),
)


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Keeps each command's summary on one line next to its name."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=28, width=100)


def build_parser(commands: Sequence[Command] = COMMANDS) -> tuple[
        argparse.ArgumentParser, dict[str, Handler]]:
    parser = argparse.ArgumentParser(
        prog="clinicall",
        description="clinicall: the software behind a clinic's single phone number "
                    "(IVR, triage, queues, call accounting).",
        epilog=EPILOG, formatter_class=_Formatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    handlers: dict[str, Handler] = {}
    for command in commands:
        child = sub.add_parser(command.name, help=command.summary, description=command.summary)
        handlers[command.name] = command.configure(child)
    return parser, handlers


def configure_logging() -> None:
    """Problems (WARNING and up) to stderr, each cause at most once a minute with a count
    (``logbudget``): an outage writes a few lines, not thousands."""
    root = logging.getLogger()
    if root.handlers:  # configured already (as basicConfig would, leave it alone)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logbudget.install(handler)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    parser, handlers = build_parser()
    args = parser.parse_args(argv)
    configure_logging()
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return handlers[args.command](args)
    except CommandError as exc:
        print(f"clinicall {args.command}: error: {exc}", file=sys.stderr)
        if exc.hint:
            print(f"  -> {exc.hint}", file=sys.stderr)
        return 1
    except ValueError as exc:
        from clinicall.settings.models import EngineMismatch

        if not isinstance(exc, EngineMismatch):
            return _crashed(args.command, exc)
        print(f"clinicall {args.command}: error: {exc}", file=sys.stderr)
        if args.command == "freeswitch-config":
            hint = "this command writes FreeSWITCH's side; for Asterisk use 'asterisk-config'"
        elif args.command == "asterisk-config":
            hint = "this command writes Asterisk's side; for FreeSWITCH use 'freeswitch-config'"
        else:
            hint = "set 'engine: {type: asterisk, ...}' or 'engine: {type: freeswitch, ...}'"
        print(f"  -> {hint}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader left (``clinicall report ... | head``): not an error
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second one at exit
        return 1
    except Exception as exc:  # the last resort: one line, not a traceback
        return _crashed(args.command, exc)


def _crashed(command: str, exc: Exception) -> int:
    """An error no handler expected: one line, and the traceback in a crash log."""
    log = write_crash_log(command)
    print(f"clinicall {command}: unexpected error: {type(exc).__name__}: "
          f"{_one_line(str(exc))}", file=sys.stderr)
    if log is None:
        print("  -> no crash log could be written; run again with the same arguments to see "
              "if it repeats", file=sys.stderr)
    else:
        print(f"  -> the traceback is in {log}; please report it with that file",
              file=sys.stderr)
    return EXIT_CRASH


def _one_line(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
