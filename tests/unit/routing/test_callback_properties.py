"""Properties of the callback policy over many generated lines and clocks: the exact place is
never broken by the share, callbacks never outnumber free operators, and the calling window's
answer is allowed and the first allowed minute.  Derandomized: the same examples every run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clinicall.routing.callback_order import (
    SharePolicy,
    Waiter,
    WaiterKind,
    callbacks_to_start,
    line_order,
    serve_order,
)
from clinicall.routing.callback_policy import policy_for
from clinicall.routing.callback_schedule import earliest_call, in_patient_day
from clinicall.routing.hours import OpeningHours
from clinicall.settings.models import Callbacks, Hours

#: No saved examples and no deadline: every run (and a loaded machine) tries the same ones.
PROPERTY = settings(max_examples=150, derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
KYIV = ZoneInfo("Europe/Kyiv")


@st.composite
def lines(draw: st.DrawFn) -> list[Waiter]:
    count = draw(st.integers(0, 12))
    return [Waiter(kind=draw(st.sampled_from(WaiterKind)), key=f"w{i}",
                   arrived_at=T0 + timedelta(seconds=draw(st.integers(0, 600))),
                   priority=draw(st.integers(0, 2))) for i in range(count)]  # fmt: skip


shares = st.builds(SharePolicy, live_share=st.sampled_from([0.0, 0.25, 0.5, 1.0]),
                   window=st.integers(1, 6))  # fmt: skip
histories = st.lists(st.sampled_from(WaiterKind), max_size=8)


def _of(kind: WaiterKind, waiters: list[Waiter]) -> list[Waiter]:
    return [w for w in waiters if w.kind == kind]


@PROPERTY
@given(lines(), histories, shares)
def test_the_share_only_interleaves_it_never_reorders_a_kind_or_a_priority(
    line: list[Waiter], recent: list[WaiterKind], share: SharePolicy
) -> None:
    served = serve_order(line, recent, share)
    strict = line_order(line)
    assert sorted(served, key=lambda w: w.key) == sorted(line, key=lambda w: w.key)
    assert [w.priority for w in served] == sorted((w.priority for w in line), reverse=True)
    for kind in WaiterKind:
        assert _of(kind, served) == _of(kind, strict)
    if share.live_share == 0:
        assert served == strict
    for limit in range(len(line) + 1):
        assert serve_order(line, recent, share, limit=limit) == served[:limit]


@PROPERTY
@given(lines(), histories, shares, st.integers(0, 6), st.integers(0, 6))
def test_callbacks_started_fit_the_free_operators_and_wait_for_those_before_them(
    line: list[Waiter], recent: list[WaiterKind], share: SharePolicy, free: int, in_flight: int
) -> None:
    started = callbacks_to_start(line, free_operators=free, callbacks_in_flight=in_flight,
                                 recent=recent, policy=share)  # fmt: skip
    slots = max(0, free - in_flight)
    assert len(started) <= slots
    served = serve_order(line, recent, share)
    for callback in started:
        assert callback.kind == WaiterKind.CALLBACK
        assert served.index(callback) < slots  # everyone served before it has an operator


HOURS = OpeningHours.from_config(Hours.model_validate({
    "weekly": {"mon": ["08:00-13:00", "14:00-20:00"], "tue": ["08:00-20:00"],
               "wed": ["10:00-12:00"], "thu": ["08:00-20:00"], "fri": ["08:00-19:30"],
               "sat": ["09:00-15:00"], "sun": []},
    "holidays": [{"date": "2026-06-04"}]}), KYIV)  # fmt: skip
POLICY = policy_for(Callbacks(), None)
ZONES = [KYIV, ZoneInfo("Europe/Lisbon"), ZoneInfo("Asia/Tbilisi"), ZoneInfo("Asia/Tokyo")]


def allowed(at: datetime, zone: ZoneInfo) -> bool:
    closing = HOURS.open_until(at)
    return (HOURS.is_open(at) and closing is not None and at < closing - POLICY.closing_margin
            and in_patient_day(at, zone, POLICY.patient_day))  # fmt: skip


#: Minutes of the week near an opening, a closing or a patient's morning or evening, where a
#: wrong answer would hide between random minutes.
EDGES = sorted({day * 1440 + hour * 60 + minute + offset
                for day in range(7)
                for hour, minute in ((3, 0), (8, 0), (9, 0), (10, 0), (12, 0), (13, 0), (14, 0),
                                     (15, 0), (19, 30), (20, 0), (21, 0))
                for offset in range(-8, 3)})  # fmt: skip


@settings(PROPERTY, max_examples=80)
@given(st.one_of(st.sampled_from(EDGES), st.integers(0, 7 * 24 * 60 - 1)), st.sampled_from(ZONES))
def test_the_earliest_call_is_allowed_and_no_earlier_minute_is(minute: int,
                                                               zone: ZoneInfo) -> None:
    at = datetime(2026, 6, 1, tzinfo=KYIV) + timedelta(minutes=minute)
    due = earliest_call(at, hours=HOURS, patient_zone=zone, policy=POLICY)
    assert due is not None
    assert due >= at
    assert allowed(due, zone)
    probe = at
    while probe < due:
        assert not allowed(probe, zone), probe
        probe += timedelta(minutes=1)
