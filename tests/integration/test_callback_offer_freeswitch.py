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
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from clinicall.controller.callbacks.intake import OFFER_SETTLED
from clinicall.controller.freeswitch.control import CALLBACK_SUBCLASS, call_id_for
from clinicall.controller.freeswitch.esl.client import EslClient
from clinicall.controller.freeswitch.esl.message import EslEvent
from clinicall.controller.freeswitch.queue_wait import WAIT_OVER_KEY
from clinicall.db.models import Call, CallbackReason, QueueAttempt, SurveyAnswer, WaitEstimate
from clinicall.ivr import prompts
from clinicall.reports.wait_estimates import estimate_accuracy
from clinicall.sandbox.freeswitch import FreeswitchSandbox
from clinicall.settings import ClinicConfig, load_config
from clinicall.simclinic.freeswitch import OPERATOR_CONTACT, SIM_CONTEXT_NAME, CallTrace

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


def _config(**callbacks: Any) -> ClinicConfig:
    """The FreeSWITCH example clinic open around the clock, one front-desk operator (so the
    order of serves is the order of the line), callbacks on, patients awake at any hour;
    ``callbacks`` override more of the callbacks section."""
    data = load_config(FREESWITCH_EXAMPLE).model_dump(mode="json")
    data["hours"] = {"weekly": {day: ["00:00-24:00"] for day in data["hours"]["weekly"]},
                     "holidays": []}
    data["ivr"]["digit_timeout_s"] = 2.0
    data["operators"] = [{**op, "queues": {QUEUE: 0}} for op in data["operators"]
                         if op["id"] == OPERATOR]  # fmt: skip
    data["queues"][QUEUE]["wrapup_s"] = WRAPUP_S
    data["callbacks"].update({"enabled": True, "attempts": 1, "patient_day": "00:00-24:00",
                              **callbacks})  # fmt: skip
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
        self.joins: list[str] = []  # every join, in order
        self.queues: dict[str, list[str]] = {}  # member channel → the queues it joined, in order
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
                self.joins.append(member)
                self.queues.setdefault(member, []).append(
                    event.get("CC-Queue", "").partition("@")[0])
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


async def queued(c: Clinic, line: Line, caller: str,
                 digits: str | Sequence[str] = "0") -> CallTrace:  # fmt: skip
    """A patient asks for the front desk; returns once they wait in its queue."""
    trace = await c.observer.call(c.config, caller, digits, number=ENGLISH_NUMBER)
    await line.until(lambda: bool(trace.clinic_leg) and trace.clinic_leg in line.started, 60)
    return trace


@asynccontextmanager
async def offer_clinic(make_freeswitch: FreeswitchFactory, tmp_path: Path, name: str,
                       config: ClinicConfig, contact: str,
                       now: Callable[[], datetime] | None = None,
                       ) -> AsyncIterator[tuple[Clinic, Line]]:  # fmt: skip
    """The clinic running (store, engine, account, controller, callback scheduler) with the
    operator on break, their phone ``contact``, and the test's own link."""
    async with callback_clinic(make_freeswitch, tmp_path, name, config, now) as c:
        assert c.parts.callbacks is not None  # callbacks.enabled: the scheduler runs
        for command in (f"agent set contact {OPERATOR} {contact}",
                        f"agent set status {OPERATOR} 'On Break'"):
            assert (await c.fs.api(f"callcenter_config {command}")).strip().startswith("+OK")
        line = Line(c.fs)
        await line.esl.start()
        try:
            yield c, line
        finally:
            await line.esl.close()


async def operator_available(c: Clinic) -> None:
    out = await c.fs.api(f"callcenter_config agent set status {OPERATOR} 'Available'")
    assert out.strip().startswith("+OK"), out


