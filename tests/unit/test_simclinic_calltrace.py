"""The sandbox's AMI observer (``sandbox.calltrace``): events grouped by call, on frames."""

from __future__ import annotations

from clinicall.controller.asterisk.ami.message import Message
from clinicall.simclinic.calltrace import CallTracer

OP = "Local/op104@clinicall-sim-operators/n"


def event(name: str, linkedid: str | None = None, **headers: str) -> Message:
    ids = [("Uniqueid", linkedid), ("Linkedid", linkedid)] if linkedid else []
    return Message([("Event", name), *ids, *headers.items()])


def test_an_agent_complete_naming_no_channel_goes_to_the_members_open_call() -> None:
    """Asterisk 22 sends some AgentComplete with no channel fields (seen in test_reconcile)."""
    tracer = CallTracer()
    for call in ("A", "B", "C"):
        tracer.expect(call)
    tracer(event("AgentConnect", "A", Queue="universal", Interface=OP))
    tracer(event("AgentComplete", "A", Queue="universal", Interface=OP, TalkTime="5"))
    tracer(event("AgentConnect", "B", Queue="universal", Interface="Local/op101@x/n"))
    tracer(event("AgentConnect", "C", Queue="universal", Interface=OP))
    tracer(event("AgentComplete", Queue="universal", Interface=OP, TalkTime="7"))
    assert [m["TalkTime"] for m in tracer.trace("C").named("AgentComplete")] == ["7"]
    assert tracer.trace("B").named("AgentComplete") == []
    tracer(event("AgentComplete", Queue="universal", Interface="Local/op999@x/n"))  # nobody's
    assert [len(tracer.trace(c).named("AgentComplete")) for c in "ABC"] == [1, 0, 1]
