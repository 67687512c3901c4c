"""A throw-away PostgreSQL server for the test suite (Debian's packaged binaries).

``PostgresServer`` runs ``initdb`` and ``pg_ctl`` from /usr/lib/postgresql/<version>/bin in a
temporary directory, as the ``postgres`` user when we are root (PostgreSQL refuses to run as
root), listening on a free 127.0.0.1 port with no Unix socket, fsync off.  Databases are
created from a migrated template, which costs a file copy rather than a migration per test.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import URL

from clinicall.sandbox.ports import free_port

PG_ROOT = Path("/usr/lib/postgresql")
INSTALL_HINT = "PostgreSQL is not installed: apt-get install postgresql"
SUPERUSER = "postgres"


class PostgresNotInstalledError(RuntimeError):
    """No initdb/pg_ctl found under /usr/lib/postgresql/*/bin."""


def find_pg_bin() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl, if any."""
    candidates = [p / "bin" for p in PG_ROOT.glob("*") if (p / "bin" / "initdb").exists()]
    candidates = [p for p in candidates if (p / "pg_ctl").exists()]

    def version(bin_dir: Path) -> tuple[int, ...]:
        return tuple(int(x) for x in bin_dir.parent.name.split(".") if x.isdigit())

    return max(candidates, key=version, default=None)


class PostgresServer:
    """One PostgreSQL cluster on a loopback port; ``start()`` then ``stop()`` (or ``with``)."""

    def __init__(self, bin_dir: Path | None = None) -> None:
        found = bin_dir or find_pg_bin()
        if found is None:
            raise PostgresNotInstalledError(INSTALL_HINT)
        self.bin_dir = found
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="clinicall-pg-"))
        self.data_dir = self.root / "data"
        self._counter = 0

    def __enter__(self) -> PostgresServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        if os.geteuid() == 0:
            entry = pwd.getpwnam(SUPERUSER)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run(
            "initdb",
            "-D",
            self.data_dir,
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C.UTF-8",
        )
        self.resume()

    def resume(self) -> None:
        """Start the server on its data and port (after ``start`` made them, or a ``pause``)."""
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl",
            "-w",
            "-D",
            self.data_dir,
            "-l",
            self.root / "server.log",
            "-o",
            options,
            "start",
        )

    def pause(self) -> None:
        """Stop the server (fast: open connections are cut) and keep its data for ``resume``:
        what a database outage looks like to its clients."""
        self._run("pg_ctl", "-D", self.data_dir, "-m", "fast", "-w", "stop")

    def stop(self) -> None:
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self._run("pg_ctl", "-D", self.data_dir, "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> URL:
        """The asyncpg SQLAlchemy URL of ``database`` on this server."""
        return URL.create(
            "postgresql+asyncpg",
            username=SUPERUSER,
            host="127.0.0.1",
            port=self.port,
            database=database,
        )

    def create_database(self, name: str | None = None, template: str | None = None) -> str:
        """CREATE DATABASE (optionally from ``template``); returns the database's name."""
        if name is None:
            self._counter += 1
            name = f"test_{self._counter}"
        sql = f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")
        self.psql(sql)
        return name

    def drop_database(self, name: str) -> None:
        """DROP DATABASE, cutting any connection still open to it: a test's database goes when
        the test ends, so a worker's cluster never piles up hundreds of them for ``stop`` to
        delete at once (that took over two minutes on a loaded disk)."""
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def psql(self, sql: str, database: str = "postgres") -> str:
        out = self._run(
            "psql",
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            SUPERUSER,
            "-d",
            database,
            "-At",
            "-c",
            sql,
        )
        return out

    def log_tail(self, lines: int = 40) -> str:
        log = self.root / "server.log"
        if not log.exists():
            return ""
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])

    def _run(self, program: str, *args: str | Path) -> str:
        argv = [str(self.bin_dir / program), *map(str, args)]
        if os.geteuid() == 0:
            argv = ["runuser", "-u", SUPERUSER, "--", *argv]
        done = subprocess.run(argv, capture_output=True, text=True, check=False, cwd=self.root)
        if done.returncode != 0:
            raise RuntimeError(
                f"{program} failed ({done.returncode}): {done.stderr.strip()}\n{self.log_tail()}"
            )
        return done.stdout
