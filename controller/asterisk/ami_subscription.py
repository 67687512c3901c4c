"""The AMI events the controller reads, as manager.conf event filters (Asterisk 22).

Asterisk sends an AMI user every event of its read classes: ~110 events per IVR + queue call,
of which the account and the live view read about a tenth (docs/engines/asterisk.md, "What
the controller subscribes to").  Asterisk 22's advanced filters
(``eventfilter(name(X))``) select events by the hash of their name, without a regular
expression per event; a VarSet or UserEvent filter also matches one header exactly.  With
include filters only, Asterisk sends an event that matches any of them and drops the rest
before it is formatted for this user.  Replies to actions (QueueStatus, CoreShowChannels
lists) are not filtered.
"""

from __future__ import annotations

from dataclasses import dataclass

from clinicall.controller.asterisk.ami_facts import DECODED_EVENTS, DECODED_VARIABLES
from clinicall.controller.asterisk.control import CALLBACK_EVENT
from clinicall.controller.asterisk.doctor_probe import DOCTOR_EVENT

#: Events read outside the fact decoder: an async Originate's outcome (AsteriskControl).
CONTROL_EVENTS = ("OriginateResponse",)


@dataclass(frozen=True)
class EventFilter:
    """One include filter: the event ``name``, and optionally one header's exact value."""

    name: str
    header: str = ""
    value: str = ""

    def setting(self) -> tuple[str, str]:
        """The manager.conf ``eventfilter(...) = value`` line as (key, value)."""
        if not self.header:
            return f"eventfilter(action(include),name({self.name}))", ""
        return (f"eventfilter(action(include),name({self.name}),header({self.header}),"
                f"method(exact))", self.value)  # fmt: skip

    def matches(self, event: str, headers: dict[str, str]) -> bool:
        """What Asterisk decides for this filter (for tests and the bench's count)."""
        if event != self.name:
            return False
        return not self.header or headers.get(self.header) == self.value


def controller_filters() -> tuple[EventFilter, ...]:
    """Every event the controller's AMI user needs, and no other."""
    names = [n for n in (*DECODED_EVENTS, *CONTROL_EVENTS) if n != "VarSet"]
    return (
        *(EventFilter(name) for name in names),
        *(EventFilter("VarSet", "Variable", var) for var in DECODED_VARIABLES),
        EventFilter("UserEvent", "UserEvent", CALLBACK_EVENT),
        # not for the account: `clinicall doctor` logs in as this user to hear its probe
        EventFilter("UserEvent", "UserEvent", DOCTOR_EVENT),
    )


def subscribed(filters: tuple[EventFilter, ...], event: str, headers: dict[str, str]) -> bool:
    """Whether an event passes include-only ``filters`` (none: every event)."""
    return not filters or any(f.matches(event, headers) for f in filters)
