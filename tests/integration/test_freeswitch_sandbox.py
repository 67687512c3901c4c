"""The generated FreeSWITCH config on a real FreeSWITCH 1.10.12: it loads, mod_callcenter holds
the clinic's queues, agents and tiers, the event socket takes only the config's password and
everything listens on loopback, a call to the clinic number reaches the controller's outbound
socket, and without the controller the call waits in the fallback queue
(``callcenter_config queue list members``); a built prompt plays from FreeSWITCH's sound tree;
an answered queue call is recorded; every clinic call leaves its CDR line; a sandbox that keeps
its run dir stops in order (a call still up gets its CDR line), one that removes it is killed.

The "controller" here is a plain asyncio TCP listener on the configured socket port: the
Event Socket client itself is tested in the FreeSWITCH adapter's own tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import ipaddress
import os
import shutil
import time
import wave
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

import pytest

from clinicall.agi_scripts import variables as v
from clinicall.freeswitch_config.accounting import ACCOUNT, FIELDS
from clinicall.freeswitch_config.callcenter import queue_name, strategy
from clinicall.freeswitch_config.includes import DEFAULT_INCLUDE_DIR, Include, include_line
from clinicall.ivr.prompts import PromptText, prompt_name
from clinicall.prompt_build import build_prompts
from clinicall.sandbox.errors import FreeswitchCommandError
from clinicall.sandbox.freeswitch import FreeswitchSandbox
from clinicall.settings import ClinicConfig

from .freeswitch_common import FreeswitchFactory

PATIENT = "0501234567"


def rows(table: str) -> list[dict[str, str]]:
    """``callcenter_config ... list`` output (a ``|`` table, then ``+OK``) as dicts."""
    lines = [line for line in table.strip().splitlines() if line and line != "+OK"]
    if not lines:
        return []
    header = lines[0].split("|")
    return [dict(zip(header, line.split("|"), strict=True)) for line in lines[1:]]


async def until(probe: Callable[[], Awaitable[str]], predicate: Callable[[str], bool],
                *, within: float = 10.0) -> str:
    """Poll FreeSWITCH (which has no way to notify fs_cli) until ``predicate`` holds."""
    deadline = time.monotonic() + within
    while True:
        out = await probe()
        if predicate(out):
            return out
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within} s; last output:\n{out}")
        await asyncio.sleep(0.1)


def call_clinic(config: ClinicConfig, caller: str = PATIENT) -> str:
    """A loopback call from ``caller`` to the clinic's first number, arriving in ``public``
    as a trunk's call does."""
    number = config.numbers[0].number
    return f"originate {{origination_caller_id_number={caller}}}loopback/{number}/public &park"


async def log_out_everyone(fs: FreeswitchSandbox, config: ClinicConfig) -> None:
    """Nobody can answer: the caller stays a member of the queue, unanswered."""
    for op in config.operators:
        out = await fs.api(f"callcenter_config agent set status {op.id} 'Logged Out'")
        assert out.strip().startswith("+OK"), out


#: A member no operator has answered: ``Waiting``, or ``Trying`` while mod_callcenter looks for
#: an agent (a ring-all queue shows ``Trying`` with ``serving_agent=ring-all`` even when every
#: agent is logged out).
UNANSWERED = {"Waiting", "Trying"}


def waiting_in(queue: str, caller: str) -> Callable[[str], bool]:
    def check(table: str) -> bool:
        return any(r["queue"] == queue and r["cid_number"] == caller
                   and r["state"] in UNANSWERED and r["bridge_epoch"] == "0"
                   for r in rows(table))

    return check


async def test_generated_config_loads_queues_agents_and_tiers(
        make_freeswitch: FreeswitchFactory) -> None:
    fs, config = make_freeswitch(name="load")
    async with fs:
        queues = {r["name"]: r for r in rows(await fs.api("callcenter_config queue list"))}
        for qid, queue in config.queues.items():
            assert queues[queue_name(qid)]["strategy"] == strategy(queue)
            assert queues[queue_name(qid)]["max_wait_time"] == str(queue.max_wait_s)
        assert "support@default" in queues  # the administrator's own queue is still there
        agents = {r["name"]: r for r in rows(await fs.api("callcenter_config agent list"))}
        assert set(agents) == {op.id for op in config.operators}
        assert all(a["status"] == "Available" for a in agents.values())
        tiers = {(r["agent"], r["queue"], r["level"])
                 for r in rows(await fs.api("callcenter_config tier list"))}
        assert tiers == {(op.id, queue_name(qid), str(penalty + 1))
                         for op in config.operators for qid, penalty in op.queues.items()}


