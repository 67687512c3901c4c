"""A real FreeSWITCH 1.10.12 for the Event Socket smoke tests, on free loopback ports.

Minimal on purpose (the sandbox's FreeSWITCH provisioning will replace it): the cached build
(the one the FreeSWITCH build script leaves under ``/var/cache``, or
``$CLINICALL_FREESWITCH_PREFIX``), its vanilla sample config copied into a temporary
directory with the event socket on 127.0.0.1 and a random password, and mod_sofia left out
(the tests place loopback calls only, so no SIP port is opened).  Started in the foreground,
stopped by its own pid, its directory removed.

``find_prefix`` returns None with a reason when there is no build; a build still running is
waited for through its lock file.
"""

from __future__ import annotations

import fcntl
import os
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PREFIX_ENV = "CLINICALL_FREESWITCH_PREFIX"
CACHE = Path("/var/cache")
PREFIX_GLOB = "freeswitch-1.10.12-*"
STAMP = ".freeswitch-build-complete"
LAST_MODULE = "mod_say_ru"  # the last module the sample modules.conf.xml loads
START_TIMEOUT_S = 60.0


def find_prefix() -> tuple[Path | None, str]:
    """The build's prefix, or None and why there is none."""
    configured = os.environ.get(PREFIX_ENV)
    candidates = [Path(configured)] if configured else sorted(CACHE.glob(PREFIX_GLOB))
    candidates = [c for c in candidates if c.is_dir()]
    if not candidates:
        where = configured or str(CACHE / PREFIX_GLOB)
        return None, f"no FreeSWITCH build at {where} (run the FreeSWITCH build script)"
    prefix = candidates[-1]
    lock = prefix.with_name(prefix.name + ".lock")
    if not (prefix / STAMP).exists() and lock.exists():
        with lock.open() as held:  # the build holds it exclusively while it runs
            fcntl.flock(held, fcntl.LOCK_SH)
            fcntl.flock(held, fcntl.LOCK_UN)
    if not (prefix / STAMP).exists():
        return None, f"the FreeSWITCH build at {prefix} is incomplete (no {STAMP})"
    return prefix, ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _edit(path: Path, pattern: str, replacement: str) -> None:
    text, count = re.subn(pattern, replacement, path.read_text(), count=1)
    if not count:
        raise RuntimeError(f"{path.name}: {pattern!r} not found")
    path.write_text(text)


class FreeswitchInstance:
    """``start()`` then ``esl_port`` / ``password``; ``stop()`` ends the process it started."""

    def __init__(self, prefix: Path) -> None:
        self.prefix = prefix
        self.esl_port = free_port()
        self.password = "clinicall-" + secrets.token_hex(6)
        self.root = Path(tempfile.mkdtemp(prefix="clinicall-fs-"))
        self._process: subprocess.Popen[bytes] | None = None

    def _configure(self) -> Path:
        conf = self.root / "conf"
        shutil.copytree(self.prefix / "conf", conf)
        socket_conf = conf / "autoload_configs" / "event_socket.conf.xml"
        _edit(socket_conf, r'name="listen-ip" value="[^"]*"', 'name="listen-ip" value="127.0.0.1"')
        _edit(socket_conf, r'name="listen-port" value="[^"]*"',
              f'name="listen-port" value="{self.esl_port}"')  # fmt: skip
        _edit(socket_conf, r'name="password" value="[^"]*"',
              f'name="password" value="{self.password}"')  # fmt: skip
        variables = conf / "vars.xml"
        _edit(variables, r"<include>", '<include>\n  <X-PRE-PROCESS cmd="set" '
              'data="local_ip_v4=127.0.0.1"/>')  # fmt: skip
        # The sample dialplan waits 10 s on every call while the default password is 1234.
        _edit(variables, r'data="default_password=1234"',
              f'data="default_password={self.password}"')  # fmt: skip
        modules = conf / "autoload_configs" / "modules.conf.xml"
        _edit(modules, r'\s*<load module="mod_sofia"/>', "")
        return conf

    def start(self) -> None:
        conf = self._configure()
        dirs = {}
        for name in ("log", "db", "run", "temp", "recordings", "storage", "cache", "certs"):
            dirs[name] = self.root / name
            dirs[name].mkdir()
        command = [str(self.prefix / "bin" / "freeswitch"), "-nf", "-nc", "-nonat",
                   "-nonatmap", "-conf", str(conf)]  # fmt: skip
        for name, path in dirs.items():
            command += [f"-{name}", str(path)]
        for pem in ("dtls-srtp.pem", "wss.pem"):  # made at build time; a new pair costs seconds
            if (self.prefix / "certs" / pem).exists():
                shutil.copy(self.prefix / "certs" / pem, dirs["certs"])
        with (self.root / "stdout.log").open("wb") as out:
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        """Until the event socket answers and the last module is loaded (``status`` says
        ready while modules are still loading).  Polled: a process outside gives no signal."""
        deadline = time.monotonic() + START_TIMEOUT_S
        last = "not tried"
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"FreeSWITCH exited with {self._process.returncode}; "
                                   f"see {self.root / 'stdout.log'}")  # fmt: skip
            try:
                if self._api(f"module_exists {LAST_MODULE}").strip() == "true":
                    return
                last = f"{LAST_MODULE} not loaded yet"
            except OSError as exc:
                last = str(exc)
            time.sleep(0.25)
        raise TimeoutError(f"FreeSWITCH not ready within {START_TIMEOUT_S:g} s: {last}")

    def _api(self, command: str) -> str:
        """One blocking api command on a fresh connection (start-up checks only)."""
        with socket.create_connection(("127.0.0.1", self.esl_port), timeout=5) as link:
            data = b""

            def until(marker: bytes) -> bytes:
                nonlocal data
                while marker not in data:
                    chunk = link.recv(65536)
                    if not chunk:
                        raise ConnectionError("the event socket closed")
                    data += chunk
                head, _, data = data.partition(marker)
                return head

            until(b"\n\n")
            link.sendall(f"auth {self.password}\n\n".encode())
            if b"+OK" not in until(b"\n\n"):
                raise ConnectionError("the event socket refused the password")
            link.sendall(f"api {command}\n\n".encode())
            head = until(b"\n\n").decode()
            length = int(re.search(r"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
            while len(data) < length:
                chunk = link.recv(65536)
                if not chunk:
                    raise ConnectionError("the event socket closed")
                data += chunk
            return data[:length].decode()

    def stop(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()  # the pid we started, nothing else
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.root, ignore_errors=True)
