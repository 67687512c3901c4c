"""Engine control over AMI: the engine port's ``EngineControl`` for Asterisk.

Every command is one AMI action with a deadline; the AMI layer's failures map onto the port's
errors in one place (``_mapped``): not connected → EngineUnavailable (not sent), the link lost
while waiting → OutcomeUnknown (never re-sent: the AMI client does not re-send actions),
``Response: Error`` → EngineRefused with the response's fields, no reply → EngineTimeout.

Originate runs asynchronously in Asterisk (``Async: true``): the action's reply only says it
was queued, the outcome arrives later as an ``OriginateResponse`` event naming the new channel.
The channel's id is set by us (``ChannelId``), derived from the request's idempotency key, so
the event is matched by it and, after a restart or a lost link, the call is recognised by its
facts (its call id is the same) instead of being dialled again.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Mapping

from clinicall.agi_scripts import variables as v
from clinicall.controller.asterisk.ami.client import AMIClient
from clinicall.controller.asterisk.ami.connection import ActionResult
from clinicall.controller.asterisk.ami.errors import AMIActionError, AMIConnectionLost
from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami.protocol import FieldValue
from clinicall.controller.asterisk.ami_facts import DEVICE_STATES
from clinicall.controller.facts import MemberState
from clinicall.controller.port import (
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

#: Where calls the clinic places start and where they go once answered:
#: ``Local/<number>@clinicall-originate/n`` into ``clinicall-queue-entry,<queue>`` (the
#: generated dialplan, clinicall.asterisk_config.dialplan, defines both).
ORIGINATE_CONTEXT = "clinicall-originate"
QUEUE_ENTRY_CONTEXT = "clinicall-queue-entry"
#: Agent first (a callback): the operator's interface is dialled into
#: ``clinicall-callback,<number>``, which whispers, dials the patient through
#: ``clinicall-originate`` and reports the patient's answer or ``DIALSTATUS`` as a
#: ``UserEvent`` named ``ClinicallCallback`` (Key, Status); docs/callbacks.md.
CALLBACK_CONTEXT = "clinicall-callback"
CALLBACK_ANSWERED = "clinicall-callback-answered"
CALLBACK_EVENT = "ClinicallCallback"
#: Patient first into an IVR flow (a reminder): the answered callee runs
#: ``clinicall-flow,<flow>`` (a FastAGI script of the same name), docs/reminders.md.
FLOW_CONTEXT = "clinicall-flow"
FLOW_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
#: Dial()'s DIALSTATUS for the patient's leg → the port's cause (ANSWER is success; CANCEL:
#: the operator hung up before the patient answered).
DIAL_STATUSES = {"NOANSWER": OriginateCause.NO_ANSWER, "BUSY": OriginateCause.BUSY,
                 "CONGESTION": OriginateCause.REJECTED, "CHANUNAVAIL": OriginateCause.NO_ROUTE,
                 "CANCEL": OriginateCause.AGENT_MISSED}  # fmt: skip
DIALLABLE = re.compile(r"\+?[0-9]{2,20}")
VARIABLE_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
#: Originate's ``Variable`` header is split on commas by Asterisk (``a,QUEUE_PRIO=9`` sets two
#: variables), and quotes and backslashes are argument syntax there: refused in its values.
VARIABLE_UNSAFE = re.compile(r'[,"\\\x00-\x1f]')
#: Neutral call data names → the dialplan's channel variables.
CALL_DATA_VARIABLES = {"language": v.CLINICALL_LANG, "route": v.CLINICALL_ROUTE,
                       "path": v.CLINICALL_PATH, "outcome": v.CLINICALL_OUTCOME,
                       "priority": v.CLINICALL_PRIORITY,
                       # the number a call clinicall places dials (the inbound dialplan's
                       # CLINICALL_DIALLED is the clinic's own number)
                       "dialled": "CLINICALL_CALLED"}  # fmt: skip
ORIGINATE_KEY = "CLINICALL_ORIGINATE_KEY"
#: OriginateResponse ``Reason``: Asterisk's control frame that ended the attempt.
ORIGINATE_REASONS = {"0": OriginateCause.NO_ROUTE, "1": OriginateCause.REJECTED,
                     "3": OriginateCause.NO_ANSWER, "5": OriginateCause.BUSY,
                     "8": OriginateCause.REJECTED}  # fmt: skip


#: How long the unasked-offer key lasts (ms): a key app_queue reads like a patient's.
UNASKED_KEY_MS = 250


def call_id_for(key: str) -> str:
    """The engine's id of an originated call, the same for the same idempotency key."""
    return "cb-" + hashlib.blake2b(key.encode(), digest_size=10).hexdigest()


