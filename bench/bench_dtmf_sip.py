"""DTMF → next prompt with real SIP patients on the real Asterisk, quiet and under a FastAGI flood.

    PYTHONPATH=. .venv/bin/python bench/bench_dtmf_sip.py [--calls 200] [--rate 5] \
        [--stores postgresql,sqlite,none] [--modes quiet,flood] [--hold-ms 20000] [--work DIR]

The sandbox Asterisk 22 (the integration tests' root) runs the generated config with one
IP-matched trunk; SIPp places ``--calls`` calls through it at ``--rate`` calls per second, each
a real SIP dialog with RTP whose keys are RFC 4733 events (the pcaps SIPp ships): on the
clinic's first number (no language fixed) a patient presses 1 (Ukrainian), 2 (information), 3
(services), then listens ``--hold-ms`` and hangs up.  The controller
is a real ``clinicall run`` process, as deployed: FastAGI IVR, AMI link, the call account
and the reports' hourly sums, on a fresh store per run (PostgreSQL from ``tests/pg.py``:
loopback, fsync off; or SQLite in WAL mode).

Latency is read from Asterisk's own event times (AMI ``Timestamp``) on a monitoring link of
the bench's (an AMI user of its own, added to the sandbox's manager.conf, that reads the
``dtmf`` class besides ``agi`` and ``call``):

* ``key → prompt``: from the ``DTMFEnd`` of a key received on the patient's channel to the
  ``AGIExecStart`` of the next prompt (``STREAM FILE``/``GET DATA``) on that channel, for keys
  that a reading command took (its ``AGIExecEnd`` came between them);
* ``read → prompt``: from that ``AGIExecEnd`` (the end of the command that read the key) to
  the same prompt start: the controller's round trip as Asterisk sees it (reply in, the menu
  decided, the variables set, the next command out), as in ``bench_ivr_engines.py``.

``flood``: meanwhile a hostile peer in its own process, from an allowed address, floods the
FastAGI port with junk connections, ``--flood-peers`` at a time, as fast as it can: random
bytes (every other one after a whole environment naming the IVR's script, so that it starts
an IVR session which then reads junk as the reply to its first command), endless headers,
and connect-and-close.  The flood runs ``--flood-nice`` steps below the bench (a peer on
another machine takes none of this machine's cores; 0 gives it an equal share).

CPU per call (user + system) is printed beside the rate: the controller's process and
Asterisk's process tree (SIPp and the flood are neither).  Not a test: nothing asserts on time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import re
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
for entry in (str(REPO), str(BENCH), str(REPO / "tests")):
    if entry not in sys.path:
        sys.path.insert(0, entry)

from bench_ami_events import tree_cpu_s  # noqa: E402
from bench_asterisk_cpu import ControllerProcess  # noqa: E402
from bench_ivr_engines import controller, write_controller_config  # noqa: E402
from integration import sipp  # noqa: E402

from clinicall.controller.asterisk.ami.client import AMIClient  # noqa: E402
from clinicall.controller.asterisk.ami.message import Message  # noqa: E402
from clinicall.controller.freeswitch.esl.client import EslClient  # noqa: E402
from clinicall.controller.freeswitch.esl.message import EslEvent  # noqa: E402
from clinicall.sandbox.freeswitch_build import find_built  # noqa: E402
from clinicall.sandbox.ports import EnginePorts, free_ports  # noqa: E402
from clinicall.settings.loader import load_config  # noqa: E402
from clinicall.settings.models import ClinicConfig, RtpPorts, Sip, Trunk  # noqa: E402
from clinicall.simclinic.calltrace import played_prompt  # noqa: E402
from clinicall.simclinic.clinic import SimulatedClinic  # noqa: E402
from clinicall.simclinic.freeswitch import FreeswitchClinic  # noqa: E402

EXAMPLE = REPO / "config" / "clinic.example.yaml"
FREESWITCH_EXAMPLE = REPO / "config" / "clinic.freeswitch.example.yaml"
TRUNK_IP = "127.0.0.2"  # the patients' provider: SIPp sends from here
#: Ukrainian, information, services.  Rising digits: SIPp's RFC 4733 pcaps share one SSRC and
#: their timestamps rise with the digit (1 < 2 < 3), and Asterisk drops an event whose
#: timestamp is not newer than the last one's (a "3" then a "2" loses the "2").
KEYS = "123"
#: The bench's own AMI user: the DTMF events (class ``dtmf``) besides the AGI ones.
BENCH_USER, BENCH_SECRET = "clinicall-bench", "bench-only-secret"
MANAGER_CONF = f"""[general]
#include clinicall_manager.conf

