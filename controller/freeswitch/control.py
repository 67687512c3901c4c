"""Engine control over the inbound Event Socket: the engine port's ``EngineControl`` for
FreeSWITCH (docs/engines/freeswitch.md, "Engine control").

Every command is one ``api`` (or ``bgapi``) with a deadline; the ESL layer's failures map onto
the port's errors in one place (``_api``): not connected → EngineUnavailable (not sent), the
link lost while waiting → OutcomeUnknown (never re-sent), output starting ``-ERR`` →
EngineRefused, no answer → EngineTimeout.

Originate is ``bgapi originate {origination_uuid=<id>,...}loopback/<number>/<context>
clinicall_after_ivr XML clinicall``: the job's BACKGROUND_JOB says ``+OK <uuid>`` once the
callee answered, or ``-ERR <CAUSE>``; the answered callee then runs the dialplan's
``clinicall_after_ivr`` with ``CLINICALL_OUTCOME=queue`` and joins the queue, as an IVR caller
does.  The channel's uuid is derived from the request's idempotency key, so after a restart
or a lost link the call is recognised by its facts instead of being dialled again.

Agent first (a callback, ``OriginateRequest.agent``): the agent's contact (from
``callcenter_config agent list``) is originated into the generated ``clinicall_callback``
context with the patient's number as the extension; once the operator answered the dialplan
whispers, bridges the patient and fires a ``clinicall::callback`` CUSTOM event (``Key``,
``Status``: ``ANSWER``, or the bridge's ``originate_disposition`` cause); an operator who hangs
up first ends the agent's leg without one (docs/engines/freeswitch.md, "The callback call").

Queue members are mod_callcenter agents (operator ids) and tiers: log-in is ``tier add`` (and
the agent's status), log-out ``tier del``, pause the agent's status ``On Break``.  An agent's
status is per agent, not per queue: a pause in one queue pauses the operator everywhere.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Callable
from typing import Protocol

from clinicall.agi_scripts import variables as v
from clinicall.controller.facts import MemberState
from clinicall.controller.freeswitch.esl.errors import (
    EslCommandError,
    EslLinkLost,
    EslNotConnected,
)
from clinicall.controller.freeswitch.esl.message import EslEvent
from clinicall.controller.freeswitch.queue_wait import OFFER_UNASKED_KEY
from clinicall.controller.port import (
    GREETING_S,
    EngineRefused,
    EngineTimeout,
    EngineUnavailable,
    OriginateCause,
    OriginateFailed,
    OriginateRequest,
    OriginateResult,
    OutcomeUnknown,
    QueueEntryStatus,
    QueueMemberStatus,
    QueueStatus,
)

#: mod_callcenter's queues of a clinic: ``<queue id>@clinicall``
#: (clinicall/freeswitch_config/callcenter.py names them).
QUEUE_DOMAIN = "clinicall"
#: The account code that marks the clinic's channels (the generated dialplan sets it on a
#: clinic call, originate on a call the clinic places; it also picks the CDR template).
ACCOUNT = "clinicall"
#: Where an answered originated call goes: the generated dialplan's after-IVR extension.
AFTER_IVR = "clinicall_after_ivr XML clinicall"
#: The context the dialling leg of an originated call runs in (the generated dialplan's).
ORIGINATE_CONTEXT = "clinicall_originate"
ORIGINATE_KEY = "CLINICALL_ORIGINATE_KEY"
#: Agent first: the context the operator's answered leg runs (the generated dialplan's,
#: clinicall/freeswitch_config/dialplan.py), the channel variables it reads, and the CUSTOM
#: event it fires with the patient's outcome.
CALLBACK_CONTEXT = "clinicall_callback"
CALLBACK_SUBCLASS = "clinicall::callback"
RING_S = "CLINICALL_RING_S"
#: The patient's leg's originate as a whole: the ring (``leg_timeout``, cancelled once they
#: answered) plus their greeting, which the originate waits for (``originate_timeout`` is not
#: cancelled by ``group_confirm_cancel_timeout``: switch_ivr_originate.c).
DIAL_LIMIT_S = "CLINICALL_DIAL_LIMIT_S"
DIAL_CONTEXT = "CLINICALL_DIAL_CONTEXT"
PATIENT_CALLER_ID = "CLINICALL_CALLER_ID"
#: Patient first into an IVR flow (a reminder, docs/reminders.md): the answered callee runs
#: the generated ``clinicall_flow`` extension, which hands it to the controller's outbound
#: socket with ``CLINICALL_FLOW`` set (the CallPort reads it) and, when the flow queued the
#: callee (key 0), goes on to the queue.
FLOW = "CLINICALL_FLOW"
FLOW_EXTENSION = "clinicall_flow XML clinicall"
FLOW_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
#: The agent's leg ended before the dialplan said how the patient's leg went: the operator
#: hung up during the whisper or while the patient rang.
AGENT_GONE = "AGENT_GONE"
DIALLABLE = re.compile(r"\+?[0-9]{2,20}")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}")
VARIABLE_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
#: Characters that end or re-open an originate's ``{a=b,c=d}`` block or an argument.
VALUE_UNSAFE = re.compile(r"[,{}\[\]'\"\\\s$]")
CALL_DATA_VARIABLES = {"language": v.CLINICALL_LANG, "route": v.CLINICALL_ROUTE,
                       "path": v.CLINICALL_PATH, "outcome": v.CLINICALL_OUTCOME,
                       "priority": v.CLINICALL_PRIORITY,
                       # the number a placed call dials (as on Asterisk: CLINICALL_DIALLED is
                       # the clinic's own number, which the IVR reads)
                       "dialled": "CLINICALL_CALLED"}  # fmt: skip
#: BACKGROUND_JOB ``-ERR <cause>`` → why the call did not connect.
ORIGINATE_CAUSES = {
    "NO_ANSWER": OriginateCause.NO_ANSWER, "NO_USER_RESPONSE": OriginateCause.NO_ANSWER,
    "ORIGINATOR_CANCEL": OriginateCause.NO_ANSWER, "ALLOTTED_TIMEOUT": OriginateCause.NO_ANSWER,
    "USER_BUSY": OriginateCause.BUSY,
    "CALL_REJECTED": OriginateCause.REJECTED, "NORMAL_CIRCUIT_CONGESTION":
    OriginateCause.REJECTED, "OUTGOING_CALL_BARRED": OriginateCause.REJECTED,
    "NO_ROUTE_DESTINATION": OriginateCause.NO_ROUTE, "UNALLOCATED_NUMBER":
    OriginateCause.NO_ROUTE, "SUBSCRIBER_ABSENT": OriginateCause.NO_ROUTE,
    "INVALID_NUMBER_FORMAT": OriginateCause.NO_ROUTE,
}  # fmt: skip
#: mod_callcenter agent states → a member's state (``Logged Out`` status → offline).
AGENT_STATES = {"Waiting": MemberState.IDLE, "Receiving": MemberState.RINGING,
                "Reserved": MemberState.RINGING, "In a queue call": MemberState.IN_CALL,
                "Idle": MemberState.IDLE}  # fmt: skip
ON_BREAK, AVAILABLE, LOGGED_OUT = "On Break", "Available", "Logged Out"
WAITING_MEMBER_STATES = frozenset({"Waiting", "Trying"})
#: A priority level outranks an hour of waiting (mod_callcenter serves the highest score:
#: ``cc_base_score`` plus the seconds waited); the IVR's port uses the same.
SCORE_PER_PRIORITY = 3600


class EslApi(Protocol):
    """What control needs of the inbound client (``esl.client.EslClient``)."""

    async def api(self, command: str, *,
                  timeout: float | None = None) -> str: ...  # noqa: ASYNC109  # fmt: skip

    async def bgapi(self, command: str, *,
                    timeout: float | None = None) -> str: ...  # noqa: ASYNC109  # fmt: skip


def call_id_for(key: str) -> str:
    """The uuid of an originated call, the same for the same idempotency key (a UUID-shaped
    hash: FreeSWITCH takes any string, the CDR and the facts keep it as the call id)."""
    h = hashlib.blake2b(key.encode(), digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def queue_name(queue: str) -> str:
    return queue if "@" in queue else f"{queue}@{QUEUE_DOMAIN}"


def neutral_queue(name: str) -> str:
    return name.removesuffix(f"@{QUEUE_DOMAIN}")


def rows(table: str) -> list[dict[str, str]]:
    """A ``callcenter_config ... list`` answer (a ``|`` table, then ``+OK``) as dicts."""
    lines = [line for line in table.strip().splitlines() if line and line != "+OK"]
    if not lines:
        return []
    header = lines[0].split("|")
    return [dict(zip(header, line.split("|"), strict=False)) for line in lines[1:]
            if line.count("|") == len(header) - 1]  # fmt: skip


def channel_variable(action: str, name: str) -> str:
    if name in CALL_DATA_VARIABLES:
        return CALL_DATA_VARIABLES[name]
    if not VARIABLE_NAME.fullmatch(name):
        raise EngineRefused(action, f"call data name {name!r}: lower-case letters, digits "
                            "and _ only")  # fmt: skip
    return f"CLINICALL_{name.upper()}"


def _checked(action: str, what: str, text: str, pattern: re.Pattern[str] = NAME) -> str:
    if not pattern.fullmatch(text):
        raise EngineRefused(action, f"{what} {text[:40]!r} is not a valid name")
    return text


class FreeswitchControl:
    """``EngineControl`` over one inbound ESL client.  The engine forwards every link loss to
    ``on_link_lost`` (nothing to do: a bgapi waiting for its job fails by itself)."""

    def __init__(self, esl: EslApi, *, deadline_s: float = 5.0,
                 originate_context: str = ORIGINATE_CONTEXT,
                 clock: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.esl, self.deadline_s = esl, deadline_s
        self.originate_context = originate_context
        self.clock = clock
        self._originating: set[str] = set()
        #: Agent-first originates waiting for the patient's leg: key → its Status; and the
        #: agent leg's uuid → key (its hang-up before a Status: the operator left).
        self._patients: dict[str, asyncio.Future[str]] = {}
        self._agent_legs: dict[str, str] = {}
        #: Keys whose originate was sent and then lost with the link: never dialled again here.
        self._unknown: set[str] = set()

    # ---- originate ---------------------------------------------------------------------

    async def originate(self, request: OriginateRequest) -> OriginateResult:
        action = "originate"
        if not DIALLABLE.fullmatch(request.number):
            raise EngineRefused(action, "not a diallable number (digits, optional +)")
        _checked(action, "queue", request.queue)
        if request.flow and (request.agent or not FLOW_NAME.fullmatch(request.flow)):
            raise EngineRefused(action, "a flow is a lower-case name, without agent")
        call_id = call_id_for(request.key)
        if call_id in self._originating:
            raise EngineRefused(action, "this key is being dialled already")
        if request.key in self._unknown:
            raise EngineRefused(action, "this key was dialled and its outcome is unknown; "
                                "read the call's facts instead of dialling again")
        variables = {
            "origination_uuid": call_id, ORIGINATE_KEY: request.key,
            "originate_timeout": str(max(1, round(request.ring_timeout_s))),
            "accountcode": ACCOUNT, v.CLINICALL_QUEUE: request.queue,
            v.CLINICALL_PRIORITY: str(request.priority),
        }  # fmt: skip
        if request.agent:  # the operator's leg runs the callback context, not the queue
            variables.update({RING_S: variables["originate_timeout"],
                              DIAL_LIMIT_S: str(round(request.ring_timeout_s + GREETING_S)),
                              DIAL_CONTEXT: self.originate_context,
                              PATIENT_CALLER_ID: request.caller_id})  # fmt: skip
        else:  # a flow decides itself whether the callee joins the queue
            if request.flow:
                variables[FLOW] = request.flow
            else:
                variables[v.CLINICALL_OUTCOME] = v.OUTCOME_QUEUE
            variables["cc_base_score"] = str(request.priority * SCORE_PER_PRIORITY)
            if request.caller_id:
                variables["origination_caller_id_number"] = request.caller_id
        for name, value in request.data.items():
            variables[channel_variable(action, name)] = value
        if any(VALUE_UNSAFE.search(value) for value in variables.values()):
            raise EngineRefused(action, "call data, caller id or key with a comma, brace, "
                                "quote, space or $")  # fmt: skip
        block = ",".join(f"{k}={x}" for k, x in variables.items())
        if request.agent:
            contact = await self._agent_contact(action, request.agent)
            command = f"originate {{{block}}}{contact} {request.number} XML {CALLBACK_CONTEXT}"
        else:
            after = FLOW_EXTENSION if request.flow else AFTER_IVR
            command = (f"originate {{{block}}}loopback/{request.number}/"
                       f"{self.originate_context} {after}")  # fmt: skip
        patient: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        if request.agent:  # before the command: the Status may come right after the answer
            self._patients[request.key] = patient
            self._agent_legs[call_id] = request.key
        self._originating.add(call_id)
        try:
            output = await self._bgapi(action, command, request.ring_timeout_s + self.deadline_s)
            if output.startswith("+OK") and request.agent:
                await self._patient_answered(action, patient, request)
        except OutcomeUnknown:
            self._unknown.add(request.key)
            raise
        finally:
            self._originating.discard(call_id)
            self._patients.pop(request.key, None)
            self._agent_legs.pop(call_id, None)
        if output.startswith("+OK"):
            return OriginateResult(request.key, call_id, call_id)
        cause = output.removeprefix("-ERR").strip().split()[0] if output.strip() else ""
        failed = (OriginateCause.AGENT_MISSED if request.agent  # nobody dialled the patient
                  else ORIGINATE_CAUSES.get(cause, OriginateCause.FAILED))  # fmt: skip
        raise OriginateFailed(action, failed, {"cause": cause})

    async def _patient_answered(self, action: str, patient: asyncio.Future[str],
                                request: OriginateRequest) -> None:  # fmt: skip
        """The operator answered: until the dialplan says how the patient's leg went."""
        try:
            async with asyncio.timeout(request.patient_outcome_s() + self.deadline_s):
                status = await patient
        except TimeoutError:
            raise EngineTimeout(action, "no outcome of the patient's leg in time") from None
        if status == "ANSWER":
            return
        cause = (OriginateCause.AGENT_MISSED if status == AGENT_GONE
                 else ORIGINATE_CAUSES.get(status, OriginateCause.FAILED))  # fmt: skip
        raise OriginateFailed(action, cause, {"status": status})

    async def _agent_contact(self, action: str, agent: str) -> str:
        """The dial string mod_callcenter rings ``agent`` with (``agent list``)."""
        name = _checked(action, "member", agent)
        for row in rows(await self._api(action, "callcenter_config agent list")):
            if row.get("name") == name:
                contact = row.get("contact", "")
                if not contact or any(c.isspace() for c in contact):
                    raise EngineRefused(action, f"agent {name}: no contact without spaces")
                return contact
        raise EngineRefused(action, f"no agent {name}")

    def on_event(self, event: EslEvent) -> None:
        """Every event of the inbound link: the callback dialplan's ``clinicall::callback``
        settles its patient's leg; the agent leg's hang-up before it, the operator's leaving."""
        if event.name == "CUSTOM" and event.subclass == CALLBACK_SUBCLASS:
            waiting = self._patients.get(event.get("Key", ""))
            status = event.get("Status", "")
        elif event.name == "CHANNEL_HANGUP" and event.unique_id in self._agent_legs:
            waiting = self._patients.get(self._agent_legs[event.unique_id])
            status = AGENT_GONE
        else:
            return
        if waiting is not None and not waiting.done():
            waiting.set_result(status)

    def on_link_lost(self, detail: str) -> None:
        """A pending bgapi fails by itself (EslLinkLost → OutcomeUnknown); a callback waiting
        for its patient's leg will not hear it on this link."""
        for waiting in self._patients.values():
            if not waiting.done():
                waiting.set_exception(OutcomeUnknown("originate", f"ESL link lost ({detail})"))

    # ---- queue members -----------------------------------------------------------------

    async def queue_member_add(self, queue: str, member: str, *, name: str = "",
                               paused: bool = False, penalty: int = 0) -> None:  # fmt: skip
        """The tier's level is the penalty + 1, as the generated tiers have it
        (docs/engines/freeswitch.md)."""
        action = "queue_member_add"
        agent = _checked(action, "member", member)
        q = queue_name(_checked(action, "queue", queue))
        if not 0 <= penalty < 100:
            raise EngineRefused(action, f"penalty {penalty}: expected 0 to 99")
        await self._api(action, f"callcenter_config tier add {q} {agent} {penalty + 1} 1")
        await self._status(action, agent, ON_BREAK if paused else AVAILABLE)

    async def queue_member_remove(self, queue: str, member: str) -> None:
        action = "queue_member_remove"
        agent = _checked(action, "member", member)
        q = queue_name(_checked(action, "queue", queue))
        await self._api(action, f"callcenter_config tier del {q} {agent}")

    async def queue_member_pause(self, member: str, *, paused: bool, reason: str = "",
                                 queue: str | None = None) -> None:  # fmt: skip
        """Per agent: mod_callcenter has no per-queue pause and no pause reason."""
        action = "queue_member_pause"
        agent = _checked(action, "member", member)
        await self._status(action, agent, ON_BREAK if paused else AVAILABLE)

    async def queue_status(self) -> tuple[QueueStatus, ...]:
        """The clinic's queues (``<id>@clinicall``): their agents by tier, the members
        waiting (``Waiting`` or ``Trying``) in mod_callcenter's order, and the longest wait."""
        action = "queue_status"
        listed = rows(await self._api(action, "callcenter_config queue list"))
        # the clinic's queues only (a stock config also has ``support@default``)
        queues = sorted(r["name"] for r in listed if r["name"].endswith(f"@{QUEUE_DOMAIN}"))
        members = rows(await self._api(action, "callcenter_config queue list members"))
        now = self.clock()
        result = []
        for q in queues:
            if not NAME.fullmatch(q):
                continue
            agents = rows(await self._api(action, f"callcenter_config queue list agents {q}"))
            entries = waiting_entries(q, members, now)
            result.append(QueueStatus(
                queue=neutral_queue(q),
                members=tuple(_member_status(neutral_queue(q), a) for a in agents),
                waiting=len(entries), longest_wait_s=max((e.wait_s for e in entries),
                                                         default=0.0),
                entries=entries))  # fmt: skip
        return tuple(result)

    # ---- calls -------------------------------------------------------------------------

    async def hangup(self, channel_id: str, *, cause: int = 16) -> None:
        action = "hangup"
        await self._api(action, f"uuid_kill {_checked(action, 'channel', channel_id)} {cause}")

    async def set_call_data(self, channel_id: str, name: str, value: str) -> None:
        action = "set_call_data"
        if "\n" in value or "\r" in value:
            raise EngineRefused(action, "a value with a line break")
        variable = channel_variable(action, name)
        await self._api(action, f"uuid_setvar {_checked(action, 'channel', channel_id)} "
                        f"{variable} {value}")  # fmt: skip

    async def offer_callback(self, channel_id: str) -> None:
        """The threshold offer: ``uuid_recv_dtmf <channel> A``, the key received on the
        waiting caller's channel as if they had pressed it.  mod_callcenter ends the stay by
        its exit key (``cc_exit_keys``, ``EXIT_WITH_KEY``, ``cc_exit_key=A``) and the
        generated dialplan hands the caller to the offer over the outbound socket, as for the
        patient's own ``1`` (docs/engines/freeswitch.md, "The in-queue callback offer").  A
        caller who left meanwhile: EngineRefused (``-ERR no such channel``)."""
        action = "offer_callback"
        channel = _checked(action, "channel", channel_id)
        await self._api(action, f"uuid_recv_dtmf {channel} {OFFER_UNASKED_KEY}")

    # ---- one place for the errors ------------------------------------------------------

    async def _status(self, action: str, agent: str, status: str) -> None:
        await self._api(action, f"callcenter_config agent set status {agent} '{status}'")

    async def _api(self, action: str, command: str) -> str:
        try:
            output = await self.esl.api(command, timeout=self.deadline_s)
        except EslNotConnected as error:
            raise EngineUnavailable(action, str(error)) from None
        except EslLinkLost as error:
            raise OutcomeUnknown(action, str(error)) from None
        except TimeoutError:
            raise EngineTimeout(action, f"no answer within {self.deadline_s:g} s") from None
        except ValueError as error:
            raise EngineRefused(action, str(error)) from None
        if output.startswith("-ERR") or output.startswith("-USAGE"):
            raise EngineRefused(action, output.strip()[:200], {"output": output[:200]})
        return output

    async def _bgapi(self, action: str, command: str, timeout_s: float) -> str:
        try:
            return await self.esl.bgapi(command, timeout=timeout_s)
        except EslNotConnected as error:
            raise EngineUnavailable(action, str(error)) from None
        except EslLinkLost as error:
            raise OutcomeUnknown(action, str(error)) from None
        except EslCommandError as error:
            raise EngineRefused(action, error.reply) from None
        except TimeoutError:
            raise EngineTimeout(action, f"no result within {timeout_s:g} s") from None
        except ValueError as error:
            raise EngineRefused(action, str(error)) from None


