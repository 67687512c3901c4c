from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from clinicall.calltypes import IvrOutcome, QueueRequest
from clinicall.ivr.interpreter import run_ivr
from clinicall.ivr.outcome import Path
from clinicall.ivr.plan import IvrPlan
from clinicall.ivr.port import CallPort
from clinicall.routing.wait_estimate import WaitRange
from clinicall.settings.models import ClinicConfig

from .ivr_fakes import ENGLISH_NUMBER, HANGUP, TIMEOUT, FakePort

KYIV = ZoneInfo("Europe/Kyiv")
MONDAY_10 = datetime(2026, 6, 1, 10, tzinfo=KYIV)
SUNDAY_12 = datetime(2026, 6, 7, 12, tzinfo=KYIV)
CHRISTMAS_NOON = datetime(2026, 12, 25, 12, tzinfo=KYIV)  # a Friday, closed all day
NEW_YEARS_EVE_10 = datetime(2026, 12, 31, 10, tzinfo=KYIV)  # special hours 09-14
NEW_YEARS_EVE_15 = datetime(2026, 12, 31, 15, tzinfo=KYIV)


async def call(
    plan: IvrPlan, config: ClinicConfig, port: FakePort, at: datetime = MONDAY_10
) -> IvrOutcome:
    return await run_ivr(port, config, now=lambda: at, plan=plan)


@pytest.mark.parametrize(
    ("keys", "route", "queue", "path"),
    [
        (["1", "1", "1"], "ultrasound", "ultrasound", "lang:1/main:1/appointments:1"),
        (["1", "1", "2"], "gynecology", "gynecology", "lang:1/main:1/appointments:2"),
        (["1", "1", "3"], "pediatrics", "pediatrics", "lang:1/main:1/appointments:3"),
        (["1", "1", "4"], "therapy", "therapy", "lang:1/main:1/appointments:4"),
        (["1", "3"], "test_results", "therapy", "lang:1/main:3"),
        (["1", "4"], "complaint", "universal", "lang:1/main:4"),
        (["1", "0"], "operator", "universal", "lang:1/main:0"),
    ],
)
async def test_every_main_menu_branch_reaches_its_queue(
    plan: IvrPlan, config: ClinicConfig, keys: list[str], route: str, queue: str, path: str
) -> None:
    port = FakePort(keys)
    outcome = await call(plan, config, port)
    assert outcome.outcome == "queue"
    assert outcome.route == route
    assert outcome.path == path
    assert port.enqueued == [outcome.request]
    assert outcome.request is not None
    assert outcome.request.queue == queue
    assert outcome.request.path == path
    assert outcome.request.language == "uk"
    # the queue is announced right before the caller is handed over
    assert port.calls[-2] == ("play", (f"clinicall/uk/queue_{queue}",))
    assert port.names()[-1] == "enqueue"


async def test_request_carries_triage_decision(plan: IvrPlan, config: ClinicConfig) -> None:
    outcome = await call(plan, config, FakePort(["2", "1", "3"]))
    assert outcome.request is not None
    req = outcome.request
    assert (req.queue, req.priority, req.max_wait_s, req.overflow_queue) == (
        "pediatrics", 1, 60, "universal",
    )  # fmt: skip
    assert (req.language, req.route) == ("ru", "pediatrics")


@pytest.mark.parametrize(("key", "language"), [("1", "uk"), ("2", "ru"), ("3", "en")])
async def test_language_by_menu(
    plan: IvrPlan, config: ClinicConfig, key: str, language: str
) -> None:
    port = FakePort([key, "4"])
    outcome = await call(plan, config, port)
    assert outcome.language == language
    assert ("set_language", language) in port.calls
    assert port.collects[0] == [
        "clinicall/uk/language_menu", "clinicall/ru/language_menu", "clinicall/en/language_menu",
    ]  # fmt: skip
    assert port.collects[1] == [
        f"clinicall/{language}/welcome",
        f"clinicall/{language}/emergency",
        f"clinicall/{language}/menu_main",
    ]


