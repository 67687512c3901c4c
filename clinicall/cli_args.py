"""What the commands share: the error a user can act on, and finding the config and the store.

Every command finds the clinic config by one rule (:mod:`clinicall.settings.location`) and the
store by ``--db URL`` (used as given) or the config's ``database.url``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

from clinicall.settings.location import DEFAULTS

Handler = Callable[[argparse.Namespace], int]
#: Declares a command's arguments on its sub-parser and returns the function that runs it.
Configure = Callable[[argparse.ArgumentParser], Handler]


class CommandError(Exception):
    """A failure the user can act on: one line saying what went wrong, one saying what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


CONFIG_HELP = f"the clinic config (YAML); when none is given: {DEFAULTS}"


def config_arg(parser: argparse.ArgumentParser, *, positional: bool = True) -> None:
    """``--config FILE``, and the positional ``FILE`` the command took before (kept)."""
    if positional:
        parser.add_argument("config_file", metavar="FILE", type=Path, nargs="?", default=None,
                            help=CONFIG_HELP)
    parser.add_argument("--config", type=Path, default=None, metavar="FILE",
                        help="the clinic config (the same as FILE)" if positional else CONFIG_HELP)


def config_path(args: argparse.Namespace) -> Path:
    """The config the command was told to use, by the one rule (see the module docstring)."""
    from clinicall.settings.location import NoConfigFound, find_config

    given: Path | None = getattr(args, "config_file", None)
    if given is not None and args.config is not None and given != args.config:
        raise CommandError(f"two configs given: {given} and --config {args.config}",
                           "give one")
    try:
        return find_config(given or args.config)
    except NoConfigFound as exc:
        raise CommandError(str(exc), "give --config FILE, or start from "
                           "config/clinic.example.yaml (clinicall check-config FILE)") from None


def load_config_of(args: argparse.Namespace) -> object:
    return load(config_path(args))


def store_url(args: argparse.Namespace) -> str:
    """``--db`` as given, else the config's ``database.url`` (a relative SQLite path there is
    relative to the config file)."""
    from clinicall.settings import ClinicConfig

    if args.db is not None:
        return checked_db_option(args.db)
    config = load_config_of(args)
    assert isinstance(config, ClinicConfig)
    return config.database.url


def checked_db_option(url: str) -> str:
    """A ``--db`` URL the store can use, or the reason it cannot (as for database.url)."""
    from clinicall.settings.dburl import check_database_url

    try:
        return check_database_url(url)
    except ValueError as exc:
        raise CommandError(f"--db: {exc}", "give a SQLite or PostgreSQL URL") from None


def load(path: Path) -> object:
    """Load the config or fail with every problem listed (see check-config)."""
    from clinicall.settings import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        raise CommandError(f"{path}: {len(exc.errors)} problem(s) in the config",
                           f"fix them and run 'clinicall check-config {path}'") from None


def store_args(parser: argparse.ArgumentParser) -> None:
    """``--config`` for the store the config names, or ``--db URL`` (used as given)."""
    config_arg(parser, positional=False)
    parser.add_argument("--db", metavar="URL", default=None,
                        help="database URL (default: the config's database.url)")


def generated_args(parser: argparse.ArgumentParser) -> None:
    """``--diff`` and ``--force``, the same for both engine config generators."""
    parser.add_argument("--diff", action="store_true",
                        help="show what would change against what is installed; write nothing")
    parser.add_argument("--force", action="store_true",
                        help="replace files of the same names that clinicall did not write "
                             "(each is kept as NAME.bak first)")


def write_generated(out: Path, files: Mapping[str, str], *, diff: bool, force: bool) -> bool:
    """Both engine config generators' ``--out``/``--diff``/``--force``, said the same way
    (:mod:`clinicall.generated_files`): print the diff (False: nothing written), or write and
    print one line per file (True), or fail in one line without writing anything."""
    from clinicall import generated_files as gen

    try:
        changes = gen.plan(out, files)
        if diff:
            sys.stdout.write(gen.unified_diff(changes) or f"no change in {out}\n")
            return False
        lines = gen.apply(changes, force=force)
    except gen.ForeignFiles as exc:
        raise CommandError(f"not replacing files clinicall did not write (no generated-file "
                           f"header): {exc}",
                           "move them away, or pass --force (each is kept as NAME.bak)"
                           ) from None
    except OSError as exc:
        raise CommandError(f"cannot write to {out}: {exc.strerror}",
                           "choose a writable --out folder") from None
    print("\n".join(lines))
    return True
