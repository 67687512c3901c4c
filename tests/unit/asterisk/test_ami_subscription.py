"""The AMI subscription covers every event the fact decoder and the control read."""

from __future__ import annotations

from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami_facts import (
    CALL_VARIABLES,
    DECODED_EVENTS,
    AmiFactDecoder,
)
from clinicall.controller.asterisk.ami_subscription import (
    EventFilter,
    controller_filters,
    subscribed,
)
from clinicall.controller.asterisk.control import CALLBACK_EVENT


def test_every_decoded_event_is_subscribed() -> None:
    filters = controller_filters()
    for name in DECODED_EVENTS:
        if name != "VarSet":
            assert subscribed(filters, name, {}), name
    assert subscribed(filters, "OriginateResponse", {})
    assert subscribed(filters, "UserEvent", {"UserEvent": CALLBACK_EVENT})


def test_varset_is_subscribed_only_for_the_variables_that_give_facts() -> None:
    filters = controller_filters()
    for variable in ("QUEUESTATUS", "MIXMONITOR_FILENAME", *CALL_VARIABLES):
        assert subscribed(filters, "VarSet", {"Variable": variable}), variable
    assert not subscribed(filters, "VarSet", {"Variable": "DIALSTATUS"})
    assert not subscribed(filters, "UserEvent", {"UserEvent": "SomethingElse"})
    assert not subscribed(filters, "Newexten", {})


def test_a_varset_the_filter_drops_would_give_no_fact() -> None:
    decoder = AmiFactDecoder()
    frame = Message([("Event", "VarSet"), ("Channel", "PJSIP/a-1"), ("Variable", "DIALSTATUS"),
                     ("Value", "ANSWER"), ("Uniqueid", "1.1"), ("Linkedid", "1.1")])
    assert not subscribed(controller_filters(), "VarSet", dict(frame.headers))
    assert decoder.decode(frame) == []


def test_filter_lines_are_asterisk_22_advanced_filters() -> None:
    assert EventFilter("Hangup").setting() == ("eventfilter(action(include),name(Hangup))", "")
    assert EventFilter("VarSet", "Variable", "QUEUESTATUS").setting() == (
        "eventfilter(action(include),name(VarSet),header(Variable),method(exact))",
        "QUEUESTATUS")
    assert subscribed((), "Anything", {})  # no filter: every event
