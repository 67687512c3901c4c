"""The generated config merged into a clinic's own Asterisk config, on the real Asterisk 22.

The clinic's own files (a trunk endpoint of theirs, a voicemail context, an outside-line context
for operators) include the generated ``clinicall_*.conf`` files exactly as the printed
instructions say.  A SIP patient arrives through the generated IP-matched trunk endpoint
(SIPp, keys as RFC 4733 events) and reaches a specialty queue; the registering trunk registers
with a provider that challenges it, and the provider's call on the registered line (from an
address no ``identify`` matches) reaches a queue; an operator's phone on the trunk's own
address is still the operator's and dials out through the clinic's context; the clinic's own
trunk still reaches their voicemail; generating again changes nothing.  Every assertion is on
what Asterisk reported (or on SIPp's scripted exchange succeeding).
"""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from clinicall import generated_files as gen
from clinicall.app import build_engine
from clinicall.asterisk_config import installed_asterisk_config, modules, render_asterisk_config
from clinicall.asterisk_config.includes import INCLUDED_FROM
from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.service import Controller
from clinicall.sandbox.modules import NOLOAD, default_modules_conf
from clinicall.sandbox.ports import EnginePorts, free_port
from clinicall.settings.loader import load_config
from clinicall.settings.models import ClinicConfig, RtpPorts, Sip, Trunk
from clinicall.simclinic.clinic import SimulatedClinic, with_ports

from . import sipp
from .registrar import Registrar
from .scenario import ENGLISH_NUMBER, EXAMPLE, Clock

pytestmark = pytest.mark.asyncio(loop_scope="module")

TRUNK_IP, OWN_TRUNK_IP, REGISTRAR_IP = "127.0.0.2", "127.0.0.3", "127.0.0.4"
#: The provider's other server, which calls in on the registered line: no identify matches it.
LINE_CALLER_IP = "127.0.0.5"
CLINIC_NUMBER = "380441234567"  # the example clinic's first number, the registration's contact
TRUNK_USER, TRUNK_PASSWORD = "clinic77", "pw-77-provider"
#: How long a test waits for the registration Asterisk began at boot (its random initial
#: delay is at most 10 s; a lost REGISTER is retried after 60 s).
REGISTRATION_LIMIT_S = 80

OWN_EXTENSIONS = """[general]
static = yes
writeprotect = yes

[globals]
CLINIC_OWN = yes

; the clinic's own: their old trunk's calls go to the desk's voicemail
[legacy-in]
exten => _X.,1,Goto(desk-voicemail,500,1)

[desk-voicemail]
exten => 500,1,Answer()
 same => n,VoiceMail(100@default,s)
 same => n,Hangup()

; operators' outside line: 0 and the number
[outside-line]
exten => _0X.,1,Set(OUTSIDE_DIALLED=${EXTEN})
 same => n,Answer()
 same => n,Wait(1)
 same => n,Hangup()

#include clinicall_extensions.conf
"""
OWN_PJSIP = f"""[global]
type = global
endpoint_identifier_order = username,ip,anonymous
user_agent = Clinic PBX

; the clinic's own trunk, from before clinicall
[legacy-trunk]
type = endpoint
context = legacy-in
disallow = all
allow = alaw
[legacy-trunk]
type = identify
endpoint = legacy-trunk
match = {OWN_TRUNK_IP}

#include clinicall_pjsip.conf
"""
OWN_VOICEMAIL = "[general]\nformat = wav\n\n[default]\n100 => 1234,Front desk\n"
#: The sandbox's autoload minus hardware, keeping voicemail (the clinic's own feature).
OWN_MODULES = default_modules_conf(tuple(n for n in NOLOAD if n != "app_voicemail"))


@dataclass(frozen=True)
class Provider:
    """The provider's ports the clinic's config names: the trunk's (SIPp calls in from it)
    and the registrar's."""

    trunk: int
    registrar: int