def channel_variable(action: str, name: str) -> str:
    """The channel variable that carries the neutral call data ``name`` (EngineRefused for a
    name that is not one, before anything is sent)."""
    if name in CALL_DATA_VARIABLES:
        return CALL_DATA_VARIABLES[name]
    if not VARIABLE_NAME.fullmatch(name):
        raise EngineRefused(action, f"call data name {name!r}: lower-case letters, digits "
                            "and _ only")  # fmt: skip
    return f"CLINICALL_{name.upper()}"


class AsteriskControl:
    """``EngineControl`` over one AMI client.  The engine forwards every AMI frame to
    ``on_message`` and every link loss to ``on_link_lost`` (see ``AsteriskEngine``)."""

    def __init__(self, ami: AMIClient, *, deadline_s: float = 5.0,
                 originate_context: str = ORIGINATE_CONTEXT,
                 queue_context: str = QUEUE_ENTRY_CONTEXT) -> None:  # fmt: skip
        self.ami, self.deadline_s = ami, deadline_s
        self.originate_context, self.queue_context = originate_context, queue_context
        self._originating: dict[str, asyncio.Future[Message]] = {}  # channel id → response
        #: Agent-first originates waiting for the patient's leg: key → its ClinicallCallback.
        self._patients: dict[str, asyncio.Future[Message]] = {}
        #: Keys whose originate was sent and then lost with the link: the call may be ringing,
        #: so this process never dials them again (the caller learns the outcome from the
        #: call's facts, under the same call id).
        self._unknown: set[str] = set()

    # ---- originate ---------------------------------------------------------------------

    async def originate(self, request: OriginateRequest) -> OriginateResult:
        if not DIALLABLE.fullmatch(request.number):
            raise EngineRefused("Originate", "not a diallable number (digits, optional +)")
        call_id = call_id_for(request.key)
        if call_id in self._originating:
            raise EngineRefused("Originate", "this key is being dialled already")
        if request.key in self._unknown:
            raise EngineRefused("Originate", "this key was dialled and its outcome is unknown; "
                                "read the call's facts instead of dialling again")
        variables = [f"{ORIGINATE_KEY}={request.key}",
                     f"{v.CLINICALL_PRIORITY}={request.priority}",
                     f"{v.QUEUE_PRIO}={request.priority}"]  # fmt: skip
        variables += [f"{channel_variable('Originate', k)}={value}"
                      for k, value in request.data.items()]
        if request.agent:
            variables += [f"CLINICALL_RING_S={int(request.ring_timeout_s)}",
                          f"{v.CLINICALL_QUEUE}={request.queue}"]  # fmt: skip
        if any(VARIABLE_UNSAFE.search(item) for item in variables):
            raise EngineRefused("Originate", "call data or key with a comma, quote or backslash")
        fields: dict[str, FieldValue] = {
            "Channel": f"Local/{request.number}@{self.originate_context}/n",
            "Context": self.queue_context, "Exten": request.queue, "Priority": "1",
            "Async": "true", "Timeout": str(int(request.ring_timeout_s * 1000)),
            "ChannelId": call_id, "OtherChannelId": f"{call_id}-2", "Variable": variables,
        }  # fmt: skip
        if request.flow:  # patient first into an IVR flow (a reminder)
            if request.agent or not FLOW_NAME.fullmatch(request.flow):
                raise EngineRefused("Originate", "a flow is a lower-case name, without agent")
            fields.update({"Context": FLOW_CONTEXT, "Exten": request.flow})
        if request.agent:  # agent first: ring the operator, then the patient from the dialplan
            fields.update({"Channel": request.agent, "Context": CALLBACK_CONTEXT,
                           "Exten": request.number})  # fmt: skip
        if request.caller_id:
            fields["CallerID"] = request.caller_id
        loop = asyncio.get_running_loop()
        response: asyncio.Future[Message] = loop.create_future()
        patient: asyncio.Future[Message] = loop.create_future()
        self._originating[call_id] = response
        if request.agent:
            self._patients[request.key] = patient
        try:
            await self._action("Originate", fields)
            async with asyncio.timeout(request.ring_timeout_s + self.deadline_s):
                event = await response
            if event.get("Response", "").lower() != "success":
                cause = (OriginateCause.AGENT_MISSED if request.agent else
                         ORIGINATE_REASONS.get(event.get("Reason", ""), OriginateCause.FAILED))
                raise OriginateFailed("Originate", cause, dict(event.headers))
            if request.agent:  # the whisper, the patient's ring, their greeting
                async with asyncio.timeout(request.patient_outcome_s() + self.deadline_s):
                    said = await patient
                status = said.get("Status", "").upper()
                if status != "ANSWER":
                    raise OriginateFailed("Originate", DIAL_STATUSES.get(
                        status, OriginateCause.FAILED), dict(said.headers))
        except OutcomeUnknown:
            self._unknown.add(request.key)
            raise
        except TimeoutError:
            raise EngineTimeout("Originate", "no outcome of the originate in time") from None
        finally:
            self._originating.pop(call_id, None)
            self._patients.pop(request.key, None)
        return OriginateResult(request.key, call_id, call_id)

    def on_message(self, message: Message) -> None:
        """Every AMI frame: an OriginateResponse settles its originate, a ClinicallCallback
        user event its patient's leg."""
        kind = message.event.lower()
        if kind == "originateresponse":
            waiting = self._originating.get(message.get("Uniqueid", ""))
        elif kind == "userevent" and message.get("UserEvent", "") == CALLBACK_EVENT:
            waiting = self._patients.get(message.get("Key", ""))
        else:
            return
        if waiting is not None and not waiting.done():
            waiting.set_result(message)

    def on_link_lost(self, detail: str) -> None:
        """The link dropped: originates still waiting will never hear their outcome here."""
        for waiting in (*self._originating.values(), *self._patients.values()):
            if not waiting.done():
                waiting.set_exception(OutcomeUnknown("Originate", f"AMI link lost ({detail})"))

    # ---- queue members -----------------------------------------------------------------

    async def queue_member_add(self, queue: str, member: str, *, name: str = "",
                               paused: bool = False, penalty: int = 0) -> None:  # fmt: skip
        await self._action("QueueAdd", {"Queue": queue, "Interface": member,
                                        "MemberName": name or member,
                                        "Penalty": str(penalty),
                                        "Paused": "true" if paused else "false"})  # fmt: skip

    async def queue_member_remove(self, queue: str, member: str) -> None:
        await self._action("QueueRemove", {"Queue": queue, "Interface": member})

    async def queue_member_pause(self, member: str, *, paused: bool, reason: str = "",
                                 queue: str | None = None) -> None:  # fmt: skip
        fields: dict[str, FieldValue] = {"Interface": member,
                                         "Paused": "true" if paused else "false"}  # fmt: skip
        if queue:
            fields["Queue"] = queue
        if reason:
            fields["Reason"] = reason
        await self._action("QueuePause", fields)

    async def queue_status(self) -> tuple[QueueStatus, ...]:
        result = await self._action("QueueStatus", {})
        return parse_queue_status(result.events)

    # ---- calls -------------------------------------------------------------------------

    async def hangup(self, channel_id: str, *, cause: int = 16) -> None:
        await self._action("Hangup", {"Channel": channel_id, "Cause": str(cause)})

    async def set_call_data(self, channel_id: str, name: str, value: str) -> None:
        await self._action("Setvar", {"Channel": channel_id,
                                      "Variable": channel_variable("Setvar", name),
                                      "Value": value})  # fmt: skip

    async def offer_callback(self, channel_id: str) -> None:
        """The queue context's unasked-offer key received on the waiting caller's channel:
        app_queue ends ``Queue()`` into ``clinicall-offer`` as for the patient's own key
        (queue_log ``EXITWITHKEY|A``), so a caller who does not book rejoins at their place
        (docs/engines/asterisk.md, "The in-queue callback offer").  ``Redirect`` would end
        ``Queue()`` as an abandon (``ABANDON`` in queue_log)."""
        await self._action("PlayDTMF", {"Channel": channel_id, "Digit": v.OFFER_UNASKED_KEY,
                                        "Duration": str(UNASKED_KEY_MS), "Receive": "true"})

    # ---- one place for the errors ------------------------------------------------------

    async def _action(self, name: str, fields: Mapping[str, FieldValue]) -> ActionResult:
        if not self.ami.connected:
            raise EngineUnavailable(name, f"AMI not connected ({self.ami.last_error or 'down'})")
        try:
            return await self.ami.action(name, fields, timeout=self.deadline_s)
        except AMIActionError as error:
            raw = dict(error.response.headers)
            raise EngineRefused(name, error.message or "refused", raw) from None
        except AMIConnectionLost as error:
            raise OutcomeUnknown(name, str(error)) from None
        except TimeoutError:
            raise EngineTimeout(name, f"no reply within {self.deadline_s:g} s") from None
        except ValueError as error:  # a field with CR/LF: refused before sending
            raise EngineRefused(name, str(error)) from None


