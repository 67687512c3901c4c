"""A call the simulated Asterisk clinic places (a callback, agent first), followed step by step
over AMI: the operator's Local channel rung, the patient dialled once the operator answered
(``DialBegin``), the patient's answer (``DialEnd``'s ``DialStatus``), the end."""

from __future__ import annotations

from clinicall.simclinic.calltrace import CallTracer

#: The simulated operators' context: an operator's channel is ``Local/<id>@<context>``.
OPERATORS_CONTEXT = "@clinicall-sim-operators"


class AsteriskPlacedCall:
    """The demo's ``PlacedCallWatch`` on Asterisk (the tracer must expect ``call_id``)."""

    def __init__(self, tracer: CallTracer, call_id: str) -> None:
        self.tracer, self.call_id = tracer, call_id

    @property
    def events(self) -> list[tuple[str, str]]:
        return [(m.get("Event", ""), m.get("Channel", ""))
                for m in self.tracer.trace(self.call_id).events]  # fmt: skip

    async def operator_rung(self, timeout: float) -> str:  # noqa: ASYNC109
        rung = await self.tracer.wait_until(self.call_id, lambda m: m.get("Event") == (
            "Newchannel") and OPERATORS_CONTEXT in m.get("Channel", ""), timeout)
        return rung.get("Channel", "").removeprefix("Local/").split("@", 1)[0]

    async def patient_dialled(self, timeout: float) -> None:  # noqa: ASYNC109
        await self.tracer.wait_for(self.call_id, "DialBegin", timeout)

    async def patient_status(self, timeout: float) -> str:  # noqa: ASYNC109
        ended = await self.tracer.wait_for(self.call_id, "DialEnd", timeout)
        return ended.get("DialStatus", "")

    async def ended(self, timeout: float) -> None:  # noqa: ASYNC109
        await self.tracer.finished(self.call_id, timeout)
