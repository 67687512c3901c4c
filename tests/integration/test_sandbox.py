"""The sandbox: mirror discovery on text, and a real Asterisk 22 booted, driven and stopped."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Callable, Mapping
from pathlib import Path, PurePosixPath

import pytest

from clinicall.sandbox.asterisk import AsteriskSandbox
from clinicall.sandbox.errors import AsteriskBootError, AsteriskCommandError
from clinicall.sandbox.layout import resolve_in_root
from clinicall.sandbox.mirror import mirror_from_deb822, mirror_from_sources_list
from clinicall.sandbox.mounts import mount_points, mounts_under
from clinicall.sandbox.ports import EnginePorts
from clinicall.sandbox.rootfs import cache_key

AMI_USER, AMI_SECRET = "tester", "s3cret"
SandboxFactory = Callable[..., AsteriskSandbox]  # the conftest's make_asterisk

# -- pure parts -----------------------------------------------------------------------------

HOST_DEB822 = """Types: deb
# a snapshot comment
URIs: http://mirror.example/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.example/debian-security
Suites: bookworm-security
Components: main
"""


def test_deb822_main_archive_is_found_not_security() -> None:
    assert mirror_from_deb822(HOST_DEB822) == "http://mirror.example/debian"
    security_first = "\n\n".join(reversed(HOST_DEB822.split("\n\n")))
    assert mirror_from_deb822(security_first) == "http://mirror.example/debian"


def test_deb822_skips_disabled_and_source_stanzas_and_handles_crlf() -> None:
    text = (
        "Types: deb\r\nEnabled: no\r\nURIs: http://off.example/debian\r\nSuites: sid\r\n\r\n"
        "Types: deb-src\r\nURIs: http://src.example/debian\r\nSuites: sid\r\n\r\n"
        "Types: deb\r\nURIs: http://on.example/debian/\r\nSuites: sid\r\n"
    )
    assert mirror_from_deb822(text) == "http://on.example/debian"
    assert mirror_from_deb822("Types: deb\nURIs: http://ppa.example/ubuntu\nSuites: x\n") is None
    assert mirror_from_deb822("garbage\n\x00:::\n") is None


def test_one_line_sources_with_options_and_comments() -> None:
    text = (
        "# deb http://commented.example/debian sid main\n"
        "deb-src http://src.example/debian sid main\n"
        "deb [arch=amd64 signed-by=/k.gpg] http://sec.example/debian-security sid-security main\n"
        "deb [signed-by=/k.gpg] http://one.example/debian sid main # trailing\n"
    )
    assert mirror_from_sources_list(text) == "http://one.example/debian"
    assert mirror_from_sources_list("") is None


def test_mountinfo_mount_points_are_unescaped() -> None:
    text = (
        "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
        "90 27 0:6 / /srv/a\\040b/dev rw - devtmpfs devtmpfs rw\n"
    )
    assert mount_points(text) == ["/proc", "/srv/a b/dev"]


def test_cache_key_depends_on_packages_and_suite_not_order() -> None:
    assert cache_key(["a", "b"]) == cache_key(["b", "a", "a"])
    assert cache_key(["a", "b"]) != cache_key(["a", "b", "c"])
    assert cache_key(["a"], "sid") != cache_key(["a"], "trixie")


# -- a real Asterisk ------------------------------------------------------------------------


def minimal_conf(ports: EnginePorts) -> Mapping[str, str]:
    """Just enough for the tests: an AMI user and a context that answers, waits, hangs up."""
    return {
        "manager.conf": (
            f"[general]\nenabled = yes\nport = {ports.ami}\nbindaddr = 127.0.0.1\n\n"
            f"[{AMI_USER}]\nsecret = {AMI_SECRET}\nread = all\nwrite = all\n"
        ),
        "extensions.conf": (
            "[test-ctx]\n"
            "exten => s,1,Answer()\n same => n,Wait(1)\n same => n,Hangup()\n\n"
            "[prompt-ctx]\n"
            "exten => s,1,Answer()\n same => n,Set(CHANNEL(language)=uk)\n"
            " same => n,Playback(clinicall/probe)\n same => n,Hangup()\n"
        ),
    }


class AmiReader:
    """The smallest AMI client a test needs: greeting, login, read messages as dicts."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def connect(cls, port: int) -> tuple[AmiReader, str]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        greeting = (await reader.readline()).decode()
        ami = cls(reader, writer)
        writer.write(
            f"Action: Login\r\nUsername: {AMI_USER}\r\nSecret: {AMI_SECRET}\r\n\r\n".encode()
        )
        return ami, greeting

    async def message(self) -> dict[str, str]:
        block = await self.reader.readuntil(b"\r\n\r\n")
        fields = {}
        for line in block.decode().split("\r\n"):
            key, sep, value = line.partition(": ")
            if sep:
                fields[key] = value
        return fields

    async def until(self, event: str, **match: str) -> dict[str, str]:
        while True:
            msg = await self.message()
            if msg.get("Event") == event and all(
                msg.get(k, "").startswith(v) for k, v in match.items()
            ):
                return msg

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_real_asterisk_boots_answers_ami_runs_a_local_call_and_stops_clean(
    make_asterisk: SandboxFactory, asterisk_root: Path
) -> None:
    sandbox = make_asterisk(minimal_conf, name="smoke")
    async with sandbox as ast:
        pid, run_dir = ast.pid, ast.run_dir
        assert pid is not None
        print(f"\nasterisk boot (autoload minus noload): {ast.boot_seconds:.2f} s")
        version = await ast.rx("core show version")
        assert version.startswith("Asterisk 22."), version
        assert (ast.log_dir / "messages.log").exists()

        ami, greeting = await AmiReader.connect(ast.ami_port)
        try:
            assert greeting.startswith("Asterisk Call Manager/"), greeting
            login = await ami.message()
            assert login.get("Response") == "Success", login
            await ast.rx("channel originate Local/s@test-ctx/n application Wait 1")
            new = await asyncio.wait_for(ami.until("Newchannel", Channel="Local/s@test-ctx"), 10)
            await asyncio.wait_for(ami.until("Newexten", Application="Wait"), 10)
            channels = await ast.rx("core show channels concise")
            assert "Local/s@test-ctx" in channels, channels
            await asyncio.wait_for(ami.until("Hangup", Uniqueid=new["Uniqueid"]), 10)
        finally:
            await ami.close()
    assert not _alive(pid)
    assert mounts_under(asterisk_root) == []
    assert not run_dir.exists()
    with pytest.raises(AsteriskCommandError):
        await sandbox.rx("core show version")