def bound_addresses(pid: int) -> set[tuple[str, str, int]]:
    """(protocol, address, port) of every TCP listener and UDP socket the process holds, from
    /proc: its socket inodes matched against the kernel's socket tables."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    found = set()
    for proto in ("tcp", "tcp6", "udp", "udp6"):
        for line in Path(f"/proc/{pid}/net/{proto}").read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if inode not in inodes or (proto.startswith("tcp") and state != "0A"):
                continue
            address_hex, port_hex = local.split(":")
            raw = bytes.fromhex(address_hex)
            # /proc writes each 32-bit word in host (little-endian) order
            packed = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
            found.add((proto, str(ipaddress.ip_address(packed)), int(port_hex, 16)))
    return found


async def test_it_listens_on_loopback_only_and_stops_by_its_pid(
        make_freeswitch: FreeswitchFactory) -> None:
    fs, _ = make_freeswitch(name="loopback")
    async with fs:
        pid = fs.pid
        assert pid is not None
        bound = bound_addresses(pid)
        assert ("tcp", "127.0.0.1", fs.esl_port) in bound
        assert ("udp", "127.0.0.1", fs.sip_port) in bound
        assert {address for _, address, _ in bound} <= {"127.0.0.1", "::1"}, bound
        run_dir = fs.run_dir
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not run_dir.exists()


async def test_a_kept_run_dir_gets_the_orderly_stop_and_the_cdr_of_a_call_still_up(
        make_freeswitch: FreeswitchFactory) -> None:
    """With ``keep_run_dir`` the stop is FreeSWITCH's orderly shutdown: the call still waiting
    in the fallback queue is hung up and its CDR line written, for whoever reads the run dir
    afterwards (without it the run dir goes and FreeSWITCH is killed at once: the test above
    sees its pid gone and the run dir removed)."""
    fs, config = make_freeswitch(name="kept", keep_run_dir=True)
    fallback = queue_name(config.routes[config.ivr.fallback_route].queue)
    async with fs:
        run_dir, cdr = fs.run_dir, fs.log_dir / "cdr-csv" / f"{ACCOUNT}.csv"
        await log_out_everyone(fs, config)
        assert (await fs.api(call_clinic(config))).startswith("+OK")
        await until(lambda: fs.api(f"callcenter_config queue list members {fallback}"),
                    waiting_in(fallback, PATIENT))
        assert not cdr.exists()  # the call is still up
    try:
        (row,) = [dict(zip(FIELDS, r, strict=True))
                  for r in csv.reader(cdr.read_text().splitlines())]  # fmt: skip
        assert row["caller_id_number"] == PATIENT
        assert row["hangup_cause"] == "SYSTEM_SHUTDOWN", row
    finally:
        shutil.rmtree(run_dir)


async def test_event_socket_takes_the_configs_password_only(
        make_freeswitch: FreeswitchFactory) -> None:
    fs, _ = make_freeswitch(name="esl")
    async with fs:
        assert "is ready" in await fs.api("status")
        real = fs.esl_password
        for wrong in ("ClueCon", "not-the-password"):
            fs.esl_password = wrong
            with pytest.raises(FreeswitchCommandError):
                await fs.api("status", limit_s=3.0)
        fs.esl_password = real
        assert "is ready" in await fs.api("status")


async def test_call_reaches_the_outbound_socket_then_the_fallback_queue(
        make_freeswitch: FreeswitchFactory) -> None:
    fs, config = make_freeswitch(name="socket")
    channel_data: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def controller(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"connect\n\n")
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\n\n"), 10)
        channel_data.set_result(head.decode("utf-8", "replace"))
        writer.close()  # the controller goes away mid-call
        await writer.wait_closed()

    assert fs.outbound_port is not None
    server = await asyncio.start_server(controller, "127.0.0.1", fs.outbound_port)
    async with server, fs:
        await log_out_everyone(fs, config)
        assert (await fs.api(call_clinic(config))).startswith("+OK")
        head = await asyncio.wait_for(channel_data, 10)
        fields = dict(line.split(": ", 1) for line in head.strip().splitlines())
        assert fields["Caller-Caller-ID-Number"] == PATIENT
        assert unquote(fields["Caller-Destination-Number"]) == config.numbers[0].number
        assert fields["Caller-Context"] == "clinicall"
        # socket_resume: the call goes on to the fallback queue rather than being hung up
        fallback = queue_name(config.routes[config.ivr.fallback_route].queue)
        await until(lambda: fs.api(f"callcenter_config queue list members {fallback}"),
                    waiting_in(fallback, PATIENT))


async def read_message(reader: asyncio.StreamReader) -> tuple[dict[str, str], bytes]:
    """One Event Socket message: its header block, then Content-Length bytes of body."""
    head = (await reader.readuntil(b"\n\n")).decode("utf-8", "replace")
    headers = dict(line.split(": ", 1) for line in head.strip().splitlines())
    length = int(headers.get("Content-Length", "0"))
    return headers, await reader.readexactly(length) if length else b""


def event_fields(body: bytes) -> dict[str, str]:
    """A ``text/event-plain`` body: URL-encoded ``Name: value`` lines."""
    head = body.decode("utf-8", "replace").split("\n\n", 1)[0]
    return {k: unquote(v) for k, v in (line.split(": ", 1) for line in head.splitlines())}


async def test_a_built_prompt_plays_from_freeswitchs_sound_tree(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    fs, config = make_freeswitch(name="prompt")
    prompt = PromptText(key="greeting", language="uk", text="Вітаємо в клініці")
    played: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()

    async def controller(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"connect\n\n")
        await read_message(reader)
        writer.write(b"myevents\n\n")
        await read_message(reader)
        file = "${sounds_dir}/" + prompt_name(prompt.language, prompt.key) + ".wav"
        writer.write(("sendmsg\ncall-command: execute\nexecute-app-name: playback\n"
                      f"execute-app-arg: {file}\nEvent-UUID: clinicall-test-1\n\n").encode())
        while not played.done():
            headers, body = await read_message(reader)
            if headers.get("Content-Type") != "text/event-plain":
                continue
            event = event_fields(body)
            if (event.get("Event-Name") == "CHANNEL_EXECUTE_COMPLETE"
                    and event.get("Application-UUID") == "clinicall-test-1"):
                played.set_result(event)
        writer.close()
        await writer.wait_closed()

    assert fs.outbound_port is not None
    server = await asyncio.start_server(controller, "127.0.0.1", fs.outbound_port)
    async with server, fs:
        (path,) = await build_prompts([prompt], fs.sounds_dir, cache_dir=tmp_path)
        assert path == fs.sounds_dir / "clinicall" / "uk" / "greeting.wav"
        assert (await fs.api(call_clinic(config))).startswith("+OK")
        event = await asyncio.wait_for(played, 20)
    assert event["Application"] == "playback"
    assert event["Application-Response"] == "FILE PLAYED"
    assert int(event["variable_playback_samples"]) > 8000  # more than a second at 8 kHz


async def test_without_the_controller_the_call_waits_in_the_fallback_queue(
        make_freeswitch: FreeswitchFactory) -> None:
    fs, config = make_freeswitch(name="fallback")  # nothing listens on fs.outbound_port
    fallback = queue_name(config.routes[config.ivr.fallback_route].queue)
    async with fs:
        await log_out_everyone(fs, config)
        assert (await fs.api(call_clinic(config))).startswith("+OK")
        table = await until(lambda: fs.api(f"callcenter_config queue list members {fallback}"),
                            waiting_in(fallback, PATIENT))
        assert len(rows(table)) == 1
        others = [queue_name(q) for q in config.queues if queue_name(q) != fallback]
        for other in others:
            assert rows(await fs.api(f"callcenter_config queue list members {other}")) == []


async def test_a_clinic_call_leaves_its_cdr_line_with_the_queue_and_ivr_facts(
        make_freeswitch: FreeswitchFactory) -> None:
    fs, config = make_freeswitch(name="cdr")  # no controller: the fallback path
    fallback = queue_name(config.routes[config.ivr.fallback_route].queue)
    async with fs:
        await log_out_everyone(fs, config)
        assert (await fs.api(call_clinic(config))).startswith("+OK")
        await until(lambda: fs.api(f"callcenter_config queue list members {fallback}"),
                    waiting_in(fallback, PATIENT))
        await fs.api("hupall NORMAL_CLEARING")
        cdr = fs.log_dir / "cdr-csv" / f"{ACCOUNT}.csv"

        async def lines() -> str:
            return await asyncio.to_thread(cdr.read_text) if cdr.exists() else ""

        text = await until(lines, lambda s: s.endswith("\n"))
    (row,) = [dict(zip(FIELDS, r, strict=True)) for r in csv.reader(text.splitlines())]
    assert row["caller_id_number"] == PATIENT
    assert row["CLINICALL_DIALLED"] == config.numbers[0].number
    assert row[v.CLINICALL_OUTCOME] == "fallback"
    assert row[v.CLINICALL_ROUTE] == config.ivr.fallback_route
    assert row["cc_queue"] == fallback
    assert row["cc_cause"] == "cancel"  # lower case here; the event says "CC-Cause: Cancel"
    assert int(row["cc_queue_joined_epoch"]) >= int(row["start_epoch"]) > 0
    assert row["cc_queue_answered_epoch"] == ""
    assert row["hangup_cause"] == "NORMAL_CLEARING", row


#: A simulated operator for the tests (not generated): the agent's loopback leg is bridged to an
#: echo, so mod_callcenter sees a real channel answer (it hangs up a loopback agent that only
#: answers).
SIM_CONTEXT = """<include>
  <context name="clinicall_sim">
    <extension name="operator">
      <condition field="destination_number" expression="^operator$">
        <action application="bridge" data="loopback/9196/default"/>
      </condition>
    </extension>
  </context>