def sipp_call(ip: str, pbx_port: int | None, number: str, *, port: int | None = None,
              **options: str) -> sipp.SipCall:  # fmt: skip
    """A SIPp call from ``ip`` (from ``port``, else a port picked now) to ``number`` at the
    PBX's ``pbx_port``; its RTP ports are picked now too, as the call is placed (the ports
    are claimed for a while only: sandbox/ports.py)."""
    port = port or free_port(socket.SOCK_DGRAM, ip)
    return sipp.SipCall(ip, port, sipp.free_media_port(ip), pbx_port or 0, number, **options)


def clinic_config(ports: EnginePorts, provider: Provider) -> ClinicConfig:
    config = load_config(EXAMPLE)
    ivr = config.ivr.model_copy(update={"digit_timeout_s": 3.0})
    trunk = Trunk(id="provider", host=f"{TRUNK_IP}:{provider.trunk}", match=[TRUNK_IP])
    registering = Trunk(id="voip", host=f"{REGISTRAR_IP}:{provider.registrar}",
                        registration=True, username=TRUNK_USER, password=TRUNK_PASSWORD)
    return with_ports(config.model_copy(update={
        "ivr": ivr, "trunks": [trunk, registering],
        "sip": Sip(outside_context="outside-line", rtp_ports=RtpPorts(start=31000, end=31200)),
    }), ports)


def own_files(config: ClinicConfig) -> dict[str, str]:
    return {"extensions.conf": OWN_EXTENSIONS, "pjsip.conf": OWN_PJSIP,
            "voicemail.conf": OWN_VOICEMAIL, "modules.conf": OWN_MODULES}


class Events:
    """Every AMI event, and futures for the first one matching a test's predicate."""

    def __init__(self) -> None:
        self.seen: list[Message] = []
        self._waiting: list[tuple[Callable[[Message], bool], asyncio.Future[Message]]] = []

    def __call__(self, message: Message) -> None:
        self.seen.append(message)
        for match, future in list(self._waiting):
            if not future.done() and match(message):
                future.set_result(message)
                self._waiting.remove((match, future))

    def first(self, match: Callable[[Message], bool]) -> asyncio.Future[Message]:
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        for message in self.seen:
            if match(message):
                future.set_result(message)
                return future
        self._waiting.append((match, future))
        return future


@pytest.fixture(scope="module")
def skip_without_sipp() -> None:
    reason = sipp.available()
    if reason:
        pytest.fail(f"the SIP proof needs SIPp: {reason}", pytrace=False)


@pytest.fixture(scope="module")
def provider() -> Provider:
    """The provider's ports, picked (and claimed: sandbox/ports.py) as the module's clinic is
    about to start, not at import: every worker imports every test file at collection, and a
    claim lapses long before the last file's tests run."""
    return Provider(trunk=free_port(socket.SOCK_DGRAM, TRUNK_IP),
                    registrar=free_port(socket.SOCK_DGRAM, REGISTRAR_IP))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def registrar(provider: Provider) -> AsyncIterator[Registrar]:
    """The provider's registrar, listening before Asterisk boots, as a provider's is: the
    REGISTER Asterisk sends as it starts (after its random initial delay, and after it has
    begun to qualify the trunk with OPTIONS, which the registrar answers) is the one
    answered."""
    registrar = Registrar(username=TRUNK_USER, password=TRUNK_PASSWORD,
                          contact_user=CLINIC_NUMBER)  # fmt: skip
    await registrar.listen(REGISTRAR_IP, provider.registrar)
    try:
        yield registrar
    finally:
        registrar.close()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def clinic(
    asterisk_root: Path, provider: Provider, registrar: Registrar, skip_without_sipp: None,
) -> AsyncIterator[SimulatedClinic]:
    ports = EnginePorts.pick()
    config = clinic_config(ports, provider)
    async with SimulatedClinic.run(config, root=asterisk_root, name="merged", ports=ports,
                                   own_files=own_files(config)) as clinic:
        for op in clinic.config.operators:
            await clinic.set_operator(op.id, "answer", talk_s=2)
        yield clinic


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def events(clinic: SimulatedClinic) -> Events:
    seen = Events()
    clinic.ami.add_handler(seen)
    return seen


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def controller(clinic: SimulatedClinic) -> AsyncIterator[Controller]:
    async with Controller(clinic.config, build_engine(clinic.config), now=Clock()) as controller:
        await controller.engine.wait_up(10)
        yield controller


