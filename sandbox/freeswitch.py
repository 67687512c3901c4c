"""One real FreeSWITCH 1.10.12 from the cached build, owned by an async context manager.

FreeSWITCH runs in the foreground (``-nf -nc``) with every directory (conf, log, db, run,
recordings, ...) in a private run dir, so several instances share one build; the process is
started with a parent-death signal, so a crashed test run leaves no FreeSWITCH holding its
ports.  Commands go through the build's own ``fs_cli`` (a subprocess with a deadline), so
the sandbox needs no Event Socket client of its own.

    async with FreeswitchSandbox(prefix, files, includes, name="t", esl_port=p,
                                 esl_password=pw, sip_port=q) as fs:
        print(await fs.api("callcenter_config queue list"))
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType

from clinicall.sandbox.errors import (
    FreeswitchBootError,
    FreeswitchCommandError,
    SandboxUnavailable,
)
from clinicall.sandbox.freeswitch_build import is_built
from clinicall.sandbox.freeswitch_conf import GENERATED_FOLDER, ConfInclude, install
from clinicall.sandbox.layout import prune_stale

log = logging.getLogger(__name__)

#: The last module the build's modules.conf loads: when it exists, every module is in.
LAST_MODULE = "mod_say_ru"
#: Instances' run dirs, ``<tmp>/clinicall-freeswitch/<name>-<pid of the owner>-<n>``.
RUN_BASE = "clinicall-freeswitch"
RUN_SUBDIRS = ("log", "db", "run", "temp", "recordings", "storage", "cache", "certs", "sounds")
_CERTS = ("dtls-srtp.pem", "wss.pem")  # made at build time; a fresh pair costs 5-10 s of CPU


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))


class FreeswitchSandbox:
    """A private FreeSWITCH with the given generated files; start/stop never block the loop.

    ``generated`` maps file names to the text of clinicall's generated files (they go to
    ``conf/clinicall/``); ``includes`` are the lines that bring them into the vanilla files.
    ``esl_port``/``esl_password`` must be those the generated event socket settings use and
    ``sip_port`` the internal profile's port; ``outbound_port`` is the port the generated
    dialplan's ``socket`` connects to (exposed here; the config is not rewritten to match).
    """

    def __init__(
        self,
        prefix: Path,
        generated: Mapping[str, str],
        includes: Sequence[ConfInclude],
        *,
        name: str,
        esl_port: int,
        esl_password: str,
        sip_port: int,
        esl_host: str = "127.0.0.1",
        outbound_port: int | None = None,
        boot_timeout: float = 30.0,
        stop_timeout: float = 10.0,
        keep_run_dir: bool = False,
    ) -> None:
        self.prefix = prefix
        self.generated = dict(generated)
        self.includes = list(includes)
        self.name = name
        self.esl_host = esl_host
        self.esl_port = esl_port
        self.esl_password = esl_password
        self.sip_port = sip_port
        self.outbound_port = outbound_port
        self.boot_timeout = boot_timeout
        self.stop_timeout = stop_timeout
        self.keep_run_dir = keep_run_dir
        self._run_dir: Path | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self.boot_seconds: float | None = None
        """Wall time from spawning FreeSWITCH to the readiness checks passing."""

    # -- paths -----------------------------------------------------------------------------

    @property
    def run_dir(self) -> Path:
        if self._run_dir is None:
            raise RuntimeError("the sandbox has not been started")
        return self._run_dir

    @property
    def conf_dir(self) -> Path:
        return self.run_dir / "conf"

    @property
    def generated_dir(self) -> Path:
        """Where the generated files are (``$${conf_dir}/clinicall`` to FreeSWITCH)."""
        return self.conf_dir / GENERATED_FOLDER

    @property
    def log_dir(self) -> Path:
        return self.run_dir / "log"

    @property
    def console_log_path(self) -> Path:
        """FreeSWITCH's own stdout/stderr (start-up messages, crashes)."""
        return self.run_dir / "console.log"

    @property
    def recordings_dir(self) -> Path:
        return self.run_dir / "recordings"

    @property
    def sounds_dir(self) -> Path:
        """The instance's ``$${sounds_dir}`` (empty: the build has no sound files)."""
        return self.run_dir / "sounds"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> FreeswitchSandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _prepare(self) -> Path:
        base = Path(tempfile.gettempdir()) / RUN_BASE
        base.mkdir(exist_ok=True)
        prune_stale(base)  # left by test runs that were killed (FreeSWITCH died with them)
        n = 0
        while True:
            run_dir = base / f"{self.name}-{os.getpid()}-{n}"
            try:
                run_dir.mkdir()
                break
            except FileExistsError:
                n += 1
        for sub in RUN_SUBDIRS:
            (run_dir / sub).mkdir()
        for pem in _CERTS:
            source = self.prefix / "certs" / pem
            if source.is_file():
                shutil.copy(source, run_dir / "certs" / pem)
        install(self.prefix, run_dir / "conf", self.generated, self.includes,
                esl_port=self.esl_port, sip_port=self.sip_port)
        return run_dir

    async def start(self) -> None:
        """Make the run dir and config, start FreeSWITCH and wait until it is ready.

        Raises SandboxUnavailable when the build is missing, FreeswitchBootError (with the log
        tail) when FreeSWITCH exits or is not ready in time.
        """
        if self._proc is not None:
            raise RuntimeError("the sandbox is already started")
        if not is_built(self.prefix):
            raise SandboxUnavailable(f"{self.prefix} is not a finished FreeSWITCH build "
                                     "(ensure_freeswitch)")
        self._run_dir = await asyncio.to_thread(self._prepare)
        started = time.monotonic()
        await self._spawn()
        ready = False
        try:
            await self._wait_ready(started + self.boot_timeout)
            ready = True
        finally:
            if not ready:
                await self.stop()
        self.boot_seconds = time.monotonic() - started
        log.info("freeswitch %s ready in %.2f s (pid %s)", self.name, self.boot_seconds,
                 self.pid)

    def _command(self) -> list[str]:
        d = self.run_dir
        argv = [str(self.prefix / "bin" / "freeswitch"), "-nf", "-nc", "-nonat", "-nonatmap",
                "-conf", str(d / "conf"), "-log", str(d / "log"), "-db", str(d / "db"),
                "-run", str(d / "run"), "-temp", str(d / "temp"),
                "-recordings", str(d / "recordings"), "-storage", str(d / "storage"),
                "-cache", str(d / "cache"), "-certs", str(d / "certs"),
                "-sounds", str(d / "sounds")]
        if shutil.which("setpriv") is not None:  # setpriv execs: the pid stays FreeSWITCH's
            argv = ["setpriv", "--pdeathsig", "KILL", "--", *argv]
        return argv

    async def _spawn(self) -> None:
        console = self.console_log_path.open("ab")
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *self._command(), stdin=asyncio.subprocess.DEVNULL, stdout=console,
                stderr=console, start_new_session=True)
        finally:
            console.close()

    async def _wait_ready(self, deadline: float) -> None:
        """Poll until ``status`` says ready, the last module is loaded and sofia runs: the
        event socket answers while later modules are still loading."""
        checks = (("status", "is ready"), (f"module_exists {LAST_MODULE}", "true"),
                  ("sofia status", "RUNNING"))
        pending = list(checks)
        while pending:
            assert self._proc is not None
            if self._proc.returncode is not None:
                raise FreeswitchBootError(
                    f"freeswitch {self.name} exited with code {self._proc.returncode} "
                    "during start-up", _tail(self.console_log_path))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise FreeswitchBootError(
                    f"freeswitch {self.name} not ready after {self.boot_timeout:.0f} s "
                    f"(waiting for {pending[0][0]!r})", _tail(self.console_log_path))
            command, expected = pending[0]
            rc, out = await self._fs_cli(command, limit_s=min(remaining, 5.0))
            if rc == 0 and expected in out:
                pending.pop(0)
                continue
            await asyncio.sleep(0.05)

    async def _fs_cli(self, command: str, *, limit_s: float) -> tuple[int, str]:
        proc = await asyncio.create_subprocess_exec(
            str(self.prefix / "bin" / "fs_cli"), "-H", self.esl_host, "-P", str(self.esl_port),
            "-p", self.esl_password, "-T", str(_ms(min(limit_s, 2.0))), "-t", str(_ms(limit_s)),
            "-x", command,
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT)
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), limit_s + 1.0)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise
        assert proc.returncode is not None
        return proc.returncode, out.decode("utf-8", errors="replace")

    async def api(self, command: str, *, limit_s: float = 10.0) -> str:
        """Run one API command (``fs_cli -x``) and return its output.

        Raises FreeswitchCommandError when it cannot be run (FreeSWITCH down, password refused);
        a command FreeSWITCH rejects still returns its text (``-ERR ...``).
        """
        if self._proc is None or self._proc.returncode is not None:
            raise FreeswitchCommandError(f"freeswitch {self.name} is not running")
        rc, out = await self._fs_cli(command, limit_s=limit_s)
        if rc != 0:
            raise FreeswitchCommandError(f"fs_cli -x {command!r} exited {rc}: {out.strip()}")
        return out

    async def restart(self, *, crash: bool = False) -> None:
        """Stop FreeSWITCH and start it again on the same run dir, config and ports: what a
        PBX restart looks like to the controller.  ``crash``: SIGKILL instead of an orderly
        shutdown, so FreeSWITCH writes no CDR and sends no hang-up events for its calls."""
        if crash and self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()
            await self._proc.wait()
        await self._stop_process()
        started = time.monotonic()
        await self._spawn()
        await self._wait_ready(started + self.boot_timeout)
        log.info("freeswitch %s restarted in %.2f s", self.name, time.monotonic() - started)

    async def stop(self) -> None:
        """Stop the FreeSWITCH this sandbox started and remove its run dir.

        An orderly shutdown takes ~5 s (FreeSWITCH hangs up its calls, writes their CDRs and
        its logs' last lines, unloads every module: bench/README.md), and all it writes goes
        to the run dir, removed next: so unless ``keep_run_dir`` keeps that for someone to
        read, FreeSWITCH is killed at once.  Whoever reads what it writes while it runs reads
        it before stopping it (the controller, the tests' observers are closed first)."""
        await self._stop_process(orderly=self.keep_run_dir)
        if self._run_dir is not None and not self.keep_run_dir:
            await asyncio.to_thread(shutil.rmtree, self._run_dir, True)

    async def _stop_process(self, *, orderly: bool = True) -> None:
        """``orderly``: ``fsctl shutdown`` (FreeSWITCH hangs up its calls, writes its CDRs),
        then SIGTERM, then SIGKILL, each with a deadline; else SIGKILL at once.  Only this
        sandbox's own pid is signalled."""
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        if not orderly:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            return
        with contextlib.suppress(TimeoutError, OSError):
            await self._fs_cli("fsctl shutdown", limit_s=3.0)
        for escalate in (proc.terminate, proc.kill):
            try:
                await asyncio.wait_for(proc.wait(), self.stop_timeout)
                return
            except TimeoutError:
                log.warning("freeswitch %s did not stop; signalling pid %s", self.name, proc.pid)
                with contextlib.suppress(ProcessLookupError):
                    escalate()
        await proc.wait()