</include>
"""


SIM_OPERATOR = {
    "extra_files": {"sim_operator.xml": SIM_CONTEXT},
    "extra_includes": [Include("dialplan/public.xml", "</context>", True,
                               include_line(DEFAULT_INCLUDE_DIR, "sim_operator.xml"),
                               "after </context>")],
}


async def test_an_answered_queue_call_is_recorded_in_stereo_under_its_day_and_uuid(
        make_freeswitch: FreeswitchFactory) -> None:
    fs, config = make_freeswitch(name="record", **SIM_OPERATOR)
    fallback = queue_name(config.routes[config.ivr.fallback_route].queue)
    (answering, *others) = [op for op in config.operators
                            if config.routes[config.ivr.fallback_route].queue in op.queues]
    async with fs:
        for op in others:
            await fs.api(f"callcenter_config agent set status {op.id} 'Logged Out'")
        await fs.api(f"callcenter_config agent set contact {answering.id} "
                     "loopback/operator/clinicall_sim")
        assert (await fs.api(call_clinic(config))).startswith("+OK")

        def answered(table: str) -> bool:
            return any(r["cid_number"] == PATIENT and r["state"] == "Answered"
                       and r["serving_agent"] == answering.id for r in rows(table))

        await until(lambda: fs.api(f"callcenter_config queue list members {fallback}"),
                    answered)
        await fs.api("hupall NORMAL_CLEARING")
        cdr = fs.log_dir / "cdr-csv" / f"{ACCOUNT}.csv"

        async def lines() -> str:
            return await asyncio.to_thread(cdr.read_text) if cdr.exists() else ""

        text = await until(lines, lambda s: s.endswith("\n"))
        (row,) = [dict(zip(FIELDS, r, strict=True)) for r in csv.reader(text.splitlines())]
        assert row["cc_agent"] == answering.id
        assert row["cc_cause"] == "answered"
        assert int(row["cc_queue_answered_epoch"]) >= int(row["cc_queue_joined_epoch"])
        day = datetime.fromtimestamp(int(row["cc_queue_answered_epoch"]),
                                     config.clinic.zone).strftime("%Y/%m/%d")
        expected = fs.recordings_dir / day / f"{row['uuid']}.wav"
        assert row["cc_record_filename"] == str(expected)
        with wave.open(str(expected)) as recording:
            assert recording.getnchannels() == 2  # the caller left, the operator right
            assert recording.getnframes() > 0


async def test_crash_restart_comes_back_with_the_same_config(
        make_freeswitch: FreeswitchFactory) -> None:
    fs, config = make_freeswitch(name="crash")
    async with fs:
        first = fs.pid
        await fs.restart(crash=True)
        assert fs.pid != first
        names = {r["name"] for r in rows(await fs.api("callcenter_config queue list"))}
        assert {queue_name(q) for q in config.queues} <= names