@pytest.mark.parametrize("key", [TIMEOUT, "7", "#"])
async def test_language_menu_without_a_valid_choice_uses_the_default(
    plan: IvrPlan, config: ClinicConfig, key: str
) -> None:
    outcome = await call(plan, config, FakePort([key, "4"]))
    assert outcome.language == "uk"
    assert outcome.route == "complaint"
    assert outcome.path == f"lang:{key + '?' if key else '-'}/main:4"


@pytest.mark.parametrize("dialled", [ENGLISH_NUMBER, "380441234568", "0441234568"])
async def test_language_by_dialled_number_skips_the_language_menu(
    plan: IvrPlan, config: ClinicConfig, dialled: str
) -> None:
    port = FakePort(["4"], dialled=dialled)
    outcome = await call(plan, config, port)
    assert outcome.language == "en"
    assert outcome.path == "main:4"
    assert port.collects[0][-1] == "clinicall/en/menu_main"
    assert port.calls[:2] == [("answer", None), ("set_language", "en")]


async def test_wrong_keys_three_times_go_to_the_universal_queue(
    plan: IvrPlan, config: ClinicConfig
) -> None:
    port = FakePort(["1", "9", "#", "7"])
    outcome = await call(plan, config, port)
    assert outcome.outcome == "fallback"
    assert outcome.route == "operator"
    assert outcome.request is not None
    assert outcome.request.queue == "universal"
    assert outcome.path == "lang:1/main:9?/main:#?/main:7?"
    assert port.collects[2] == ["clinicall/uk/invalid", "clinicall/uk/menu_main"]
    assert not port.hung_up


async def test_silence_three_times_goes_to_the_universal_queue(
    plan: IvrPlan, config: ClinicConfig
) -> None:
    port = FakePort(["1", "1", TIMEOUT, TIMEOUT, TIMEOUT])
    outcome = await call(plan, config, port)
    assert outcome.outcome == "fallback"
    assert outcome.path == "lang:1/main:1/appointments:-/appointments:-/appointments:-"
    assert port.collects[-1] == ["clinicall/uk/no_input", "clinicall/uk/menu_appointments"]
    assert port.enqueued[0].queue == "universal"


async def test_two_misses_then_a_valid_key_still_routes(
    plan: IvrPlan, config: ClinicConfig
) -> None:
    outcome = await call(plan, config, FakePort(["1", "9", TIMEOUT, "1", "9", "9", "2"]))
    assert outcome.outcome == "queue"
    assert outcome.route == "gynecology"  # misses are counted per menu visit
    assert outcome.path == (
        "lang:1/main:9?/main:-/main:1/appointments:9?/appointments:9?/appointments:2"
    )


async def test_hangup_mid_menu_keeps_the_path_so_far(plan: IvrPlan, config: ClinicConfig) -> None:
    port = FakePort(["2", "1", HANGUP])
    outcome = await call(plan, config, port)
    assert outcome == IvrOutcome("ru", "lang:2/main:1", None, None, "hangup")
    assert port.enqueued == []


@pytest.mark.parametrize("step", range(6))
async def test_hangup_at_any_port_call_ends_quietly(
    plan: IvrPlan, config: ClinicConfig, step: int
) -> None:
    port = FakePort(["1", "1", "1"], hangup_at=step)
    outcome = await call(plan, config, port)
    assert outcome.outcome == "hangup"
    assert port.enqueued == []
    assert len(port.calls) == step


async def test_after_hours_plays_the_closed_message_and_enqueues_nothing(
    plan: IvrPlan, config: ClinicConfig
) -> None:
    port = FakePort(["3"])
    outcome = await call(plan, config, port, SUNDAY_12)
    assert outcome.outcome == "afterhours"
    assert outcome.request is None
    assert port.enqueued == []
    assert ("play", ("clinicall/en/welcome", "clinicall/en/emergency", "clinicall/en/closed")) in (
        port.calls
    )
    assert port.names()[-2:] == ["play", "hangup"]
    assert port.played[-1] == "clinicall/en/goodbye"


