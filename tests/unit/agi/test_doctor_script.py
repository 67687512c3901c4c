"""The ``doctor`` script on the FastAGI wire: one SET VARIABLE, then the connection closes."""

from __future__ import annotations

from clinicall.agi_scripts.doctor import answer_doctor
from clinicall.agi_scripts.server import FastAgiServer, ScriptRouter

from .fake_asterisk import FakeAsterisk


async def test_the_doctor_script_answers_at_once_and_returns_the_channel() -> None:
    async with FastAgiServer(ScriptRouter({"doctor": answer_doctor}), port=0) as server:
        peer = await FakeAsterisk(server.port).start(
            network_script="doctor", request="agi://127.0.0.1:4573/doctor",
            channel="Local/000000000042@clinicall-doctor-0000002a;2")
        await peer.exchange('SET VARIABLE "CLINICALL_DOCTOR" "clinicall"', "200 result=1")
        assert await peer.read_to_end() == b""  # closed: AGI() returns to the dialplan
        await peer.close()
