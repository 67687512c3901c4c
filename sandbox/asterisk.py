"""One real Asterisk 22 running in the cached Debian root, owned by an async context manager.

Asterisk runs as ``chroot ROOT asterisk -f -C <private asterisk.conf>`` inside a private mount
namespace (``unshare --mount``) in which /dev and /proc are bound into the root. The kernel drops
those mounts when the namespace's last process exits, so no mount can leak onto the host, even
if this process is killed, and concurrent sandboxes sharing one root need no reference counting.
The process is started with a parent-death signal, so a crashed test run leaves no Asterisk
behind holding its ports.

    async with AsteriskSandbox(root, conf, name="demo", ami_port=p, sip_port=q) as ast:
        print(await ast.rx("core show version"))
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from clinicall.sandbox.errors import AsteriskBootError, AsteriskCommandError, SandboxUnavailable
from clinicall.sandbox.layout import (
    PROMPT_FOLDER,
    RunLayout,
    asterisk_conf,
    create_layout,
    module_dir,
)
from clinicall.sandbox.modules import DEFAULT_LOGGER_CONF, default_modules_conf
from clinicall.sandbox.mounts import mounts_under
from clinicall.sandbox.rootfs import is_ready

log = logging.getLogger(__name__)

ASTERISK = "/usr/sbin/asterisk"
_NAMESPACE_SCRIPT = (
    'root=$1; shift; mount --rbind /dev "$root/dev" && mount --bind /proc "$root/proc" '
    '&& exec chroot "$root" "$@"'
)
"""Runs inside ``unshare --mount``: bind /dev and /proc into the root, then become Asterisk."""


def _tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:])


class AsteriskSandbox:
    """A private Asterisk instance with the given conf files; start/stop never block the loop.

    ``conf_files`` maps file names (``manager.conf``, ``extensions.conf``, ...) to their text;
    ``asterisk.conf`` is written by the sandbox, ``modules.conf`` and ``logger.conf`` get
    defaults when absent. ``ami_port``/``sip_port`` are the ports the given config binds and
    ``agi_port`` the FastAGI port its dialplan calls (exposed here; the config is not rewritten).
    """

    def __init__(
        self,
        root: Path,
        conf_files: Mapping[str, str],
        *,
        name: str,
        ami_port: int,
        sip_port: int | None = None,
        agi_port: int | None = None,
        boot_timeout: float = 30.0,
        stop_timeout: float = 10.0,
        keep_run_dir: bool = False,
    ) -> None:
        if "asterisk.conf" in conf_files:
            raise ValueError("asterisk.conf is written by the sandbox; do not pass one")
        self.root = root
        self.conf_files = dict(conf_files)
        self.name = name
        self.ami_port = ami_port
        self.sip_port = sip_port
        self.agi_port = agi_port
        self.boot_timeout = boot_timeout
        self.stop_timeout = stop_timeout
        self.keep_run_dir = keep_run_dir
        self._layout: RunLayout | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self.boot_seconds: float | None = None
        """Wall time from spawning Asterisk to ``core waitfullybooted`` returning."""

    # -- paths -----------------------------------------------------------------------------

    @property
    def layout(self) -> RunLayout:
        if self._layout is None:
            raise RuntimeError("the sandbox has not been started")
        return self._layout

    @property
    def run_dir(self) -> Path:
        return self.layout.run_dir

    @property
    def log_dir(self) -> Path:
        return self.layout.host(self.layout.dir("log"))

    @property
    def queue_log_path(self) -> Path:
        return self.log_dir / "queue_log"

    @property
    def console_log_path(self) -> Path:
        """Asterisk's own stdout/stderr (boot messages, crashes)."""
        return self.log_dir / "console.log"

    @property
    def sounds_dir(self) -> Path:
        """The instance's private ``sounds/`` (host path); language dirs inside are writable."""
        return self.layout.sounds_dir

    def prompt_dir(self, language: str | None = None) -> Path:
        """Where to drop generated prompts: ``sounds/<lang>/clinicall/`` (or ``sounds/clinicall``).

        A file ``<prompt_dir('uk')>/greeting.wav`` plays with ``Playback(clinicall/greeting)``
        on a channel whose ``CHANNEL(language)`` is ``uk``.
        """
        base = self.sounds_dir / language if language else self.sounds_dir
        folder = base / PROMPT_FOLDER
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def inner_path(self, host_path: Path) -> str:
        """The path Asterisk sees (inside the chroot) for a host path inside the root."""
        return str(self.layout.inner(host_path))

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    # -- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> AsteriskSandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def _write_config(self) -> None:
        layout = self.layout
        etc = layout.host(layout.dir("etc"))
        files = {"modules.conf": default_modules_conf(), "logger.conf": DEFAULT_LOGGER_CONF}
        files.update(self.conf_files)
        files["asterisk.conf"] = asterisk_conf(layout, module_dir(self.root))
        for filename, text in files.items():
            if "/" in filename or filename.startswith("."):
                raise ValueError(f"conf file names must be plain names, got {filename!r}")
            (etc / filename).write_text(text, encoding="utf-8")

    async def start(self) -> None:
        """Create the run dir, write the config, start Asterisk and wait until fully booted.

        Raises SandboxUnavailable when the root is not a ready sandbox root or tools are
        missing, AsteriskBootError (with the log tail) when Asterisk does not boot in time.
        """
        if self._proc is not None:
            raise RuntimeError("the sandbox is already started")
        if not is_ready(self.root):
            raise SandboxUnavailable(f"{self.root} is not a ready sandbox root (ensure_root)")
        for tool in ("unshare", "setpriv", "chroot"):
            if shutil.which(tool) is None:
                raise SandboxUnavailable(f"{tool} is missing; install util-linux/coreutils")
        self._layout = await asyncio.to_thread(create_layout, self.root, self.name)
        self._write_config()
        started = time.monotonic()
        await self._spawn()
        booted = False
        try:
            await self._wait_fully_booted(started + self.boot_timeout)
            booted = True
        finally:
            if not booted:
                await self.stop()
        self.boot_seconds = time.monotonic() - started
        log.info(
            "asterisk %s fully booted in %.2f s (pid %s)", self.name, self.boot_seconds, self.pid
        )

    async def _spawn(self) -> None:
        console = self.console_log_path.open("ab")
        try:
            self._proc = await asyncio.create_subprocess_exec(
                "setpriv",
                "--pdeathsig",
                "KILL",
                "--",
                "unshare",
                "--mount",
                "--propagation",
                "private",
                "--",
                "/bin/sh",
                "-c",
                _NAMESPACE_SCRIPT,
                "sh",
                str(self.root),
                ASTERISK,
                "-f",
                "-n",
                "-C",
                str(self.layout.conf_path),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=console,
                stderr=console,
                start_new_session=True,
            )
        finally:
            console.close()

    async def _wait_fully_booted(self, deadline: float) -> None:
        """Poll ``core waitfullybooted`` until it answers; fail fast if Asterisk exits."""
        assert self._proc is not None
        while True:
            if self._proc.returncode is not None:
                raise AsteriskBootError(
                    f"asterisk {self.name} exited with code {self._proc.returncode} during boot",
                    _tail(self.console_log_path),
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AsteriskBootError(
                    f"asterisk {self.name} not fully booted after {self.boot_timeout:.0f} s",
                    _tail(self.console_log_path),
                )
            rc, out = await self._run_rx("core waitfullybooted", limit_s=remaining)
            if rc == 0 and "fully booted" in out:  # a dying Asterisk lets rx exit 0, silent
                return
            await asyncio.sleep(0.02)

    async def _run_rx(self, command: str, *, limit_s: float) -> tuple[int, str]:
        """Run ``asterisk -rx`` in the chroot; the control socket is in the private run dir."""
        proc = await asyncio.create_subprocess_exec(
            "chroot",
            str(self.root),
            ASTERISK,
            "-C",
            str(self.layout.conf_path),
            "-rx",
            command,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        try:
            out, _ = await asyncio.wait_for(proc.communicate(), limit_s)
        except TimeoutError:
            proc.kill()
            await proc.wait()
            raise
        assert proc.returncode is not None
        return proc.returncode, out.decode("utf-8", errors="replace")

    async def rx(self, command: str, *, limit_s: float = 10.0) -> str:
        """Run one Asterisk CLI command and return its output.

        Raises AsteriskCommandError when the CLI client cannot run it (Asterisk down, socket
        missing); a command Asterisk rejects still returns its text ("No such command ...").
        """
        if self._proc is None or self._proc.returncode is not None:
            raise AsteriskCommandError(f"asterisk {self.name} is not running")
        rc, out = await self._run_rx(command, limit_s=limit_s)
        if rc != 0:
            raise AsteriskCommandError(f"asterisk -rx {command!r} exited {rc}: {out.strip()}")
        return out

    async def restart(self, *, crash: bool = False) -> None:
        """Stop Asterisk and start it again on the same run dir, config, ports and logs: what a
        PBX restart looks like to the controller (AMI drops, calls end, queue_log goes on).
        ``crash``: SIGKILL instead of an orderly stop, so Asterisk says nothing of its calls
        (no hang-ups, no queue_log lines): what a crash or a power cut looks like."""
        if crash and self._proc is not None and self._proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._proc.kill()
            await self._proc.wait()
        await self._stop_process()
        started = time.monotonic()
        await self._spawn()
        await self._wait_fully_booted(started + self.boot_timeout)
        log.info("asterisk %s restarted in %.2f s", self.name, time.monotonic() - started)

    async def stop(self) -> None:
        """Stop the Asterisk this sandbox started (SIGTERM, then SIGKILL) and clean its run dir."""
        await self._stop_process()
        if self._layout is not None and not self.keep_run_dir:
            await asyncio.to_thread(self._remove_run_dir, self._layout.run_dir)

    async def _stop_process(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), self.stop_timeout)
            except TimeoutError:
                log.warning("asterisk %s ignored SIGTERM; killing pid %s", self.name, proc.pid)
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()

    @staticmethod
    def _remove_run_dir(run_dir: Path) -> None:
        if mounts_under(run_dir):
            log.warning("not removing %s: something is mounted inside it", run_dir)
            return
        shutil.rmtree(run_dir, ignore_errors=True)
