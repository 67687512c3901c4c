"""The ``clinicall`` command line.

Each command is one function that declares its arguments on the sub-parser it is given and
returns the handler that runs it; :data:`COMMANDS` wires them explicitly, in the order
``--help`` lists them.  Handlers import what they need lazily, so ``clinicall --help`` stays
fast and one unfinished part cannot break the other commands.

Exit codes: 0 success, 1 failure (a bad config, a failed build), 2 usage errors (argparse).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from clinicall import logbudget

Handler = Callable[[argparse.Namespace], int]
#: Declares a command's arguments on its sub-parser and returns the function that runs it.
Configure = Callable[[argparse.ArgumentParser], Handler]

EPILOG = """\
examples:
  clinicall check-config config/clinic.yaml
  clinicall asterisk-config config/clinic.yaml --out /etc/asterisk
  clinicall prompts config/clinic.yaml --out /usr/share/asterisk/sounds
  clinicall run config/clinic.yaml -v
  clinicall user add maria --role manager
  clinicall report --from 2026-11-01 --to 2026-11-30 --by queue,hour --format csv
  clinicall demo

Run 'clinicall COMMAND --help' for the options of one command.
"""


class CommandError(Exception):
    """A failure the user can act on: one line saying what went wrong, one saying what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    summary: str  # one line, shown in 'clinicall --help'
    configure: Configure


def _config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", metavar="FILE", type=Path, help="the clinic config (YAML)")


def _load(path: Path) -> object:
    """Load the config or fail with every problem listed (see check-config)."""
    from clinicall.settings import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        raise CommandError(f"{path}: {len(exc.errors)} problem(s) in the config",
                           f"fix them and run 'clinicall check-config {path}'") from None


# -- check-config ---------------------------------------------------------------------------

def check_config_command(parser: argparse.ArgumentParser) -> Handler:
    _config_arg(parser)

    def run(args: argparse.Namespace) -> int:
        from clinicall.settings import check_config

        report = check_config(args.config)
        for problem in report.problems:
            print(problem)
        if report.config is None:
            print(f"{len(report.errors)} error(s), {len(report.warnings)} warning(s) "
                  f"in {args.config}", file=sys.stderr)
            return 1
        c = report.config
        print(f"OK: {args.config}: {c.clinic.name[c.default_language]} ({len(c.queues)} queues, "
              f"{len(c.operators)} operators, {len(c.ivr.menus)} menus, "
              f"{len(c.services)} services, {len(c.routes)} routes, "
              f"{len(report.warnings)} warning(s))")
        return 0

    return run


# -- asterisk-config ------------------------------------------------------------------------

def asterisk_config_command(parser: argparse.ArgumentParser) -> Handler:
    _config_arg(parser)
    parser.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help="directory for the generated .conf files (created if missing)")
    parser.add_argument("--simulated", action="store_true",
                        help="queue members are simulated operators (Local channels), and add "
                             "the simulated patient context, for the demo and the tests")
    parser.add_argument("--bind", default="127.0.0.1",
                        help="address AMI and SIP listen on (default: %(default)s)")
    parser.add_argument("--agi-url", default=None,
                        help="FastAGI URL of the IVR (default: from the config's asterisk:)")

    def run(args: argparse.Namespace) -> int:
        from clinicall.asterisk_config import render_asterisk_config
        from clinicall.settings import ClinicConfig

        config = _load(args.config)
        assert isinstance(config, ClinicConfig)
        files = render_asterisk_config(config, simulated=args.simulated,
                                       agi_url=args.agi_url, bind=args.bind)
        try:
            args.out.mkdir(parents=True, exist_ok=True)
            for name, text in sorted(files.items()):
                (args.out / name).write_text(text, encoding="utf-8")
                print(f"wrote {args.out / name}")
        except OSError as exc:
            raise CommandError(f"cannot write to {args.out}: {exc.strerror}",
                               "choose a writable --out directory") from None
        return 0

    return run


# -- prompts --------------------------------------------------------------------------------

def prompts_command(parser: argparse.ArgumentParser) -> Handler:
    _config_arg(parser)
    parser.add_argument("--out", required=True, type=Path, metavar="DIR",
                        help="sounds directory; files go to DIR/clinicall/<language>/<key>.wav")
    parser.add_argument("--cache", type=Path, default=Path("var/cache/prompts"), metavar="DIR",
                        help="cache of synthesised prompts (default: %(default)s)")

    def run(args: argparse.Namespace) -> int:
        from clinicall import prompt_build
        from clinicall.settings import ClinicConfig

        config = _load(args.config)
        assert isinstance(config, ClinicConfig)
        items = prompt_build.prompt_texts(config)

        def progress(done: int, total: int, item: prompt_build.PromptText, cached: bool) -> None:
            state = "cached" if cached else "built"
            print(f"[{done}/{total}] {item.language}/{item.key}: {state}", flush=True)

        try:
            recorded = config.ivr.recorded_prompts
            paths = asyncio.run(prompt_build.build_prompts(
                items, args.out, cache_dir=args.cache, progress=progress,
                recorded=Path(recorded) if recorded else None))
        except prompt_build.PromptBuildError as exc:
            raise CommandError(str(exc), "check that espeak-ng and sox are installed") from None
        print(f"{len(paths)} prompt(s) in {args.out}")
        return 0

    return run