async def test_holiday_is_named_before_the_closed_message(
    plan: IvrPlan, config: ClinicConfig
) -> None:
    port = FakePort(["1"])
    outcome = await call(plan, config, port, CHRISTMAS_NOON)
    assert outcome.outcome == "afterhours"
    assert "clinicall/uk/holiday_20261225" in port.played
    assert port.played.index("clinicall/uk/holiday_20261225") < port.played.index(
        "clinicall/uk/closed"
    )


async def test_holiday_special_hours(plan: IvrPlan, config: ClinicConfig) -> None:
    open_call = await call(plan, config, FakePort(["1", "4"]), NEW_YEARS_EVE_10)
    assert open_call.outcome == "queue"
    port = FakePort(["1"])
    late_call = await call(plan, config, port, NEW_YEARS_EVE_15)
    assert late_call.outcome == "afterhours"
    assert "clinicall/uk/holiday_20261231" in port.played


async def test_after_hours_hook_runs_between_closed_and_goodbye(
    plan: IvrPlan, config: ClinicConfig
) -> None:
    seen: list[tuple[str, str, int]] = []

    async def offer_callback(port: CallPort, *, language: str, path: Path) -> None:
        seen.append((language, str(path), len(fake.played)))

    fake = FakePort(["2"])
    outcome = await run_ivr(
        fake, config, now=lambda: SUNDAY_12, plan=plan, after_hours=offer_callback
    )
    assert outcome.outcome == "afterhours"
    language, path, played_before = seen[0]
    assert (language, path) == ("ru", "lang:2")
    assert fake.played[played_before - 1] == "clinicall/ru/closed"
    assert fake.played[-1] == "clinicall/ru/goodbye"


async def test_zero_from_a_submenu_goes_to_the_operator(
    plan: IvrPlan, config: ClinicConfig
) -> None:
    outcome = await call(plan, config, FakePort(["1", "2", "3", "0"]))
    assert outcome.outcome == "queue"
    assert outcome.route == "operator"
    assert outcome.path == "lang:1/main:2/information:3/services:0"


async def test_info_branch_plays_the_service_then_zero_reaches_the_operator(
    plan: IvrPlan, config: ClinicConfig
) -> None:
    port = FakePort(["1", "2", "3", "1", "0"])
    outcome = await call(plan, config, port)
    assert port.collects[-1] == [
        "clinicall/uk/service_pelvic_ultrasound", "clinicall/uk/info_more",
    ]  # fmt: skip
    assert outcome.outcome == "queue"
    assert outcome.route == "operator"
    assert outcome.path == "lang:1/main:2/information:3/services:1/more:0"


async def test_any_other_key_after_an_answer_returns_to_the_main_menu(
    plan: IvrPlan, config: ClinicConfig
) -> None:
    port = FakePort(["3", "2", "1", "5", "3"])
    outcome = await call(plan, config, port)
    assert port.collects[3] == ["clinicall/en/info_hours", "clinicall/en/info_more"]
    assert port.collects[4] == ["clinicall/en/menu_main"]
    assert outcome.route == "test_results"
    assert outcome.path == "lang:3/main:2/information:1/more:5/main:3"


async def test_silence_after_an_answer_is_self_service(plan: IvrPlan, config: ClinicConfig) -> None:
    port = FakePort(["1", "2", "2", TIMEOUT])
    outcome = await call(plan, config, port)
    assert outcome.outcome == "selfserved"
    assert outcome.route == "info_address"  # what the patient called about
    assert outcome.path == "lang:1/main:2/information:2/more:-"
    assert port.collects[-1][0] == "clinicall/uk/info_address"
    assert port.names()[-1] == "hangup"
    assert port.enqueued == []


