"""``clinicall user`` and ``clinicall db``: the commands that work on the store itself.

``db upgrade`` creates or migrates the store; ``db current`` and ``user`` look at it first and
never create one (:mod:`clinicall.db.status`): a missing, empty or older store is one line
saying which command to run.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from clinicall.cli_args import CommandError, Handler, store_args, store_url

# -- user -----------------------------------------------------------------------------------

def user_command(parser: argparse.ArgumentParser) -> Handler:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add a web console user")
    listing = actions.add_parser("list", help="list the users (never passwords or tokens)")
    for sub in (add, listing):
        store_args(sub)
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, choices=["operator", "manager", "quality", "admin"])
    add.add_argument("--display-name", default="")
    given = add.add_mutually_exclusive_group()
    given.add_argument("--password-file", type=Path, metavar="FILE",
                       help="read the password from the first line of FILE ('-': stdin)")
    given.add_argument("--password-env", metavar="VAR",
                       help="read the password from this environment variable")
    add.add_argument("--token", action="store_true",
                     help="also create an API token for 'Authorization: Bearer' (shown once)")

    def run(args: argparse.Namespace) -> int:
        from clinicall.db.models import Role
        from clinicall.db.status import StoreNotReady
        from clinicall.web import user_admin
        from clinicall.web.users import UserExistsError

        url = store_url(args)
        try:
            if args.action == "list":
                for name, role, display, active, token in asyncio.run(user_admin.listing(url)):
                    flags = ("" if active else " inactive") + (" token" if token else "")
                    print(f"{name}\t{role}\t{display}{flags}")
                return 0
            password = _new_password(args)
            new = asyncio.run(user_admin.add(url, args.name, Role(args.role), password,
                                             display_name=args.display_name,
                                             with_token=args.token))
        except StoreNotReady as exc:
            raise CommandError(str(exc), exc.hint) from None
        except (UserExistsError, ValueError) as exc:
            raise CommandError(str(exc), "choose another name or a non-empty password") from None
        print(f"added {new.user.username} ({new.user.role.value})")
        if new.api_token:
            print(f"API token (shown once, keep it secret): {new.api_token}")
        return 0

    return run


PASSWORD_OPTIONS = "give --password-file FILE (or '-' for stdin) or --password-env VAR"


def _new_password(args: argparse.Namespace) -> str:
    """The new user's password: from the file, the environment, or typed twice."""
    import getpass
    import os

    if args.password_env:
        password = os.environ.get(args.password_env, "")
        if not password:
            raise CommandError(f"${args.password_env} is empty or not set",
                               "export the password in it, or use --password-file")
        return password
    if args.password_file is not None:
        return _password_from_file(args.password_file)
    if not terminal_present():
        raise CommandError("no terminal to ask for the password", PASSWORD_OPTIONS)
    try:
        password = getpass.getpass(f"password for {args.name}: ")
        again = getpass.getpass("again: ")
    except EOFError:
        raise CommandError("the password was not typed (end of input)",
                           PASSWORD_OPTIONS) from None
    if password != again:
        raise CommandError("the passwords differ", "type the same password twice")
    return password


def _password_from_file(path: Path) -> str:
    """The first line of ``path`` (``-``: stdin), without its line ending."""
    try:
        if str(path) == "-":
            line = sys.stdin.readline()
        else:
            with path.open(encoding="utf-8") as file:
                line = file.readline()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise CommandError(f"cannot read the password from {path}: {reason}",
                           "give a readable file whose first line is the password") from None
    password = line.rstrip("\r\n")
    if not password:
        raise CommandError(f"the first line of {path} is empty",
                           "put the password on the first line")
    return password


def terminal_present() -> bool:
    """Whether getpass can ask someone: it reads the controlling terminal, /dev/tty."""
    import os

    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return False
    os.close(fd)
    return True


# -- db -------------------------------------------------------------------------------------

def db_command(parser: argparse.ArgumentParser) -> Handler:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    upgrade = actions.add_parser("upgrade", help="create the store, or migrate it to this "
                                 "version's schema (nothing to do when it is current)")
    current = actions.add_parser("current", help="say the store's revision and whether it is "
                                 "current (exit 1 when it is not)")
    for sub in (upgrade, current):
        store_args(sub)

    def run(args: argparse.Namespace) -> int:
        from clinicall.db.status import StoreNotReady, shown

        url = store_url(args)
        try:
            if args.action == "upgrade":
                revision = asyncio.run(_upgrade(url))
                print(f"the store {shown(url)} is at revision {revision} (current)")
                return 0
            return _say_current(url)
        except StoreNotReady as exc:
            raise CommandError(str(exc), exc.hint) from None

    return run


async def _upgrade(url: str) -> str:
    from sqlalchemy.exc import SQLAlchemyError

    from clinicall.app import make_sqlite_dir
    from clinicall.db import upgrade
    from clinicall.db.status import StoreNotReady, require_current, shown

    try:
        make_sqlite_dir(url)
    except OSError as exc:
        raise StoreNotReady(f"cannot make the folder of {shown(url)}: {exc.strerror}",
                            "check the path and that this user may write there") from None
    try:
        await upgrade(url)
    except (SQLAlchemyError, OSError) as exc:
        reason = " ".join(str(getattr(exc, "orig", None) or exc).split())[:160]
        raise StoreNotReady(f"cannot migrate the store {shown(url)}: {reason}",
                            "check the URL, that the database server is up and that this "
                            "user may change it") from None
    return (await require_current(url)).head


def _say_current(url: str) -> int:
    from clinicall.db.status import shown, store_status

    status = asyncio.run(store_status(url))
    if status.current:
        print(f"the store {shown(url)} is at revision {status.revision} (current)")
        return 0
    at = "not migrated" if status.revision is None else f"at revision {status.revision}"
    print(f"the store {shown(url)} is {at}; this version needs {status.head}")
    print("  -> run 'clinicall db upgrade' (with the same --config or --db)")
    return 1