def parse_queue_status(events: list[Message]) -> tuple[QueueStatus, ...]:
    """A QueueStatus EventList (QueueParams, QueueMember, QueueEntry) by queue, in order."""
    order: list[str] = []
    members: dict[str, list[QueueMemberStatus]] = {}
    entries: dict[str, list[QueueEntryStatus]] = {}
    holdtimes: dict[str, float | None] = {}
    for event in events:
        kind, queue = event.event.lower(), event.get("Queue", "")
        if kind == "queueparams":
            order.append(queue)
            # 0 before the queue's first answered call: no estimate (docs/engines/asterisk.md)
            holdtimes[queue] = float(_int(event.get("Holdtime", "0"))) or None
        elif kind == "queuemember":
            in_call = event.get("InCall", "0") == "1"
            state = MemberState.IN_CALL if in_call else DEVICE_STATES.get(
                _int(event.get("Status", "")), MemberState.UNKNOWN)
            members.setdefault(queue, []).append(QueueMemberStatus(
                queue=queue, member=event.get("Location", ""),
                member_name=event.get("Name", ""), state=state,
                paused=event.get("Paused", "0") == "1", pause_reason=event.get("PausedReason", ""),
                calls_taken=_int(event.get("CallsTaken", "0"))))  # fmt: skip
        elif kind == "queueentry":
            entries.setdefault(queue, []).append(QueueEntryStatus(
                event.get("Uniqueid", ""), float(_int(event.get("Wait", "0"))),
                _int(event.get("Priority", "0"))))  # fmt: skip
    return tuple(QueueStatus(queue, tuple(members.get(queue, ())), len(entries.get(queue, ())),
                             max((e.wait_s for e in entries.get(queue, ())), default=0.0),
                             tuple(entries.get(queue, ())), holdtimes.get(queue))
                 for queue in order)  # fmt: skip


def _int(text: str) -> int:
    return int(text) if text.isdigit() else 0
