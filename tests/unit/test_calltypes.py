"""CallInfo's hand-written ``__init__`` (clinicall/calltypes.py) against its dataclass fields:
the same parameters and defaults, every field set, the instance still frozen."""

from __future__ import annotations

import dataclasses
import inspect
from datetime import UTC, datetime

import pytest

from clinicall.calltypes import AnsweredCall, CallbackLeg, CallInfo, QueuedCall


def test_init_takes_the_fields_in_order_with_their_defaults() -> None:
    parameters = list(inspect.signature(CallInfo).parameters.values())
    fields = dataclasses.fields(CallInfo)
    assert [p.name for p in parameters] == [f.name for f in fields]
    assert all(p.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD for p in parameters)
    for parameter, field in zip(parameters, fields, strict=True):
        missing = field.default is dataclasses.MISSING
        assert parameter.default == (inspect.Parameter.empty if missing else field.default)


def test_every_field_is_set_from_its_argument() -> None:
    values: dict[str, object] = {
        "call_id": "1712345678.0",
        "channel_id": "1712345678.1",
        "caller_number": "380501234567",
        "caller_name": "Patient",
        "dialled_number": "0800300300",
        "engine": "asterisk",
        "answered": AnsweredCall("uk", "therapy", "op7", "therapy-appointment"),
        "reminder": "42",
        "queued": QueuedCall("uk", "therapy", 3, datetime(2026, 12, 6, 9, 0, tzinfo=UTC)),
        "callback": CallbackLeg("7", "patient"),
    }
    by_keyword = CallInfo(**values)  # type: ignore[arg-type]
    positional = CallInfo(*values.values())  # type: ignore[arg-type]
    assert {f.name: getattr(by_keyword, f.name) for f in dataclasses.fields(CallInfo)} == values
    assert positional == by_keyword
    assert hash(positional) == hash(by_keyword)
    first = CallInfo("a", "b", "c", "d", "e", "freeswitch")
    assert (first.answered, first.reminder, first.queued, first.callback) == (None,) * 4
    assert repr(first) == (
        "CallInfo(call_id='a', channel_id='b', caller_number='c', caller_name='d', "
        "dialled_number='e', engine='freeswitch', answered=None, reminder=None, queued=None, "
        "callback=None)"
    )
    assert dataclasses.replace(first, reminder="9") == CallInfo(
        "a", "b", "c", "d", "e", "freeswitch", reminder="9"
    )


def test_still_frozen_and_arguments_still_checked() -> None:
    info = CallInfo("a", "b", "c", "d", "e", "asterisk")
    with pytest.raises(dataclasses.FrozenInstanceError):
        info.caller_number = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        CallInfo("a", "b", "c", "d", "e")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        CallInfo("a", "b", "c", "d", "e", "asterisk", colour="red")  # type: ignore[call-arg]