async def test_generated_prompt_plays_in_the_channel_language(
    make_asterisk: SandboxFactory,
) -> None:
    async with make_asterisk(minimal_conf, name="prompt") as ast:
        english = resolve_in_root(ast.root, PurePosixPath("/usr/share/asterisk/sounds/en"))
        shutil.copyfile(english / "beep.gsm", ast.prompt_dir("uk") / "probe.gsm")
        ami, _ = await AmiReader.connect(ast.ami_port)
        try:
            await ami.message()
            await ast.rx("channel originate Local/s@prompt-ctx/n application Wait 1")
            new = await asyncio.wait_for(ami.until("Newchannel", Channel="Local/s@prompt-ctx"), 10)
            await asyncio.wait_for(ami.until("Hangup", Uniqueid=new["Uniqueid"]), 10)
        finally:
            await ami.close()
        log = (ast.log_dir / "messages.log").read_text()
        assert "Playing 'clinicall/probe.gsm' (language 'uk')" in log, log[-2000:]


async def test_two_sandboxes_share_one_root(make_asterisk: SandboxFactory) -> None:
    async with (
        make_asterisk(minimal_conf, name="a") as a,
        make_asterisk(minimal_conf, name="b") as b,
    ):
        assert a.run_dir != b.run_dir
        assert a.pid != b.pid
        for ast in (a, b):
            ami, greeting = await AmiReader.connect(ast.ami_port)
            await ami.close()
            assert greeting.startswith("Asterisk Call Manager/")
        await a.rx("channel originate Local/s@test-ctx/n application Wait 5")
        assert "Local/s@test-ctx" not in await b.rx("core show channels concise")


async def test_failed_boot_raises_with_the_log_tail(
    make_asterisk: SandboxFactory, asterisk_root: Path
) -> None:
    def broken(ports: EnginePorts) -> Mapping[str, str]:
        conf = dict(minimal_conf(ports))
        conf["modules.conf"] = "[modules]\nautoload = no\nrequire => res_no_such_module.so\n"
        return conf

    sandbox = make_asterisk(broken, name="broken")
    with pytest.raises(AsteriskBootError) as failure:
        await sandbox.start()
    assert "res_no_such_module" in failure.value.log_tail
    assert sandbox.pid is None
    assert mounts_under(asterisk_root) == []


def test_sandbox_refuses_a_foreign_asterisk_conf(asterisk_root: Path) -> None:
    with pytest.raises(ValueError, match=r"asterisk\.conf"):
        AsteriskSandbox(asterisk_root, {"asterisk.conf": ""}, name="x", ami_port=1)