async def test_a_callback_taken_in_the_queue_keeps_the_patients_place_on_freeswitch(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    async with offer_clinic(make_freeswitch, tmp_path, "offer", _config(), CONTACT) as (c, line):
        await _keep_place(c, line)


async def _keep_place(c: Clinic, line: Line) -> None:
    assert c.parts.callbacks is not None

    x = await queued(c, line, "+380501230010")
    # A: "0" in the menu; then, in the offer, "1" (call me back) and "1" (this number)
    a = await queued(c, line, "+380501230011", "011")
    assert (await c.observer.esl.api(f"uuid_send_dtmf {a.patient} 1")).startswith("+OK")
    await c.observer.finished(a, 60)  # confirmed, then hung up by the offer flow
    assert prompts.prompt_name("en", prompts.CALLBACK_OFFER) in a.prompts_played
    assert prompts.prompt_name("en", prompts.CALLBACK_CONFIRMED) in a.prompts_played
    b = await queued(c, line, "+380501230012")

    await operator_available(c)
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
    # the whisper, as FreeSWITCH played it on the operator's leg, in the clinic's language
    # (docs/callbacks.md, "The callback call")
    lang = c.config.default_language
    whisper = [prompts.prompt_name(lang, key) for key in (
        prompts.callback_reason_key("requested"), prompts.callback_queue_key(QUEUE),
        prompts.callback_speaks_key("en"), prompts.CALLBACK_NUMBER_ENDS,
        prompts.CALLBACK_MINUTES_AGO)]  # fmt: skip
    played = [data for uuid, app, data in c.trail.executed
              if uuid == attempt.call_id and app == "playback"]  # fmt: skip
    heard = [w for w in whisper for data in played if w in data]
    assert heard == whisper, played
    # the greeting, on the patient's leg, in the patient's language
    greeting = prompts.prompt_name("en", prompts.CALLBACK_GREETING)
    greeted = {uuid for uuid, app, data in c.trail.executed
               if app == "playback" and greeting in data}  # fmt: skip
    assert len(greeted) == 1, c.trail.executed
    assert attempt.call_id not in greeted
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


async def test_a_patient_who_declines_goes_back_to_their_place_on_freeswitch(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    """Y, D and Z wait; D presses the offer key and lets the offer pass (silence declines):
    the dialplan puts D back into the queue, where ``time-base-score=system`` gives D the
    place their call's answer earned, ahead of Z; FreeSWITCH serves Y, D, Z.  The account
    holds D's two stays: the exit by key, then the answered one; the call is not missed.  The
    front desk asks every caller for the post-call survey: after the operator hangs up, D
    answers it (CSAT 4, NPS 9), and the answers are D's call's, with the queue and operator."""
    config = _config()
    queues = {**config.queues, QUEUE: config.queues[QUEUE].model_copy(update={"survey": "always"})}
    async with offer_clinic(make_freeswitch, tmp_path, "offer-declined",
                            config.model_copy(update={"queues": queues}),
                            OPERATOR_CONTACT) as (c, line):  # fmt: skip
        assert c.parts.callbacks is not None
        y = await queued(c, line, "+380501230020")
        # the menu's "0"; silence at the offer's question; then the survey's two questions
        d = await queued(c, line, "+380501230021", "0-49")
        z = await queued(c, line, "+380501230022")
        assert (await c.observer.esl.api(f"uuid_send_dtmf {d.patient} 1")).startswith("+OK")
        await line.until(lambda: d.clinic_leg in line.ends, 30)  # left by the key ...
        assert line.ends[d.clinic_leg].get("variable_cc_exit_key") == "1"
        await line.until(lambda: line.joins.count(d.clinic_leg) == 2, 60)  # ... and back
        assert prompts.prompt_name("en", prompts.CALLBACK_OFFER) in d.prompts_played
        await operator_available(c)
        await line.until(lambda: ("served", z.clinic_leg) in line.order, 90)
        assert [e for e in line.order if e[0] == "served"] == [
            ("served", y.clinic_leg), ("served", d.clinic_leg), ("served", z.clinic_leg)]
        for trace in (y, d, z):
            await c.observer.finished(trace, 60)
        assert await c.parts.callbacks.store.jobs() == []
        attempts = await _written_attempts(c, d.clinic_leg, 2)
        assert [(a.outcome, a.exit_key) for a in attempts] == [("exitkey", "1"),
                                                               ("answered", None)]
        async with c.parts.sessions() as session:
            call = await session.scalar(select(Call).where(Call.call_key == d.clinic_leg))
        assert call is not None
        assert not call.missed  # answered after the declined offer
        await asyncio.wait_for(c.parts.controller.wait_surveyed(3), 30)  # Y, D and Z asked
        await c.parts.controller.writes_done()
        async with c.parts.sessions() as session:
            answers = [tuple(r) for r in await session.execute(
                select(SurveyAnswer.question, SurveyAnswer.score, SurveyAnswer.queue,
                       SurveyAnswer.operator, SurveyAnswer.complete)
                .where(SurveyAnswer.call_id == call.id).order_by(SurveyAnswer.question))]
        assert answers == [("csat", 4, QUEUE, OPERATOR, True), ("nps", 9, QUEUE, OPERATOR, True)]
        survey = [prompts.prompt_name("en", k) for k in (prompts.SURVEY_CSAT, prompts.SURVEY_NPS)]
        assert d.prompts_played[-3:-1] == survey


async def test_a_declined_callers_second_stay_overflows_after_the_routes_wait_on_freeswitch(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    """W asks for test results (therapy, overflow to the front desk after ``WAIT_S``), where
    the only operator is on break, presses the offer key at once and lets the offer pass: back
    in therapy, the route's wait timer is armed again for this second stay (the first one's was
    deleted when W left by the key), and when it runs out W moves to the front desk's queue,
    as Asterisk's ``Queue()`` gets the route's wait again.  Without the timer W would wait in
    therapy until the queue's own limit (minutes)."""
    wait_s = 20
    config = _config()
    routes = {**config.routes, "test_results": config.routes["test_results"].model_copy(
        update={"overflow_after_s": wait_s})}
    # on break in therapy too: mod_callcenter counts the agent present, so only the route's
    # timer ends a therapy stay (docs/engines/freeswitch.md, "Gaps")
    operators = [op.model_copy(update={"queues": {QUEUE: 0, "therapy": 0}})
                 for op in config.operators]  # fmt: skip
    config = config.model_copy(update={"routes": routes, "operators": operators})
    async with offer_clinic(make_freeswitch, tmp_path, "offer-rearmed", config,
                            OPERATOR_CONTACT) as (c, line):  # fmt: skip
        assert c.parts.callbacks is not None
        w = await queued(c, line, "+380501230030", "3")  # test results; silence at the offer
        assert (await c.observer.esl.api(f"uuid_send_dtmf {w.patient} 1")).startswith("+OK")
        await line.until(lambda: line.joins.count(w.clinic_leg) == 2, 60)  # back in therapy
        assert prompts.prompt_name("en", prompts.CALLBACK_OFFER) in w.prompts_played
        first = line.ends[w.clinic_leg]  # the first stay: left by the offer key
        assert (first.get("CC-Cancel-Reason"), first.get("variable_cc_exit_key")) == (
            "EXIT_WITH_KEY", "1")
        await line.until(lambda: line.joins.count(w.clinic_leg) == 3, wait_s + 40)
        assert line.queues[w.clinic_leg] == ["therapy", "therapy", QUEUE]
        left = line.ends[w.clinic_leg]  # the second stay's end: the route's timer's key
        assert (left.get("CC-Cancel-Reason"), left.get("variable_cc_exit_key")) == (
            "EXIT_WITH_KEY", WAIT_OVER_KEY)
        assert await c.parts.callbacks.store.jobs() == []  # declined: no job
        await c.observer.hang_up(w)
        await c.observer.finished(w, 30)


async def test_a_patient_types_another_number_and_a_refused_one_is_asked_again_on_freeswitch(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    """In the offer N asks to be called on another number: an audiotex number (+380900…, a
    blocked prefix) is refused with its prompt and asked for again; the mobile number typed
    next, in the national form, is booked in E.164 at the instant N joined the queue."""
    async with offer_clinic(make_freeswitch, tmp_path, "offer-typed", _config(),
                            CONTACT) as (c, line):  # fmt: skip
        assert c.parts.callbacks is not None
        # the menu's "0"; the offer: 1 (call me back), 2 (another number); two numbers typed
        n = await queued(c, line, "+380501230040", ["0", "1", "2", "0900123456#", "0671234567#"])
        assert (await c.observer.esl.api(f"uuid_send_dtmf {n.patient} 1")).startswith("+OK")
        await c.observer.finished(n, 90)  # confirmed, then hung up by the offer flow
        asked = {prompts.prompt_name("en", k): k for k in (
            prompts.CALLBACK_ENTER_NUMBER, prompts.CALLBACK_BAD_NUMBER, prompts.CALLBACK_CONFIRMED)}
        assert [asked[p] for p in n.prompts_played if p in asked] == [
            prompts.CALLBACK_ENTER_NUMBER, prompts.CALLBACK_BAD_NUMBER,
            prompts.CALLBACK_ENTER_NUMBER, prompts.CALLBACK_CONFIRMED]
        await line.until(lambda: n.clinic_leg in line.ends, 30)
        [job] = await c.parts.callbacks.store.jobs()
        assert (job.phone, job.queue, job.reason, job.state) == ("+380671234567", QUEUE,
                                                                 "requested", "pending")
        assert job.arrived_at.timestamp() == int(line.ends[n.clinic_leg]["CC-Member-Joined-Time"])


@pytest.mark.timeout(OFFER_SETTLED.total_seconds() + 180)
async def test_a_patient_who_hangs_up_during_the_offer_is_called_back_on_freeswitch(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    """H presses the offer key and hangs up while the offer asks, booking nothing: H waited
    and reached no one, so the call is returned like an abandon (docs/callbacks.md, "Missed
    calls"): the intake makes a missed-call job once the offer surely ended (``OFFER_SETTLED``
    after the call, on the controller's real clock), and the scheduler calls H back."""
    async with offer_clinic(make_freeswitch, tmp_path, "offer-hangup", _config(), CONTACT,
                            now=lambda: datetime.now(UTC)) as (c, line):  # fmt: skip
        assert c.parts.callbacks is not None
        h = await queued(c, line, "+380501230050")
        asked = asyncio.Event()
        h.on_menu = lambda trace: asked.set()  # the next wait for keys: the offer's question
        assert (await c.observer.esl.api(f"uuid_send_dtmf {h.patient} 1")).startswith("+OK")
        await asyncio.wait_for(asked.wait(), 30)
        assert prompts.prompt_name("en", prompts.CALLBACK_OFFER) in h.prompts_played
        await c.observer.hang_up(h)
        await c.observer.finished(h, 30)
        assert await c.parts.callbacks.store.jobs() == []  # the offer booked nothing
        await operator_available(c)
        await line.until(lambda: any(e[0] == "callback" and e[2] == "ANSWER"
                                     for e in line.order),
                         OFFER_SETTLED.total_seconds() + 90)  # fmt: skip
        await c.parts.callbacks.attempts_done()
        [job] = await c.parts.callbacks.store.jobs()
        assert (job.phone, job.queue, job.reason, job.state) == ("+380501230050", QUEUE,
                                                                 "missed", "done")
        attempt = await _written_attempt(c, h.clinic_leg)
        assert (attempt.outcome, attempt.exit_key) == ("exitkey", "1")


async def test_the_threshold_offer_takes_a_waiting_patient_into_the_offer_on_freeswitch(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    """``offer_after_min: 1`` and an operator on break (an estimate of at least the default
    handle time): the threshold watcher (started by ``running``) asks the engine port to offer;
    FreeSWITCH's control makes T's channel receive ``A``, mod_callcenter ends the stay by that
    exit key, and T hears the offer unasked, books and is hung up on."""
    config = _config(offer_after_min=1)
    async with offer_clinic(make_freeswitch, tmp_path, "offer-threshold", config,
                            OPERATOR_CONTACT) as (c, line):  # fmt: skip
        assert c.parts.callbacks is not None
        t = await queued(c, line, "+380501230030", "011")  # the offer: yes, this number
        await c.observer.finished(t, 60)
        t_left = line.ends[t.clinic_leg]
        assert (t_left.get("CC-Cancel-Reason"), t_left.get("variable_cc_exit_key")) == (
            "EXIT_WITH_KEY", "A")
        assert prompts.prompt_name("en", prompts.CALLBACK_CONFIRMED) in t.prompts_played
        [job] = await c.parts.callbacks.store.jobs()
        assert (job.phone, job.queue, job.reason) == ("+380501230030", QUEUE, "requested")
        assert job.arrived_at.timestamp() == int(t_left["CC-Member-Joined-Time"])
        [attempt] = await _written_attempts(c, t.clinic_leg, 1)
        assert (attempt.outcome, attempt.exit_key) == ("exitkey", "A")


async def _written_attempt(c: Clinic, call_key: str) -> QueueAttempt:
    """The call's first queue attempt once the account holds its outcome."""
    return (await _written_attempts(c, call_key, 1))[0]


async def _written_attempts(c: Clinic, call_key: str, count: int) -> list[QueueAttempt]:
    """The call's queue attempts once the account holds ``count`` of them with an outcome."""
    for _ in range(200):  # the account writes in batches: flush until it is projected
        await c.parts.tracker.reconcile()
        await c.parts.tracker.flush()
        async with c.parts.sessions() as session:
            attempts = list(await session.scalars(
                select(QueueAttempt).join(Call, Call.id == QueueAttempt.call_id)
                .where(Call.call_key == call_key).order_by(QueueAttempt.joined_at)))
        if len(attempts) >= count and all(a.outcome is not None for a in attempts[:count]):
            return attempts
        await asyncio.sleep(0.1)
    raise AssertionError(f"the account never held {count} queue attempts of the call")


async def test_a_caller_hears_place_and_wait_before_joining_and_the_estimate_is_measured(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    """``callbacks.announce_wait`` (docs/callbacks.md, "Estimated wait"): the operator is on
    break when Y asks for the front desk; Y hears their place and the wait as a range in the
    IVR's session, so before mod_callcenter has them; once the operator is back and has
    answered Y, the store holds the announcement beside the wait that followed."""
    since = datetime.now(UTC)
    async with offer_clinic(make_freeswitch, tmp_path, "offer-join-wait",
                            _config(announce_wait=True), OPERATOR_CONTACT) as (c, line):
        c.parts.controller.join_place_deadline_s = 30.0  # a loaded machine: keep the words
        y = await queued(c, line, "+380501230040")
        heard = list(y.prompts_played)  # as mod_callcenter took them
        assert prompts.prompt_name("en", prompts.QUEUE_POSITION) in heard
        assert [p for p in heard if p.startswith(prompts.prompt_name("en", "wait_"))], heard
        await operator_available(c)
        await line.until(lambda: ("served", y.clinic_leg) in line.order, 60)
        await c.observer.finished(y, 60)
        attempt = await _written_attempt(c, y.clinic_leg)
        assert attempt.connected_at is not None
        async with c.parts.sessions() as session:
            keys = list(await session.scalars(select(WaitEstimate.call_key)))
            accuracy = await estimate_accuracy(session, start=since, end=datetime.now(UTC))
        assert keys == [y.clinic_leg]
        assert accuracy.clinicall.count == 1


async def test_a_declined_caller_keeps_their_place_ahead_of_a_later_callback_on_freeswitch(
        make_freeswitch: FreeswitchFactory, tmp_path: Path) -> None:
    """Y and D wait; a callback job comes in after D joined; D presses the offer key and
    declines, so mod_callcenter has D again.  The scheduler places D at their first join (the
    account's stay D left by the key), so after Y it is D's turn, not the callback's, though
    the callback's call came before D's return (docs/callbacks.md, "Exact place").  The order
    is FreeSWITCH's own events."""
    async with offer_clinic(make_freeswitch, tmp_path, "offer-declined-place", _config(),
                            CONTACT) as (c, line):  # fmt: skip
        assert c.parts.callbacks is not None
        y = await queued(c, line, "+380501230050")
        d = await queued(c, line, "+380501230051")  # silent at the offer: declines
        now = datetime.now(UTC)
        job = await c.parts.callbacks.store.add_job(
            phone="+380501230053", queue=QUEUE, reason=CallbackReason.REQUESTED,
            arrived_at=now, due_at=now, now=now)  # fmt: skip
        assert (await c.observer.esl.api(f"uuid_send_dtmf {d.patient} 1")).startswith("+OK")
        await line.until(lambda: line.joins.count(d.clinic_leg) == 2, 60)  # declined, back
        await _written_attempt(c, d.clinic_leg)  # the stay D left, as the scheduler reads it
        await operator_available(c)
        key = f"cb{job}-1"
        await line.until(lambda: ("callback", key, "ANSWER") in line.order, 240)
        served = [e for e in line.order if e[0] == "served"
                  or (e[0] == "callback" and e[2] == "ANSWER")]  # fmt: skip
        assert served == [("served", y.clinic_leg), ("served", d.clinic_leg),
                          ("callback", key, "ANSWER")], line.order