async def test_hangup_after_an_answer_is_self_service(plan: IvrPlan, config: ClinicConfig) -> None:
    outcome = await call(plan, config, FakePort(["1", "2", "1", HANGUP]))
    assert outcome.outcome == "selfserved"


async def test_star_goes_back_one_menu(plan: IvrPlan, config: ClinicConfig) -> None:
    port = FakePort(["1", "2", "3", "*", "*", "1", "4"])
    outcome = await call(plan, config, port)
    assert [c[-1] for c in port.collects[1:]] == [
        "clinicall/uk/menu_main",
        "clinicall/uk/menu_information",
        "clinicall/uk/menu_services",
        "clinicall/uk/menu_information",
        "clinicall/uk/menu_main",
        "clinicall/uk/menu_appointments",
    ]
    assert outcome.route == "therapy"


async def test_every_collect_takes_one_key_with_barge_in(
    plan: IvrPlan, config: ClinicConfig
) -> None:
    port = FakePort(["1", "9", "1", "3"])
    await call(plan, config, port)
    collects = [arg for name, arg in port.calls if name == "collect"]
    assert len(collects) == 4
    for arg in collects:
        assert isinstance(arg, tuple)
        _prompts, digits, max_digits, timeout_s = arg
        assert set("0123456789*") <= set(digits)
        assert max_digits == 1
        assert timeout_s == config.ivr.digit_timeout_s


async def test_run_ivr_compiles_the_plan_when_not_given(config: ClinicConfig) -> None:
    outcome = await run_ivr(FakePort(["1", "4"]), config, now=lambda: MONDAY_10)
    assert outcome.route == "complaint"


@dataclass(frozen=True)
class _Place:
    position: int | None
    wait: WaitRange | None


async def test_a_queue_that_announces_the_wait_says_place_and_range_before_the_caller_joins(
    plan: IvrPlan, config: ClinicConfig
) -> None:
    asked: list[QueueRequest] = []

    async def join_place(request: QueueRequest) -> _Place | None:
        asked.append(request)
        return _Place(3, WaitRange(5, 10)) if request.queue == "ultrasound" else None

    for keys, said in ((["1", "1", "1"], True), (["1", "1", "2"], False)):
        port = FakePort(keys)
        outcome = await run_ivr(port, config, now=lambda: MONDAY_10, plan=plan,
                                join_place=join_place)  # fmt: skip
        assert asked[-1] == outcome.request  # asked with the request it then enqueued
        tail = port.calls[-5:] if said else port.calls[-2:]
        queue = outcome.request.queue if outcome.request else ""
        expected: list[tuple[str, object]] = [("play", (f"clinicall/uk/queue_{queue}",))]
        if said:  # after the queue's own words: "your place is" 3, "5 to 10 minutes"
            expected += [("play", ("clinicall/uk/queue_position",)), ("say_number", 3),
                         ("play", ("clinicall/uk/wait_5_10",))]
        assert tail == [*expected, ("enqueue", outcome.request)]


async def test_a_caller_who_hangs_up_during_the_wait_announcement_is_not_enqueued(
    plan: IvrPlan, config: ClinicConfig
) -> None:
    async def join_place(request: QueueRequest) -> _Place:
        return _Place(None, WaitRange(0, 5))

    heard = FakePort(["1", "1", "1"])
    await run_ivr(heard, config, now=lambda: MONDAY_10, plan=plan, join_place=join_place)
    at = heard.calls.index(("play", ("clinicall/uk/wait_0_5",)))
    port = FakePort(["1", "1", "1"], hangup_at=at)
    outcome = await run_ivr(port, config, now=lambda: MONDAY_10, plan=plan,
                            join_place=join_place)  # fmt: skip
    assert (outcome.outcome, port.enqueued) == ("hangup", [])