[{BENCH_USER}]
secret = {BENCH_SECRET}
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.1/255.255.255.255
read = dtmf,agi,call
write = system
"""
_BYE = """BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Patient" <sip:{caller}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
[last_To:]
Call-ID: [call_id]
CSeq: 2 BYE
Contact: <sip:{caller}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0

"""
READING = re.compile(r'^(GET DATA|STREAM FILE "[^"]*" "[0-9*#]+")', re.IGNORECASE)


# ---- the latencies, from Asterisk's own event times ------------------------------------


@dataclass
class KeyLatencies:
    """Per channel: the last key received, the end of the command that read it, and the
    samples to the next prompt's start (ms)."""

    key_at: dict[str, float] = field(default_factory=dict)
    read_at: dict[str, float] = field(default_factory=dict)
    key_samples: list[float] = field(default_factory=list)
    read_samples: list[float] = field(default_factory=list)
    keys_received: int = 0
    trace: list[str] | None = None  # --work: the events read, for the log

    def key(self, channel: str, at: float) -> None:
        self.keys_received += 1
        self.key_at[channel] = at

    def read_ended(self, channel: str, at: float) -> None:
        if channel in self.key_at:
            self.read_at[channel] = at

    def prompt_started(self, channel: str, at: float) -> None:
        read = self.read_at.pop(channel, None)
        key = self.key_at.pop(channel, None)
        if read is not None and key is not None:
            self.read_samples.append((at - read) * 1000)
            self.key_samples.append((at - key) * 1000)

    def gone(self, channel: str) -> None:
        self.key_at.pop(channel, None)
        self.read_at.pop(channel, None)

    def __call__(self, m: Message) -> None:
        """Asterisk's events (AMI ``Timestamp``: manager.conf's ``timestampevents``)."""
        event, channel = m.get("Event"), m.get("Channel", "")
        if not channel.startswith("PJSIP/"):
            return
        if self.trace is not None and event in ("DTMFEnd", "AGIExecStart", "AGIExecEnd"):
            self.trace.append(f"{m.get('Timestamp')} {channel} {event} {m.get('Digit', '')}"
                              f"{m.get('Command', '')} {m.get('Result', '')}")
        at = float(m.get("Timestamp", "0"))
        if event == "DTMFEnd" and m.get("Direction") == "Received":
            self.key(channel, at)
        elif event == "AGIExecEnd" and READING.match(m.get("Command", "")):
            self.read_ended(channel, at)
        elif event == "AGIExecStart" and played_prompt(m) is not None:
            self.prompt_started(channel, at)
        elif event == "Hangup":
            self.gone(channel)

    def esl(self, e: EslEvent) -> None:
        """FreeSWITCH's events (``Event-Date-Timestamp``, microseconds): ``DTMF``, then the
        ``CHANNEL_EXECUTE_COMPLETE`` of the application that read it (``play_and_get_digits``,
        or a ``playback`` with terminators), then the next prompt's ``CHANNEL_EXECUTE``."""
        if e.get("Call-Direction") != "inbound":
            return  # the patients' legs only (not the simulated operators')
        channel, app = e.unique_id, e.get("Application", "")
        at = int(e.get("Event-Date-Timestamp", "0")) / 1e6
        if self.trace is not None:
            self.trace.append(f"{at:.6f} {channel} {e.name} {e.get('DTMF-Digit', '')}{app}")
        if e.name == "DTMF":
            self.key(channel, at)
        elif e.name == "CHANNEL_EXECUTE_COMPLETE" and (app == "play_and_get_digits" or (
                app == "playback" and e.get("variable_playback_terminators", "none") != "none")):
            self.read_ended(channel, at)
        elif e.name == "CHANNEL_EXECUTE" and app in ("playback", "play_and_get_digits"):
            self.prompt_started(channel, at)
        elif e.name == "CHANNEL_HANGUP":
            self.gone(channel)


