"""The neutral call types: what an engine says about a call, where the IVR sends the caller,
and what an IVR session ended with.

A leaf module: ``ivr`` produces these, ``routing`` builds the queue request, the controller and
its call account consume them, and none of those packages needs another to name them
(docs/architecture.md, "Layers").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class CallInfo:
    """What the engine tells about a call when it hands it over."""

    call_id: str  # engine id of the whole call (Asterisk linkedid)
    channel_id: str  # engine id of the caller's channel (Asterisk uniqueid)
    caller_number: str  # as presented, not yet normalized
    caller_name: str
    dialled_number: str  # the clinic number the patient dialled (DNID / extension)
    engine: str  # "asterisk" | "freeswitch"
    #: Set when the engine hands the call over a second time, after an operator hung up on a
    #: patient who agreed to the post-call survey (None: the call's first, IVR session).
    answered: AnsweredCall | None = None
    #: Set on a reminder call the clinic placed and the patient answered: the id of the
    #: appointment it is about (docs/reminders.md); None for every other call.
    reminder: str | None = None
    #: Set when a waiting caller pressed the in-queue offer key (docs/callbacks.md, "The
    #: offer in the queue"): the queue they left and their place in it; None otherwise.
    queued: QueuedCall | None = None
    #: Set on a leg of a callback call the engine hands over (docs/callbacks.md, "The callback
    #: call"): the operator's, for the whisper, or the patient's, for the greeting.
    callback: CallbackLeg | None = None


def _call_info_init() -> Callable[..., None]:
    """``CallInfo.__init__``, each field set through its own slot.

    A frozen dataclass's generated ``__init__`` sets every field by
    ``object.__setattr__(self, name, value)``, which looks the name up on the class each
    time; the slots' own setters skip that lookup.  A CallInfo is built for every FastAGI
    session (bench/README.md, "FastAGI").  Same parameters, defaults and instances as the
    generated ``__init__`` (tests/unit/test_calltypes.py compares them); the class is still
    the frozen dataclass, so assigning a field afterwards still raises.
    """
    setters: dict[str, Any] = {f.name: getattr(CallInfo, f.name).__set__ for f in fields(CallInfo)}
    set_call_id, set_channel_id = setters["call_id"], setters["channel_id"]
    set_number, set_name = setters["caller_number"], setters["caller_name"]
    set_dialled, set_engine = setters["dialled_number"], setters["engine"]
    set_answered, set_reminder = setters["answered"], setters["reminder"]
    set_queued, set_callback = setters["queued"], setters["callback"]

    def __init__(
        self: CallInfo,
        call_id: str,
        channel_id: str,
        caller_number: str,
        caller_name: str,
        dialled_number: str,
        engine: str,
        answered: AnsweredCall | None = None,
        reminder: str | None = None,
        queued: QueuedCall | None = None,
        callback: CallbackLeg | None = None,
    ) -> None:
        set_call_id(self, call_id)
        set_channel_id(self, channel_id)
        set_number(self, caller_number)
        set_name(self, caller_name)
        set_dialled(self, dialled_number)
        set_engine(self, engine)
        set_answered(self, answered)
        set_reminder(self, reminder)
        set_queued(self, queued)
        set_callback(self, callback)

    __init__.__qualname__ = "CallInfo.__init__"
    return __init__


setattr(CallInfo, "__init__", _call_info_init())  # noqa: B010 (mypy refuses assigning a method)


@dataclass(frozen=True, slots=True)
class CallbackLeg:
    """One leg of a callback call: the job it serves and whose leg it is."""

    job: str  # the callback job's id
    side: Literal["operator", "patient"]

    @classmethod
    def named(cls, job: str, side: str) -> CallbackLeg | None:
        """The leg an engine names by job id and side (its call data); None when the job is
        not an id or the side not one of the two."""
        if not job.isdigit():
            return None
        if side == "operator":
            return cls(job, "operator")
        if side == "patient":
            return cls(job, "patient")
        return None


@dataclass(frozen=True, slots=True)
class QueuedCall:
    """A caller who left a queue by the offer key: the queue, their priority there, when
    they joined it (their place: an aware UTC instant; None when the engine did not say)
    and their language."""

    language: str
    queue: str
    priority: int
    queued_at: datetime | None


@dataclass(frozen=True, slots=True)
class AnsweredCall:
    """Who answered the call the survey is about: the queue, operator and route, as the
    engine knew them when the operator's leg ended, and the patient's language."""

    language: str
    queue: str
    operator: str
    route: str


@dataclass(frozen=True, slots=True)
class QueueRequest:
    """Where the IVR sends the caller when it is done: the engine's queue does the rest."""

    queue: str
    priority: int
    max_wait_s: int
    overflow_queue: str | None
    language: str
    path: str  # IVR path as digits and menu ids, e.g. "lang:2/main:1/appointments:3"
    route: str  # the route id from the config (what the patient called about)
    #: The patient agreed to (or the queue always runs) the post-call survey: the engine keeps
    #: the patient's leg after the operator hangs up and hands it back (docs/kpi.md, Survey).
    survey: bool = False


Outcome = Literal["queue", "selfserved", "afterhours", "hangup", "fallback"]
"""queue: sent to the chosen queue; selfserved: heard an answer and left without an operator;
afterhours: the clinic was closed (no queue); hangup: hung up in the menus; fallback: invalid
or no input ``max_attempts`` times, sent to the universal queue."""

@dataclass(frozen=True, slots=True)
class IvrOutcome:
    language: str
    path: str
    #: The route id chosen; for a call that only heard answers, the last answer's prompt key
    #: (``info_hours``, ``service_<id>``): what the patient called about, for the topics KPI.
    #: None: nothing was chosen.
    route: str | None
    request: QueueRequest | None  # what was sent to port.enqueue (None: no queue entered)
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class SurveyOutcome:
    """The answers of one post-call survey.  ``complete``: every question was answered; a
    patient who hung up, pressed ``#`` or stayed silent leaves the rest None."""

    csat: int | None  # 1-5
    nps: int | None  # 0-10
    complete: bool
