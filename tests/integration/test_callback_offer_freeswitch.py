"""The in-queue callback offer on the real FreeSWITCH 1.10.12, end to end: the keep-place
scenario of the Asterisk test (tests/integration/test_callback_offer_asterisk.py) on the other
engine (docs/callbacks.md, "The offer in the queue"; docs/engines/freeswitch.md, "The in-queue
callback offer").

One operator, on break, with a wrap-up.  X joins the front desk's queue; A joins after X,
presses the offer key while waiting (mod_callcenter's exit key), takes the callback on the
number they call from and is hung up on by the offer flow; B joins after A.  The operator
becomes available: mod_callcenter gives them X; in X's wrap-up the callback scheduler (started
by ``clinicall.app.running``, real time) reserves them and calls A back, agent first; then
mod_callcenter gives them B.  The order is read from FreeSWITCH's own events on the test's
link (``callcenter::info`` ``bridge-agent-start`` of the live callers and the callback
dialplan's ``clinicall::callback`` with ``Status: ANSWER``, in the order FreeSWITCH sent
them), A's exit from ``member-queue-end`` (``EXIT_WITH_KEY``, ``cc_exit_key=1``); the job
keeps A's place (the instant A joined), and the account counts A's stay as an exit by key.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from clinicall.controller.freeswitch.control import CALLBACK_SUBCLASS, call_id_for
from clinicall.controller.freeswitch.esl.client import EslClient
from clinicall.controller.freeswitch.esl.message import EslEvent
from clinicall.db.models import Call, QueueAttempt, WaitEstimate
from clinicall.ivr import prompts
from clinicall.sandbox.freeswitch import FreeswitchSandbox
from clinicall.settings import ClinicConfig, load_config
from clinicall.simclinic.freeswitch import SIM_CONTEXT_NAME, CallTrace

from .freeswitch_common import ENGLISH_NUMBER, FREESWITCH_EXAMPLE, FreeswitchFactory
from .test_callbacks_freeswitch import Clinic, callback_clinic

pytestmark = [pytest.mark.asyncio, pytest.mark.freeswitch]

OPERATOR = "op104"
QUEUE = "universal"  # "0" in the main menu: the front desk
#: The operator's phone: rings half a second, then talks ``LONG_TALK_S`` (long enough for a
#: callback's whisper and the patient's answer).
CONTACT = f"loopback/{OPERATOR}_rings_500ms/{SIM_CONTEXT_NAME}"
#: mod_callcenter offers no queue call in the wrap-up: the callback takes its turn there.
WRAPUP_S = 8


def _config() -> ClinicConfig:
    """The FreeSWITCH example clinic open around the clock, one front-desk operator (so the
    order of serves is the order of the line), callbacks on, patients awake at any hour."""
    data = load_config(FREESWITCH_EXAMPLE).model_dump(mode="json")
    data["hours"] = {"weekly": {day: ["00:00-24:00"] for day in data["hours"]["weekly"]},
                     "holidays": []}
    data["ivr"]["digit_timeout_s"] = 2.0
    data["operators"] = [{**op, "queues": {QUEUE: 0}} for op in data["operators"]
                         if op["id"] == OPERATOR]  # fmt: skip
    data["queues"][QUEUE]["wrapup_s"] = WRAPUP_S
    data["callbacks"].update({"enabled": True, "attempts": 1, "patient_day": "00:00-24:00"})
    return ClinicConfig.model_validate(data)


class Line:
    """The test's own link: mod_callcenter's member events and the callback dialplan's, in
    the order FreeSWITCH sent them."""

    def __init__(self, fs: FreeswitchSandbox) -> None:
        assert fs.esl_port is not None
        self.esl = EslClient(fs.esl_host, fs.esl_port, fs.esl_password, events=(),
                             subclasses=("callcenter::info", CALLBACK_SUBCLASS))  # fmt: skip
        self.esl.add_handler(self._on_event)
        #: ("served", member channel) | ("callback", key, status), in wire order
        self.order: list[tuple[str, ...]] = []
        self.started: set[str] = set()  # member channels that joined a queue
        self.ends: dict[str, EslEvent] = {}  # member channel → its last member-queue-end
        self.changed = asyncio.Event()

    def _on_event(self, event: EslEvent) -> None:
        if event.subclass == CALLBACK_SUBCLASS:
            self.order.append(("callback", event.get("Key", ""), event.get("Status", "")))
        else:
            member = event.get("CC-Member-Session-UUID", "")
            action = event.get("CC-Action", "")
            if action == "member-queue-start":
                self.started.add(member)
            elif action == "bridge-agent-start":
                self.order.append(("served", member))
            elif action == "member-queue-end":
                self.ends[member] = event
        self.changed.set()

    async def until(self, holds: Callable[[], bool], within: float) -> None:
        """Until ``holds()`` after one of this link's events (checked and cleared with no
        await between, so no event is missed)."""
        async with asyncio.timeout(within):
            while not holds():
                self.changed.clear()
                await self.changed.wait()


async def queued(c: Clinic, line: Line, caller: str, digits: str = "0") -> CallTrace:
    """A patient asks for the front desk; returns once they wait in its queue."""
    trace = await c.observer.call(c.config, caller, digits, number=ENGLISH_NUMBER)
    await line.until(lambda: bool(trace.clinic_leg) and trace.clinic_leg in line.started, 60)
    return trace


async def test_a_callback_taken_in_the_queue_keeps_the_patients_place_on_freeswitch(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    async with callback_clinic(make_freeswitch, tmp_path, "offer", _config()) as c:
        assert c.parts.callbacks is not None  # callbacks.enabled: the scheduler runs
        line = Line(c.fs)
        await line.esl.start()
        try:
            await _scenario(c, line)
        finally:
            await line.esl.close()


async def _scenario(c: Clinic, line: Line) -> None:
    assert c.parts.callbacks is not None
    for command in (f"agent set contact {OPERATOR} {CONTACT}",
                    f"agent set status {OPERATOR} 'On Break'"):
        assert (await c.fs.api(f"callcenter_config {command}")).strip().startswith("+OK")

    x = await queued(c, line, "+380501230010")
    # A: "0" in the menu; then, in the offer, "1" (call me back) and "1" (this number)
    a = await queued(c, line, "+380501230011", "011")
    assert (await c.observer.esl.api(f"uuid_send_dtmf {a.patient} 1")).startswith("+OK")
    await c.observer.finished(a, 60)  # confirmed, then hung up by the offer flow
    assert prompts.prompt_name("en", prompts.CALLBACK_OFFER) in a.prompts_played
    assert prompts.prompt_name("en", prompts.CALLBACK_CONFIRMED) in a.prompts_played
    b = await queued(c, line, "+380501230012")

    out = await c.fs.api(f"callcenter_config agent set status {OPERATOR} 'Available'")
    assert out.strip().startswith("+OK")
    [job] = await c.parts.callbacks.store.jobs()
    callback_key = f"cb{job.id}-1"
    await line.until(lambda: ("served", b.clinic_leg) in line.order, 150)

    # FreeSWITCH's own events: who the operator was given, in the order it sent them
    served = [e for e in line.order if e[0] == "served"
              or (e[0] == "callback" and e[2] == "ANSWER")]  # fmt: skip
    assert served == [("served", x.clinic_leg), ("callback", callback_key, "ANSWER"),
                      ("served", b.clinic_leg)], line.order
    a_left = line.ends[a.clinic_leg]
    assert (a_left.get("CC-Cause"), a_left.get("CC-Cancel-Reason"),
            a_left.get("variable_cc_exit_key")) == ("Cancel", "EXIT_WITH_KEY", "1")

    # the job kept A's place: the instant A joined the queue, after X and before B
    await c.parts.callbacks.attempts_done()
    [job] = await c.parts.callbacks.store.jobs()
    assert (job.phone, job.queue, job.reason, job.state) == ("+380501230011", QUEUE,
                                                             "requested", "done")
    [attempt] = await c.parts.callbacks.store.attempts(job.id)
    assert (attempt.key, attempt.agent, attempt.call_id) == (
        callback_key, OPERATOR, call_id_for(callback_key))
    await line.until(lambda: x.clinic_leg in line.ends and b.clinic_leg in line.ends, 60)
    joined = {leg: int(line.ends[leg]["CC-Member-Joined-Time"])
              for leg in (x.clinic_leg, a.clinic_leg, b.clinic_leg)}  # fmt: skip
    assert job.arrived_at.timestamp() == joined[a.clinic_leg]
    assert joined[x.clinic_leg] <= job.arrived_at.timestamp() < joined[b.clinic_leg]

    # the account: A left the queue by the key (docs/kpi.md), not as an abandon
    attempt_a = await _written_attempt(c, a.clinic_leg)
    assert (attempt_a.outcome, attempt_a.exit_key) == ("exitkey", "1")
    async with c.parts.sessions() as session:
        call = await session.scalar(select(Call).where(Call.call_key == a.clinic_leg))
        estimates = list(await session.scalars(
            select(WaitEstimate).where(WaitEstimate.call_key == a.clinic_leg)))
    assert call is not None
    assert (call.missed, call.miss_cause) == (True, "exitkey")  # until the callback returns it
    assert [(e.queue, e.estimate_s is not None) for e in estimates] == [(QUEUE, True)]


async def _written_attempt(c: Clinic, call_key: str) -> QueueAttempt:
    """The call's first queue attempt once the account holds its outcome."""
    for _ in range(200):  # the account writes in batches: flush until it is projected
        await c.parts.tracker.reconcile()
        await c.parts.tracker.flush()
        async with c.parts.sessions() as session:
            attempt = await session.scalar(
                select(QueueAttempt).join(Call, Call.id == QueueAttempt.call_id)
                .where(Call.call_key == call_key).order_by(QueueAttempt.joined_at)
                .limit(1))  # fmt: skip
        if attempt is not None and attempt.outcome is not None:
            return attempt
        await asyncio.sleep(0.1)
    raise AssertionError("the account never held the call's queue attempt")
