"""Ports handed to engines are claimed machine-wide, so parallel test workers (or the demo
beside a test run) are never handed the same port between picking it and binding it."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

import pytest

from clinicall.sandbox import ports


@pytest.fixture
def claims(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    return tmp_path / ports.CLAIMS_DIR


def test_every_port_handed_out_is_claimed_and_a_claimed_one_is_refused(claims: Path) -> None:
    picked = [*ports.free_ports(2), ports.free_port(socket.SOCK_DGRAM),
              ports.free_tcp_udp_port(), *ports.EnginePorts.pick().__dict__.values()]
    run = ports.free_port_run(4)
    picked += range(run, run + 4)
    assert len(set(picked)) == len(picked)
    assert {int(p.name) for p in claims.iterdir() if p.name.isdigit()} == set(picked)
    assert not ports._claim(claims, [picked[0]])  # another process's pick, still fresh
    assert not ports._claim(claims, [65000, picked[1]])  # all or none
    assert not (claims / "65000").exists()


def test_a_lapsed_claim_is_cleared_and_the_port_may_be_handed_out_again(claims: Path) -> None:
    [port] = ports.free_ports(1)
    lapsed = time.time() - ports.CLAIM_S - 1
    os.utime(claims / str(port), (lapsed, lapsed))
    (claims / "65001").touch()
    os.utime(claims / "65001", (lapsed, lapsed))
    assert ports._claim(claims, [port])
    assert (claims / str(port)).stat().st_mtime > lapsed
    assert not (claims / "65001").exists()


def test_without_a_usable_registry_the_kernels_pick_is_used(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    (tmp_path / "file").write_text("")
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "file"))  # no folder can go there
    port = ports.free_port()
    with socket.socket() as sock:
        sock.bind((ports.LOOPBACK, port))
