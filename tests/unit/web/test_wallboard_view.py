"""The wallboard's data: tile levels from the config's thresholds, today's abandons and
misses per queue, and each operator's status (wrap-up from the queue's wrapup_s)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clinicall.settings import load_config
from clinicall.settings.models import Wallboard
from clinicall.web.wallboard_view import Status, level, operators, status, tiles

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "clinic.example.yaml"
NOW = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
LIMITS = Wallboard(wait_amber_s=60, wait_red_s=180, sl_amber_pct=80, sl_red_pct=60)


@dataclass(frozen=True)
class Q:
    waiting: int
    longest_wait_s: float
    available: int = 0
    paused: int = 0
    in_call: int = 0


@dataclass(frozen=True)
class M:
    queue: str
    member: str
    state: str
    paused: bool = False
    pause_reason: str = ""
    since: datetime = NOW - timedelta(minutes=3)
    call_ended_at: datetime | None = None
    name: str = "Iryna"


@pytest.mark.parametrize(("wait", "sl", "expected"), [
    (10, 95.0, "ok"), (59.9, None, "ok"), (60, 95.0, "amber"), (10, 79.9, "amber"),
    (180, 95.0, "red"), (10, 59.9, "red"), (10, 80.0, "ok"),
])
def test_a_tile_turns_amber_and_red_past_either_limit(wait: float, sl: float | None,
                                                      expected: str) -> None:
    assert level(wait, sl, LIMITS) == expected


def test_tiles_join_the_live_state_and_today_per_queue() -> None:
    config = load_config(EXAMPLE)
    today = {"gynecology": {"service_level": 50.0, "abandoned": 2, "timeout": 1, "empty": 1,
                            "cut": 0, "short_abandoned": 4}}
    out = {t["queue"]: t for t in tiles(config, {"gynecology": Q(3, 200.0)}, today)}
    assert list(out)[: len(config.queues)] == list(config.queues)
    gyn = out["gynecology"]
    assert (gyn["waiting"], gyn["longest_wait_s"], gyn["service_level"]) == (3, 200.0, 50.0)
    assert (gyn["abandoned"], gyn["missed"], gyn["level"]) == (2, 2, "red")
    assert (out["therapy"]["waiting"], out["therapy"]["service_level"]) == (0, None)
    assert gyn["names"] == {"uk": "Гінекологія", "ru": "Гинекология", "en": "Gynecology"}


def test_an_operator_in_wrap_up_then_available() -> None:
    ended = NOW - timedelta(seconds=4)
    assert status(M("q", "a", "idle", call_ended_at=ended), NOW, 5) is Status.WRAP_UP
    assert status(M("q", "a", "idle", call_ended_at=ended), NOW, 3) is Status.AVAILABLE
    assert status(M("q", "a", "idle", paused=True), NOW, 5) is Status.PAUSED
    assert status(M("q", "a", "in_call", paused=True), NOW, 5) is Status.PAUSED
    assert status(M("q", "a", "offline"), NOW, 5) is Status.OFFLINE


def test_a_member_of_several_queues_is_one_row_with_its_busiest_status() -> None:
    config = load_config(EXAMPLE)
    rows = operators(config, [M("gynecology", "PJSIP/op101", "idle"),
                              M("universal", "PJSIP/op101", "ringing", since=NOW),
                              M("gynecology", "PJSIP/op102", "idle", paused=True,
                                pause_reason="lunch", name="Olena")], NOW)
    assert [(r["member"], r["status"], r["reason"]) for r in rows] == [
        ("PJSIP/op101", "ringing", ""), ("PJSIP/op102", "paused", "lunch")]
    assert rows[0]["queues"] == ["gynecology", "universal"]
    assert rows[0]["since"] == NOW.isoformat()