async def test_both_configs_load_and_every_module_it_needs_is_there(
    clinic: SimulatedClinic,
) -> None:
    ast = clinic.asterisk
    assert "Clinic PBX" in await ast.rx("pjsip show settings")  # their global kept
    dialplan = await ast.rx("dialplan show")
    for context in ("legacy-in", "desk-voicemail", "outside-line", "clinicall-inbound",
                    "clinicall-call", "clinicall-operators"):
        assert f"'{context}'" in dialplan
    assert "CLINIC_OWN=yes" in await ast.rx("dialplan show globals")
    endpoints = await ast.rx("pjsip show endpoints")
    assert "legacy-trunk" in endpoints
    assert "provider" in endpoints
    assert "voip" in endpoints
    assert "ultrasound has 0 calls" in await ast.rx("queue show ultrasound")
    rtp = await ast.rx("rtp show settings")
    assert "Port start:      31000" in rtp
    assert "Port end:        31200" in rtp
    manager = await ast.rx("manager show settings")
    assert f"127.0.0.1:{clinic.config.asterisk_engine().ami_port}" in manager
    for name in modules.names():
        assert "1 modules loaded" in await ast.rx(f"module show like {name}.so"), name
    assert "app_voicemail.so" in await ast.rx("module show like app_voicemail")


async def test_a_sip_patient_through_the_trunk_reaches_a_specialty_queue(
    clinic: SimulatedClinic, events: Events, controller: Controller, provider: Provider,
    tmp_path: Path,
) -> None:
    joined = events.first(lambda m: m.get("Event") == "QueueCallerJoin"
                          and m.get("Queue") == "gynecology")
    call = sipp_call(TRUNK_IP, clinic.asterisk.sip_port, ENGLISH_NUMBER.removeprefix("+"),
                     port=provider.trunk)  # from the trunk's own port, as the provider would
    code, output = await call.run(tmp_path, keys="12")  # main:1 appointments, 2 gynecology
    assert code == 0, output
    join = await asyncio.wait_for(joined, 5)
    assert join["Channel"].startswith("PJSIP/provider-")  # the trunk endpoint, by its address
    channel = join["Channel"]
    path = events.first(lambda m: m.get("Event") == "VarSet" and m.get("Channel") == channel
                        and m.get("Variable") == "CLINICALL_PATH")
    assert (await asyncio.wait_for(path, 1))["Value"] == "main:1/appointments:2"


async def test_a_registering_trunk_registers_with_its_line(
    clinic: SimulatedClinic, events: Events, provider: Provider, registrar: Registrar,
) -> None:
    registered = events.first(lambda m: m.get("Event") == "Registry"
                              and m.get("Status") == "Registered")
    contact = await registrar.accepted(REGISTRATION_LIMIT_S)
    assert re.search(r";line=[^;>]+", contact), contact
    # The Registry event may have come before this module's handler was added: Asterisk's own
    # list then says so (the handler is in place first, so a later event is not missed either).
    server = f"sip:{REGISTRAR_IP}:{provider.registrar}"
    listed = re.search(r"^\s*voip/(\S+)\s+\S+\s+Registered\b",
                       await clinic.asterisk.rx("pjsip show registrations"), re.MULTILINE)
    if listed:
        assert listed[1] == server
    else:
        assert (await asyncio.wait_for(registered, 10))["Domain"] == server


