"""clinicall as a systemd service: readiness and stopping told over $NOTIFY_SOCKET, a clean
exit on SIGTERM, and a unit file with the directories a Debian administrator expects."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from clinicall import sdnotify
from clinicall.sandbox.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config" / "clinic.example.yaml"
UNIT = ROOT / "config" / "systemd" / "clinicall.service"


def listening(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(90)  # migrating a new store and starting every part, on a busy machine
    return sock


def test_notify_sends_one_datagram_to_the_named_socket(tmp_path: Path) -> None:
    with listening(tmp_path / "notify") as sock:
        env = {sdnotify.ENV: str(tmp_path / "notify")}
        assert sdnotify.notify("READY=1", "STATUS=up\nand more", environ=env)
        assert sock.recv(4096) == b"READY=1\nSTATUS=up and more"


def test_notify_reaches_an_abstract_socket() -> None:
    name = f"clinicall-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        assert sdnotify.notify("STOPPING=1", environ={sdnotify.ENV: "@" + name})
        assert sock.recv(64) == b"STOPPING=1"


@pytest.mark.parametrize("value", ["", "vsock:2:1234", "relative/path"])
def test_without_a_usable_socket_nothing_is_sent(value: str) -> None:
    assert sdnotify.socket_address({sdnotify.ENV: value}) is None
    assert not sdnotify.notify("READY=1", environ={sdnotify.ENV: value})


def test_a_vanished_socket_loses_the_message_quietly(tmp_path: Path) -> None:
    assert not sdnotify.notify("READY=1", environ={sdnotify.ENV: str(tmp_path / "gone")})


@pytest.mark.parametrize("loop", ["auto", "asyncio"])
def test_run_says_ready_then_stops_cleanly_on_sigterm(tmp_path: Path, loop: str) -> None:
    """The whole controller (store, AMI link, FastAGI, web console) starts, serves and stops
    on the default loop (uvloop, a dependency) and on the standard one."""
    closed, agi, web = free_port(), free_port(), free_port()
    config = tmp_path / "clinic.yaml"
    config.write_text(EXAMPLE.read_text().replace("ami_port: 5038", f"ami_port: {closed}")
                      .replace("agi_port: 4573", f"agi_port: {agi}")
                      .replace("port: 8080", f"port: {web}"))
    env = {**os.environ, sdnotify.ENV: str(tmp_path / "notify"), "PYTHONPATH": str(ROOT),
           "CLINICALL_SECRET": "s" * 40}
    with listening(tmp_path / "notify") as sock:
        proc = subprocess.Popen(
            [sys.executable, "-m", "clinicall", "run", str(config), "--allow-example-secrets",
             "--db", f"sqlite+aiosqlite:///{tmp_path / 'store.db'}", "--loop", loop],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            ready = sock.recv(4096).decode()
            assert ready.startswith("READY=1\nSTATUS=serving ")
            assert f"console http://127.0.0.1:{web}/" in ready
            with socket.create_connection(("127.0.0.1", web), timeout=5):
                pass  # READY=1 came after the console listens
            proc.send_signal(signal.SIGTERM)
            assert sock.recv(4096) == b"STOPPING=1\nSTATUS=stopping"
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert f"web console: http://127.0.0.1:{web}/" in err
    assert f"clinicall run: event loop {'uvloop' if loop == 'auto' else 'asyncio'}\n" in err


def _settings(text: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for line in text.splitlines():
        if m := re.match(r"^([A-Za-z]+)=(.*)$", line):
            found.setdefault(m.group(1), []).append(m.group(2))
    return found


def test_the_unit_is_a_notify_service_with_debian_directories() -> None:
    unit = _settings(UNIT.read_text())
    assert unit["Type"] == ["notify"]
    assert unit["ConfigurationDirectory"] == ["clinicall"]  # /etc/clinicall
    assert unit["StateDirectory"] == ["clinicall"]  # /var/lib/clinicall
    assert unit["WorkingDirectory"] == ["/var/lib/clinicall"]
    assert unit["Environment"] == ["CLINICALL_CONFIG=/etc/clinicall/clinic.yaml"]
    assert unit["StandardOutput"] == unit["StandardError"] == ["journal"]
    assert unit["KillSignal"] == ["SIGTERM"]
    assert unit["ExecStart"] == ["/opt/clinicall/bin/clinicall run"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
def test_systemd_accepts_the_unit(tmp_path: Path) -> None:
    here = Path(sys.executable).parent / "clinicall"
    copy = tmp_path / "clinicall.service"
    copy.write_text(UNIT.read_text().replace("/opt/clinicall/bin/clinicall", str(here)))
    result = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