def pct(values: list[float], q: float) -> float:
    """Nearest-rank q-quantile (NaN when empty)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


# ---- the hostile peer (its own process) ------------------------------------------------


def environment(tag: str) -> bytes:
    env = {"network": "yes", "network_script": "ivr", "request": "agi://127.0.0.1/ivr",
           "channel": f"PJSIP/x-{tag}",
           "uniqueid": tag, "callerid": "666", "arg_1": tag}  # fmt: skip
    return b"".join(f"agi_{k}: {v}\n".encode() for k, v in env.items()) + b"\n"


@dataclass
class FloodCount:
    connections: int = 0
    bytes_sent: int = 0


async def _junk_peer(port: int, kind: str, rng: random.Random, count: FloodCount) -> None:
    """One attacker: a new connection each time the last one ends, forever."""
    for n in itertools.count():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.01)  # the server's backlog is full: try again
            continue
        count.connections += 1
        try:
            if kind == "random":
                if n % 2:
                    writer.write(environment(f"666.{id(rng)}.{n}"))
                    await reader.readline()
                payload = rng.randbytes(rng.randrange(1, 70_000))
            elif kind == "header":
                payload = b"agi_network: yes\n" + b"".join(
                    b"agi_x%d: %s\n" % (i, b"v" * 1000) for i in range(64))
            else:  # connect and close
                payload = b""
            writer.write(payload)
            await writer.drain()
            count.bytes_sent += len(payload)
        except ConnectionError:
            pass
        finally:
            writer.transport.abort()


async def flood(port: int, peers: int) -> None:
    """Until SIGTERM; then prints how many connections and bytes it sent."""
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    count = FloodCount()
    kinds = ("random", "header", "close")
    tasks = [asyncio.create_task(_junk_peer(port, kinds[i % 3], random.Random(i), count))
             for i in range(peers)]  # fmt: skip
    print("FLOODING", flush=True)
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    print(f"{count.connections} {count.bytes_sent}", flush=True)


@contextlib.asynccontextmanager
async def flooding(port: int, peers: int, nice: int) -> AsyncIterator[list[int]]:
    """The flood in its own process, ``nice`` steps below the bench; yields [connections,
    bytes] once it has stopped."""
    proc = await asyncio.create_subprocess_exec(
        "nice", "-n", str(nice), sys.executable, __file__, "--flood", str(port),
        "--flood-peers", str(peers), stdout=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    if (await proc.stdout.readline()).strip() != b"FLOODING":
        raise RuntimeError("the flood did not start")
    sent: list[int] = []
    try:
        yield sent
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = await proc.communicate()
        sent += [int(x) for x in out.split()[:2]]


# ---- the run ---------------------------------------------------------------------------


def clinic_config(example: Path, sipp_port: int) -> ClinicConfig:
    config = load_config(example)
    trunk = Trunk(id="provider", host=f"{TRUNK_IP}:{sipp_port}", match=[TRUNK_IP])
    return config.model_copy(update={
        "trunks": [trunk], "sip": Sip(rtp_ports=RtpPorts(start=30000, end=32000))})


def patient_scenario(hold_ms: int) -> str:
    """The tests' SIPp patient (tests/integration/sipp.py) who, ``hold_ms`` after the last
    key, hangs up (instead of waiting for the PBX's BYE)."""
    caller = "38050[call_number]"
    text = sipp.scenario(caller=caller, keys=KEYS, first_key_ms=2500, between_ms=1500)
    head, _, _ = text.partition('<recv request="BYE"')
    bye = "<![CDATA[\n" + _BYE.format(caller=caller) + "]]>"
    return (f'{head}<pause milliseconds="{hold_ms}"/>\n<send retrans="500">{bye}</send>\n'
            '<recv response="200" crlf="true"/>\n</scenario>\n')


def write_scenario(work: Path, hold_ms: int) -> Path:
    """The patients' SIPp scenario in ``work`` (made if missing)."""
    work.mkdir(parents=True, exist_ok=True)
    xml = work / "patient.xml"
    xml.write_text(patient_scenario(hold_ms))
    return xml


@dataclass(frozen=True)
class RunResult:
    engine: str
    store: str
    mode: str
    loop: str
    calls_ok: int
    calls_failed: int
    wall_s: float
    controller_cpu_s: float
    engine_cpu_s: float
    latencies: KeyLatencies
    flood: list[int]

    def row(self) -> str:
        key, read = self.latencies.key_samples, self.latencies.read_samples
        calls = max(1, self.calls_ok + self.calls_failed)
        flood = (f"{self.flood[0]:>7} conn {self.flood[1] / 1e6:6.0f} MB" if self.flood
                 else f"{'-':>20}")  # fmt: skip
        return (f"{self.engine:<11}{self.store:<11}{self.mode:<7}{self.loop:<8}"
                f"{self.calls_ok:>5}/{calls:<5}"
                f"{self.wall_s:>7.1f}{len(key):>6}"
                f"{pct(key, 0.5):>7.1f}{pct(key, 0.99):>7.1f}{max(key, default=0):>7.1f}"
                f"{pct(read, 0.5):>7.1f}{pct(read, 0.99):>7.1f}{max(read, default=0):>7.1f}"
                f"{1000 * self.controller_cpu_s / calls:>9.1f}"
                f"{1000 * self.engine_cpu_s / calls:>9.1f}  {flood}")


HEAD = (f"{'engine':<11}{'store':<11}{'mode':<7}{'loop':<8}{'ok/calls':>11}{'wall s':>7}{'keys':>6}"
        f"{'k→p50':>7}{'p99':>7}{'max':>7}{'r→p50':>7}{'p99':>7}{'max':>7}"
        f"{'ctl ms/c':>9}{'pbx ms/c':>9}  flood")


async def place_calls(xml: Path, work: Path, sip_port: int, local_port: int, media_port: int,
                      calls: int, rate: float) -> tuple[int, int]:
    """SIPp: ``calls`` calls at ``rate`` per second; (successful, failed)."""
    stats = work / f"sipp-{local_port}.csv"
    stats.unlink(missing_ok=True)
    limit = int(calls / rate + 120)
    proc = await asyncio.create_subprocess_exec(
        "sipp", f"127.0.0.1:{sip_port}", "-sf", str(xml), "-s", "380441234567",
        "-i", TRUNK_IP, "-p", str(local_port), "-mi", TRUNK_IP, "-mp", str(media_port),
        "-r", str(rate), "-m", str(calls), "-l", str(calls), "-aa", "-nostdin",
        "-timeout", str(limit), "-trace_err", "-trace_stat", "-stf", str(stats), "-fd", "3600",
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL, cwd=work)
    await asyncio.wait_for(proc.wait(), limit + 30)
    head, *rows = stats.read_text().splitlines()
    names, last = head.split(";"), rows[-1].split(";")
    values = dict(zip(names, last, strict=False))
    return int(values["SuccessfulCall(C)"]), int(values["FailedCall(C)"])


class Pbx(Protocol):
    """One engine under the load: what a run needs of it."""

    @property
    def name(self) -> str: ...

    @property
    def config(self) -> ClinicConfig: ...

    @property
    def pid(self) -> int: ...

    @property
    def sip_port(self) -> int: ...

    @property
    def flood_port(self) -> int | None:
        """The FastAGI port a hostile local peer can reach (None: no flood on this engine)."""
        ...

    def controller_config(self, path: Path) -> Path: ...

    def monitoring(self, latencies: KeyLatencies) -> contextlib.AbstractAsyncContextManager[None]:
        """The bench's own event link feeding ``latencies`` while open."""
        ...

    def ivr_only(self) -> contextlib.AbstractAsyncContextManager[asyncio.subprocess.Process]:
        """The IVR and the engine link alone, no store or account (the store ``none``)."""
        ...


@dataclass
class AsteriskPbx:
    clinic: SimulatedClinic
    name: str = "asterisk"

    @property
    def config(self) -> ClinicConfig:
        return self.clinic.config

    @property
    def pid(self) -> int:
        assert self.clinic.asterisk.pid is not None
        return self.clinic.asterisk.pid

    @property
    def sip_port(self) -> int:
        return self.clinic.asterisk.sip_port or 0

    @property
    def flood_port(self) -> int | None:
        return self.config.asterisk_engine().agi_port

    def controller_config(self, path: Path) -> Path:
        return write_controller_config(self.config, path,
                                       queue_log=str(self.clinic.asterisk.queue_log_path))

    @contextlib.asynccontextmanager
    async def monitoring(self, latencies: KeyLatencies) -> AsyncIterator[None]:
        ami = AMIClient("127.0.0.1", self.config.asterisk_engine().ami_port, BENCH_USER,
                        BENCH_SECRET, ping_interval=2.0, ping_timeout=2.0)
        ami.add_handler(latencies)
        await ami.start()
        try:
            await ami.wait_connected(10)
            yield
        finally:
            await ami.close()

    @contextlib.asynccontextmanager
    async def ivr_only(self) -> AsyncIterator[asyncio.subprocess.Process]:
        child = await ControllerProcess.start(self.config, "ivr",
                                              self.clinic.asterisk.queue_log_path)
        try:
            yield child.proc
        finally:
            await child.stop()


@dataclass
class FreeswitchPbx:
    clinic: FreeswitchClinic
    name: str = "freeswitch"
    flood_port: int | None = None  # its IVR is FreeSWITCH's outbound socket: no FastAGI

    @property
    def config(self) -> ClinicConfig:
        return self.clinic.config

    @property
    def pid(self) -> int:
        assert self.clinic.fs.pid is not None
        return self.clinic.fs.pid

    @property
    def sip_port(self) -> int:
        return self.clinic.fs.sip_port

    def controller_config(self, path: Path) -> Path:
        return write_controller_config(self.config, path)

    @contextlib.asynccontextmanager
    async def monitoring(self, latencies: KeyLatencies) -> AsyncIterator[None]:
        fs = self.clinic.fs
        assert fs.esl_port is not None
        esl = EslClient(fs.esl_host, fs.esl_port, fs.esl_password,
                        events=("DTMF", "CHANNEL_EXECUTE", "CHANNEL_EXECUTE_COMPLETE",
                                "CHANNEL_HANGUP"))  # fmt: skip
        esl.add_handler(latencies.esl)
        await esl.start()
        try:
            await esl.wait_connected(10)
            yield
        finally:
            await esl.close()

    def ivr_only(self) -> contextlib.AbstractAsyncContextManager[asyncio.subprocess.Process]:
        raise SystemExit("the store 'none' (the IVR alone) is measured on Asterisk only")


@contextlib.asynccontextmanager
async def asterisk_pbx(sipp_port: int) -> AsyncIterator[Pbx]:
    from clinicall.sandbox.rootfs import ensure_root

    root = await asyncio.to_thread(ensure_root)
    async with SimulatedClinic.run(clinic_config(EXAMPLE, sipp_port), root=root, name="dtmf",
                                   ports=EnginePorts.pick(),
                                   own_files={"manager.conf": MANAGER_CONF}) as clinic:
        for op in clinic.config.operators:
            await clinic.set_operator(op.id, "answer", talk_s=2)
        yield AsteriskPbx(clinic)


@contextlib.asynccontextmanager
async def freeswitch_pbx(sipp_port: int) -> AsyncIterator[Pbx]:
    prefix = find_built()
    if prefix is None:
        raise SystemExit("FreeSWITCH is not built: run scripts/setup")
    async with FreeswitchClinic.run(clinic_config(FREESWITCH_EXAMPLE, sipp_port), prefix=prefix,
                                    name="dtmf") as clinic:
        yield FreeswitchPbx(clinic)


@contextlib.asynccontextmanager
async def running_controller(pbx: Pbx, store: str, config_file: Path, db_url: str, log: Path,
                             loop: str) -> AsyncIterator[asyncio.subprocess.Process]:
    """``clinicall run`` on ``db_url``; for the store ``none``, the IVR and the engine link
    alone (no store, no account: ``bench_asterisk_cpu.py``'s ``ivr`` mode), for comparison."""
    if store == "none":
        async with pbx.ivr_only() as proc:
            yield proc
        return
    async with controller(config_file, db_url, log, loop) as proc:
        yield proc


async def one_run(pbx: Pbx, store: str, db_url: str, mode: str, loop: str,
                  args: argparse.Namespace, work: Path, xml: Path,
                  sipp_port: int) -> RunResult:  # fmt: skip
    latencies = KeyLatencies(trace=[] if args.work else None)
    tag = f"{pbx.name}-{store}-{mode}-{loop}"
    config_file = pbx.controller_config(work / f"{tag}.yaml")
    try:
        async with pbx.monitoring(latencies), \
                running_controller(pbx, store, config_file, db_url, work / f"{tag}.log",
                                   loop) as proc, \
                contextlib.AsyncExitStack() as stack:  # fmt: skip
            sent: list[int] = []
            if mode == "flood":
                assert pbx.flood_port is not None
                sent = await stack.enter_async_context(flooding(pbx.flood_port, args.flood_peers,
                                                                 args.flood_nice))
            c0, e0, t0 = tree_cpu_s(proc.pid), tree_cpu_s(pbx.pid), time.monotonic()
            ok, failed = await place_calls(xml, work, pbx.sip_port, sipp_port,
                                           sipp.free_media_port(TRUNK_IP), args.calls,
                                           args.rate)  # fmt: skip
            c1, e1, t1 = tree_cpu_s(proc.pid), tree_cpu_s(pbx.pid), time.monotonic()
    finally:
        if latencies.trace is not None:
            (work / f"{tag}.events").write_text("\n".join(latencies.trace) + "\n")
    return RunResult(pbx.name, store, mode, loop, ok, failed, t1 - t0, c1 - c0, e1 - e0,
                     latencies, sent)


ENGINES = {"asterisk": asterisk_pbx, "freeswitch": freeswitch_pbx}


async def run(args: argparse.Namespace) -> None:
    if reason := sipp.available():
        raise SystemExit(reason)
    (sipp_port,) = free_ports(1, socket.SOCK_DGRAM)
    print(f"{args.calls} SIP calls at {args.rate:g}/s per run, keys {'-'.join(KEYS)} "
          f"(one sample per key); {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    print("latency ms from the engine's own event times; CPU ms per call (user+system): the "
          "controller's process, the engine's process tree")
    print(HEAD, flush=True)
    with contextlib.ExitStack() as st:
        work = Path(args.work or st.enter_context(tempfile.TemporaryDirectory(prefix="bench-")))
        xml = write_scenario(work, args.hold_ms)
        pg = None
        if "postgresql" in args.stores:
            from pg import PostgresServer

            pg = st.enter_context(PostgresServer())
        for engine in args.engines:
            async with ENGINES[engine](sipp_port) as pbx:
                for repeat, store, mode, loop in itertools.product(
                        range(args.repeat), args.stores, args.modes, args.loops):  # fmt: skip
                    if (mode == "flood" and pbx.flood_port is None) or (
                            store == "none" and engine != "asterisk"):
                        print(f"{engine:<11}{store:<11}{mode:<7}{loop:<8}  (not on this engine: "
                              f"{'no FastAGI port' if mode == 'flood' else 'IVR alone'})")
                        continue
                    tag = f"{engine}_{store}_{mode}_{loop}_{repeat}"
                    if store == "postgresql":
                        assert pg is not None
                        url = pg.url(pg.create_database(tag)).render_as_string(
                            hide_password=False)
                    else:  # sqlite, or none (the URL is not used)
                        url = f"sqlite+aiosqlite:///{work / tag}.db"
                    result = await one_run(pbx, store, url, mode, loop, args, work, xml,
                                           sipp_port)  # fmt: skip
                    print(result.row(), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--engines", type=lambda s: s.split(","), default=["asterisk"],
                        help="asterisk, freeswitch (each in turn, the same load)")
    parser.add_argument("--rate", type=float, default=5.0, help="calls per second")
    parser.add_argument("--stores", type=lambda s: s.split(","), default=["postgresql"],
                        help="postgresql, sqlite, none (the IVR and AMI link, no account)")
    parser.add_argument("--modes", type=lambda s: s.split(","), default=["quiet", "flood"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--loops", type=lambda s: s.split(","), default=["asyncio"],
                        help="the controller's event loops, each in turn (clinicall run "
                             "--loop): asyncio, uvloop")
    parser.add_argument("--hold-ms", type=int, default=20000,
                        help="the patient hangs up this long after the last key")
    parser.add_argument("--work", help="keep the logs (SIPp's, the controller's) in this folder")
    parser.add_argument("--flood-peers", type=int, default=12)
    parser.add_argument("--flood-nice", type=int, default=10,
                        help="the flood's niceness below the bench's (0: an equal share of "
                             "the cores; a peer on another machine takes none of them)")
    parser.add_argument("--flood", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.flood:
        asyncio.run(flood(args.flood, args.flood_peers))
    else:
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