async def test_the_provider_calls_in_on_the_registered_line_and_reaches_a_specialty_queue(
    clinic: SimulatedClinic, events: Events, controller: Controller, registrar: Registrar,
    tmp_path: Path,
) -> None:
    """A call from the provider, from an address no ``identify`` matches, with the ``line``
    of the Contact that Asterisk registered in its request URI: the line names the trunk's
    endpoint, and the patient goes through the IVR into the queue as through an IP-matched
    trunk."""
    contact = await registrar.accepted(REGISTRATION_LIMIT_S)
    line = re.search(r";line=([^;>]+)", contact)
    assert line, contact
    joined = events.first(lambda m: m.get("Event") == "QueueCallerJoin"
                          and m.get("Queue") == "gynecology"
                          and m.get("Channel", "").startswith("PJSIP/voip-"))
    call = sipp_call(LINE_CALLER_IP, clinic.asterisk.sip_port, ENGLISH_NUMBER.removeprefix("+"),
                     uri_params=f";line={line[1]}")  # the dialled number, on the line
    code, output = await call.run(tmp_path, keys="12")  # main:1 appointments, 2 gynecology
    assert code == 0, output
    channel = (await asyncio.wait_for(joined, 5))["Channel"]
    path = events.first(lambda m: m.get("Event") == "VarSet" and m.get("Channel") == channel
                        and m.get("Variable") == "CLINICALL_PATH")
    assert (await asyncio.wait_for(path, 1))["Value"] == "main:1/appointments:2"


async def test_the_clinics_own_trunk_still_reaches_its_voicemail(
    clinic: SimulatedClinic, events: Events, tmp_path: Path,
) -> None:
    voicemail = events.first(lambda m: m.get("Event") == "Newexten"
                             and m.get("Application") == "VoiceMail")
    call = sipp_call(OWN_TRUNK_IP, clinic.asterisk.sip_port, "123")
    code, output = await call.run(tmp_path)  # the voicemail ends the call
    assert code == 0, output
    reached = await asyncio.wait_for(voicemail, 5)
    assert reached["Channel"].startswith("PJSIP/legacy-trunk-")
    assert reached["Context"] == "desk-voicemail"


async def test_an_operators_phone_beside_the_trunk_dials_out_through_the_clinics_context(
    clinic: SimulatedClinic, events: Events, tmp_path: Path,
) -> None:
    """A phone on the trunk's own address is still the operator's phone (found by user name
    first), logs in, and its outside call reaches the clinic's own context."""
    operator = clinic.config.operators[0]
    dialled = events.first(lambda m: m.get("Event") == "VarSet"
                           and m.get("Variable") == "OUTSIDE_DIALLED"
                           and m.get("Channel", "").startswith(f"PJSIP/{operator.id}-"))
    phone = sipp_call(TRUNK_IP, clinic.asterisk.sip_port, "0445556677", caller=operator.id,
                      password=operator.secret)
    code, output = await phone.run(tmp_path, first_key_ms=100)  # the context hangs up
    assert code == 0, output
    assert (await asyncio.wait_for(dialled, 5))["Value"] == "0445556677"


async def test_operators_outside_calls_go_through_the_clinics_context(
    clinic: SimulatedClinic, events: Events,
) -> None:
    dialled = events.first(lambda m: m.get("Event") == "VarSet"
                           and m.get("Variable") == "OUTSIDE_DIALLED"
                           and m.get("Channel", "").startswith("Local/0441112233@"))
    await clinic.ami.action("Originate", {
        "Channel": "Local/0441112233@clinicall-operators/n", "Application": "Wait",
        "Data": "2", "Async": "true"})
    reached = await asyncio.wait_for(dialled, 10)  # only outside-line sets it
    assert reached["Value"] == "0441112233"


async def test_generating_again_changes_nothing_and_touches_no_file_of_theirs(
    clinic: SimulatedClinic,
) -> None:
    config = clinic.config
    installed = {**installed_asterisk_config(config, simulated=True), **own_files(config)}
    etc = clinic.asterisk.layout.host(clinic.asterisk.layout.dir("etc"))
    assert {name: (etc / name).read_text() for name in installed} == installed
    before = {p.name: p.stat().st_mtime_ns for p in etc.iterdir()}
    again = render_asterisk_config(config, simulated=True)
    assert gen.apply(gen.plan(etc, again)) == [f"unchanged {etc / name}" for name in sorted(again)]
    assert {p.name: p.stat().st_mtime_ns for p in etc.iterdir()} == before
    for name in again:  # every generated file is pulled in by the file the README names
        target = INCLUDED_FROM[name][0]
        if name != "clinicall_pjsip_global.conf":  # their pjsip.conf has a global
            assert f"#include {name}" in installed[target]