# -- demo -----------------------------------------------------------------------------------

def demo_command(parser: argparse.ArgumentParser) -> Handler:
    parser.add_argument("config", metavar="FILE", type=Path, nargs="?",
                        default=Path("config/clinic.example.yaml"),
                        help="the clinic config (default: %(default)s)")
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

        config = _load(args.config)
        assert isinstance(config, ClinicConfig)
        clock, note = demo_clock(config, args.at)
        print(f"demo: {note}")
        try:
            asyncio.run(run_demo(config, now=clock, web_port=args.port,
                                 keep_serving=not args.exit))
        except SandboxUnavailable as exc:
            raise CommandError(str(exc), "run ./scripts/demo as root on Debian") from None
        return 0

    return run


# -- user -----------------------------------------------------------------------------------

def user_command(parser: argparse.ArgumentParser) -> Handler:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a web console user")
    listing = actions.add_parser("list", help="list the users (never passwords or tokens)")
    for sub in (add, listing):
        sub.add_argument("--config", type=Path, default=Path("config/clinic.example.yaml"),
                         metavar="FILE", help="the clinic config, for its database "
                         "(default: %(default)s)")
        sub.add_argument("--db", metavar="URL", default=None,
                         help="database URL (default: the config's database.url)")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, choices=["operator", "manager", "quality", "admin"])
    add.add_argument("--display-name", default="")
    add.add_argument("--password-env", metavar="VAR",
                     help="read the password from this environment variable (else prompt)")
    add.add_argument("--token", action="store_true",
                     help="also create an API token for 'Authorization: Bearer' (shown once)")

    def run(args: argparse.Namespace) -> int:
        import getpass
        import os

        from clinicall.db.models import Role
        from clinicall.settings import ClinicConfig
        from clinicall.web import user_admin
        from clinicall.web.users import UserExistsError

        url = args.db
        if url is None:
            config = _load(args.config)
            assert isinstance(config, ClinicConfig)
            url = config.database.url
        try:
            if args.action == "list":
                for name, role, display, active, token in asyncio.run(user_admin.listing(url)):
                    flags = ("" if active else " inactive") + (" token" if token else "")
                    print(f"{name}\t{role}\t{display}{flags}")
                return 0
            if args.password_env:
                password = os.environ.get(args.password_env, "")
                if not password:
                    raise CommandError(f"${args.password_env} is empty or not set",
                                       "export the password in it, or omit --password-env")
            else:
                password = getpass.getpass(f"password for {args.name}: ")
                if password != getpass.getpass("again: "):
                    raise CommandError("the passwords differ", "type the same password twice")
            new = asyncio.run(user_admin.add(url, args.name, Role(args.role), password,
                                             display_name=args.display_name,
                                             with_token=args.token))
        except user_admin.NotMigratedError as exc:
            raise CommandError(str(exc), "migrate the database first") from None
        except (UserExistsError, ValueError) as exc:
            raise CommandError(str(exc), "choose another name or a non-empty password") from None
        print(f"added {new.user.username} ({new.user.role.value})")
        if new.api_token:
            print(f"API token (shown once, keep it secret): {new.api_token}")
        return 0

    return run


# -- report ---------------------------------------------------------------------------------

def report_command(parser: argparse.ArgumentParser) -> Handler:
    from clinicall.reports.cli import report_command as configure

    return configure(parser)


# -- run ------------------------------------------------------------------------------------

def run_command(parser: argparse.ArgumentParser) -> Handler:
    _config_arg(parser)
    parser.add_argument("--db", metavar="URL", default=None,
                        help="database URL (default: the config's database.url)")
    parser.add_argument("--no-web", action="store_true", help="do not serve the web app")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log every call and reconnect (INFO), not only problems")

    def run(args: argparse.Namespace) -> int:
        from clinicall.serve import serve
        from clinicall.settings import ClinicConfig

        config = _load(args.config)
        assert isinstance(config, ClinicConfig)
        if args.verbose:
            logging.getLogger().setLevel(logging.INFO)
        try:
            asyncio.run(serve(config, db_url=args.db, web_enabled=not args.no_web))
        except OSError as exc:
            raise CommandError(f"cannot start: {exc}",
                               "is another clinicall (or something else) using the port?") from None
        return 0

    return run


# -- the command table: one line per command ------------------------------------------------

COMMANDS: tuple[Command, ...] = (
    Command("check-config", "check the clinic config; list every problem with its line",
            check_config_command),
    Command("asterisk-config", "write Asterisk's config files (queues, dialplan, AMI, SIP)",
            asterisk_config_command),
    Command("prompts", "synthesise the IVR prompts (uk/ru/en) as 8 kHz WAV",
            prompts_command),
    Command("run", "run the controller (FastAGI IVR, AMI, call account) and the web app",
            run_command),
    Command("report", "KPI report of a period as CSV, XLSX or JSON", report_command),
    Command("demo", "run the demo: local Asterisk 22, controller, simulated patients",
            demo_command),
    Command("user", "add or list web console users (roles, passwords, API tokens)", user_command),
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
            raise
        print(f"clinicall {args.command}: error: {exc}", file=sys.stderr)
        print("  -> this version drives Asterisk only (FreeSWITCH comes next); set "
              "'engine: {type: asterisk, ...}'", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
