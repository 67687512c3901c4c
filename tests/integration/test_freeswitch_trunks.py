"""A registering trunk on the real FreeSWITCH 1.10.12: the generated sofia gateway registers
with the provider's registrar (registrar.py: it challenges the first REGISTER and accepts the
one whose digest answers it with the trunk's user and password, with the clinic number as the
Contact's user),
FreeSWITCH reports the gateway registered, and the provider's call to that user reaches
clinicall's socket (the Asterisk counterpart: test_merged_config.py's registering trunk)."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from clinicall.controller.freeswitch.esl.client import EslClient
from clinicall.controller.freeswitch.esl.message import EslEvent
from clinicall.freeswitch_config.dialplan import CONTEXT
from clinicall.sandbox.freeswitch import FreeswitchSandbox
from clinicall.sandbox.ports import free_port
from clinicall.settings import ClinicConfig, load_config
from clinicall.settings.models import Trunk

from . import sipp
from .freeswitch_common import FREESWITCH_EXAMPLE, FreeswitchFactory
from .registrar import Registrar

pytestmark = [pytest.mark.asyncio, pytest.mark.freeswitch]

REGISTRAR_IP = "127.0.0.4"
TRUNK_USER, TRUNK_PASSWORD = "clinic77", "s3cret-77"
PATIENT = "380501112233"
GATEWAY_STATE = "sofia::gateway_state"


def _config(registrar_port: int) -> ClinicConfig:
    config = load_config(FREESWITCH_EXAMPLE)
    trunk = Trunk(id="voip", host=f"{REGISTRAR_IP}:{registrar_port}", registration=True,
                  username=TRUNK_USER, password=TRUNK_PASSWORD)  # fmt: skip
    return config.model_copy(update={"trunks": [trunk]})


async def test_a_registering_trunk_registers_as_a_sofia_gateway(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:  # fmt: skip
    if reason := sipp.available():
        pytest.fail(f"the registration proof needs SIPp: {reason}", pytrace=False)
    # picked (and claimed machine-wide, sandbox/ports.py) when FreeSWITCH is about to start,
    # not at import: a claim lapses, and the workers import every test file at collection
    registrar_port = free_port(socket.SOCK_DGRAM, REGISTRAR_IP)
    fs, config = make_freeswitch(_config(registrar_port), name="trunks")
    contact_user = config.numbers[0].number.removeprefix("+")
    async with fs:
        assert fs.esl_port is not None
        states: asyncio.Queue[str] = asyncio.Queue()

        def on_event(event: EslEvent) -> None:
            if event.get("Gateway") == "voip":
                states.put_nowait(event.get("State", ""))

        esl = EslClient(fs.esl_host, fs.esl_port, fs.esl_password, events=("HEARTBEAT",),
                        subclasses=(GATEWAY_STATE,))  # fmt: skip
        esl.add_handler(on_event)
        await esl.start()
        try:
            registrar = Registrar(username=TRUNK_USER, password=TRUNK_PASSWORD,
                                  contact_user=contact_user, contact_tail=";gw=voip")
            await registrar.listen(REGISTRAR_IP, registrar_port)
            try:
                # the gateway's first try went to a port nobody listened on yet: again now
                reply = await fs.api("sofia profile internal register voip")
                assert reply.strip().startswith("+OK"), reply
                await registrar.accepted(60)
            finally:
                registrar.close()
            async with asyncio.timeout(10):  # (the first try's FAIL_WAIT may come first)
                while await states.get() != "REGED":
                    pass
        finally:
            await esl.close()
        status = await fs.api("sofia status gateway voip")
        assert "REGED" in status, status
        await _the_provider_calls_the_registered_user(fs, contact_user, tmp_path)


async def _the_provider_calls_the_registered_user(
        fs: FreeswitchSandbox, contact_user: str, folder: Path) -> None:  # fmt: skip
    """The provider, from its address, calls the user the gateway registered: the call is let
    in without a challenge, into ``public``, which sends a clinic number on to clinicall's
    context and its outbound socket."""
    assert fs.esl_port is not None
    handed: asyncio.Future[EslEvent] = asyncio.get_running_loop().create_future()

    def on_event(event: EslEvent) -> None:
        if (event.get("Application") == "socket" and not handed.done()
                and event.get("Caller-Caller-ID-Number") == PATIENT):
            handed.set_result(event)

    esl = EslClient(fs.esl_host, fs.esl_port, fs.esl_password, events=("CHANNEL_EXECUTE",))
    esl.add_handler(on_event)
    await esl.start()
    try:
        call_port = free_port(socket.SOCK_DGRAM, REGISTRAR_IP)
        call = sipp.SipCall(REGISTRAR_IP, call_port, sipp.free_media_port(REGISTRAR_IP),
                            fs.sip_port, contact_user, caller=PATIENT)
        placed = asyncio.create_task(call.run(folder, first_key_ms=0, limit_s=60))
        try:
            event = await asyncio.wait_for(handed, 30)
        finally:
            await fs.api("hupall NORMAL_CLEARING")  # the controller is not running here
            code, output = await placed
        assert code == 0, output
        assert event["Caller-Context"] == CONTEXT  # from public, for a clinic number
        assert event["Caller-Destination-Number"] == f"+{contact_user}"  # the clinic number
    finally:
        await esl.close()