def waiting_entries(queue: str, members: list[dict[str, str]],
                    now: float) -> tuple[QueueEntryStatus, ...]:  # fmt: skip
    """The callers waiting in ``queue`` from ``queue list members``, highest score first
    (mod_callcenter's order).  ``channel_id`` is the member's channel (``session_uuid``),
    ``wait_s`` the time since this stay began (``joined_epoch``: a rejoin restarts it, as
    app_queue's wait does), the priority the IVR's ``cc_base_score`` less what
    ``time-base-score=system`` added to it at the join (the seconds since the call was
    answered, ``joined_epoch - system_epoch``).  A row with an epoch that is not a number is
    left out."""
    waiting: list[tuple[float, QueueEntryStatus]] = []
    for m in members:
        if m.get("queue") != queue or m.get("state") not in WAITING_MEMBER_STATES:
            continue
        try:
            joined = float(m.get("joined_epoch") or "")
            system = float(m.get("system_epoch") or joined)
            base = float(m.get("base_score") or 0)
        except ValueError:
            continue
        wait = max(0.0, now - joined)
        priority = round((base - max(0.0, joined - system)) / SCORE_PER_PRIORITY)
        entry = QueueEntryStatus(channel_id=m.get("session_uuid", ""), wait_s=wait,
                                 priority=priority)  # fmt: skip
        waiting.append((base + wait, entry))
    waiting.sort(key=lambda scored: -scored[0])
    return tuple(e for _, e in waiting)


def _member_status(queue: str, agent: dict[str, str]) -> QueueMemberStatus:
    status = agent.get("status", "")
    state = (MemberState.OFFLINE if status == LOGGED_OUT
             else AGENT_STATES.get(agent.get("state", ""), MemberState.UNKNOWN))  # fmt: skip
    calls = agent.get("calls_answered", "0")
    return QueueMemberStatus(queue=queue, member=agent.get("name", ""),
                             member_name=agent.get("name", ""), state=state,
                             paused=status == ON_BREAK,
                             calls_taken=int(calls) if calls.isdigit() else 0)  # fmt: skip
