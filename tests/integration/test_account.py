"""The exact account of every call, from scripted calls through the real Asterisk 22.

Ground truth is scripted (who answers, after how long the patient hangs up) and witnessed by
the test's own AMI observer; the account is what clinicall's tracker wrote to the store from
the controller's AMI link, the IVR outcomes and Asterisk's queue_log.  Two trackers write the
same calls into SQLite and PostgreSQL at once, so both stores are proven on one set of calls,
and the KPI report of each must equal the ground truth exactly.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from pg import PostgresServer
from sqlalchemy import select

from clinicall.app import build_engine
from clinicall.calltypes import CallInfo, IvrOutcome
from clinicall.controller.asterisk.ami_subscription import controller_filters
from clinicall.controller.asterisk.engine import AsteriskEngine
from clinicall.controller.asterisk.record import QueueLogRecord
from clinicall.controller.facts import Fact
from clinicall.controller.service import Controller
from clinicall.controller.tracking.config import TrackingConfig
from clinicall.controller.tracking.tracker import CallTracker
from clinicall.db import create_engine, session_factory, upgrade
from clinicall.db.models import Call, JournalEvent, QueueAttempt
from clinicall.reports.kpi import compute
from clinicall.settings.loader import load_config
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.calltrace import CallTrace
from clinicall.simclinic.clinic import SimulatedClinic

from .scenario import ENGLISH_NUMBER, EXAMPLE, SUNDAY_10_KYIV, TUESDAY_10_KYIV, Clock

pytestmark = [pytest.mark.asyncio(loop_scope="module"), pytest.mark.postgres]



def _config() -> ClinicConfig:
    """The example clinic; ultrasound overflows to the front desk after 5 s (its minimum)."""
    config = load_config(EXAMPLE)
    routes = dict(config.routes)
    routes["ultrasound"] = routes["ultrasound"].model_copy(update={"overflow_after_s": 5})
    ivr = config.ivr.model_copy(update={"digit_timeout_s": 2.0})
    return config.model_copy(update={"routes": routes, "ivr": ivr})


class FanOut:
    """One controller feeding several call accounts (here: a SQLite and a PostgreSQL store)."""

    def __init__(self, *trackers: CallTracker) -> None:
        self.trackers = trackers

    async def record_ivr(self, info: CallInfo, outcome: IvrOutcome, started_at: datetime) -> None:
        for tracker in self.trackers:
            await tracker.record_ivr(info, outcome, started_at)

    def handle_fact(self, fact: Fact) -> None:
        for tracker in self.trackers:
            tracker.handle_fact(fact)


@dataclass
class Store:
    name: str
    url: str
    tracker: CallTracker


@pytest.fixture(scope="module")
def pg_url(postgres_server: PostgresServer) -> str:
    return postgres_server.url(postgres_server.create_database("account")).render_as_string()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def clinic(asterisk_root: Path) -> AsyncIterator[SimulatedClinic]:
    async with SimulatedClinic.run(_config(), root=asterisk_root, name="account") as clinic:
        yield clinic


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stores(
    clinic: SimulatedClinic, pg_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[list[Store]]:
    sqlite_url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('account') / 'account.db'}"
    result = []
    engines = []
    for name, url in (("sqlite", sqlite_url), ("postgres", pg_url)):
        await upgrade(url)
        engine = create_engine(url)
        engines.append(engine)
        tracker = CallTracker(
            session_factory(engine),
            QueueLogRecord(clinic.asterisk.queue_log_path),
            TrackingConfig.from_clinic(clinic.config),
        )
        await tracker.start()
        result.append(Store(name, url, tracker))
    yield result
    for store in result:
        await store.tracker.close()
    for engine in engines:
        await engine.dispose()


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def controller(
    clinic: SimulatedClinic, stores: list[Store], clock: Clock
) -> AsyncIterator[Controller]:
    account = FanOut(*(s.tracker for s in stores))
    engine = build_engine(clinic.config)
    async with Controller(clinic.config, engine, account=account, now=clock) as controller:
        await engine.wait_up(10)
        yield controller


def _hold(trace: CallTrace, event: str) -> int:
    """Asterisk's own HoldTime for the call's first ``event`` (seen by the test's observer)."""
    return int(trace.named(event)[0]["HoldTime"])


async def _rows(store: Store) -> list[tuple[Any, ...]]:
    engine = create_engine(store.url)
    try:
        async with session_factory(engine)() as session:
            calls = (await session.execute(select(Call).order_by(Call.call_key))).scalars()
            out: list[tuple[Any, ...]] = [
                (c.call_key, c.ivr_outcome, c.route, c.language, c.missed, c.miss_cause,
                 c.ivr_path) for c in calls
            ]
            attempts = (await session.execute(
                select(QueueAttempt).order_by(QueueAttempt.channel_id, QueueAttempt.joined_at)
            )).scalars()
            out += [(a.channel_id, a.queue, a.outcome, a.wait_s, a.talk_s, a.agent)
                    for a in attempts]
            return out
    finally:
        await engine.dispose()


async def test_scripted_calls_are_accounted_exactly_on_sqlite_and_postgresql(
    clinic: SimulatedClinic, controller: Controller, stores: list[Store], clock: Clock
) -> None:
    await clinic.set_operator("op102", "answer", ring_s=3, talk_s=2)  # gynecology
    await clinic.set_operator("op103", "noanswer")  # pediatrics' only operator
    await clinic.set_operator("op101", "noanswer")  # ultrasound: overflows to universal
    await clinic.set_operator("op104", "answer", ring_s=1, talk_s=2)  # universal
    started = datetime.now(UTC)

    answered = await clinic.call(digits="1w2", number=ENGLISH_NUMBER, hold_s=40)
    abandoned = await clinic.call(digits="1w3", number=ENGLISH_NUMBER, hold_s=60)
    # A second patient for pediatrics waits behind the first (op103 rings for the first).
    short = await clinic.call(digits="1w3", number=ENGLISH_NUMBER, hold_s=60)
    overflow = await clinic.call(digits="1w1", number=ENGLISH_NUMBER, hold_s=40)
    ivr_hangup = await clinic.call(digits="", number=ENGLISH_NUMBER, hold_s=3)
    await asyncio.gather(
        clinic.hang_up_after_join(abandoned, 8),
        clinic.hang_up_after_join(short, 2),
    )
    traces = {
        lid: await clinic.finished(lid, timeout=90)
        for lid in (answered, abandoned, short, overflow, ivr_hangup)
    }
    clock.at = SUNDAY_10_KYIV
    after_hours = await clinic.call(digits="", number=ENGLISH_NUMBER, hold_s=30)
    traces[after_hours] = await clinic.finished(after_hours, timeout=60)
    clock.at = TUESDAY_10_KYIV

    # The scripted facts, as the real Asterisk reported them to the test's own observer.
    t = traces
    assert t[answered].queues_joined == ["gynecology"]
    assert t[abandoned].abandoned == ["pediatrics"]
    assert t[short].abandoned == ["pediatrics"]
    assert t[overflow].queues_joined == ["ultrasound", "universal"]
    assert t[overflow].operators_connected == ["op104"]
    assert t[ivr_hangup].queues_joined == t[after_hours].queues_joined == []
    waits = {
        "gynecology": _hold(t[answered], "AgentConnect"),
        "pediatrics": _hold(t[abandoned], "QueueCallerAbandon"),
        "short": _hold(t[short], "QueueCallerAbandon"),
        "universal": _hold(t[overflow], "AgentConnect"),
    }
    assert 2 <= waits["gynecology"] <= 5  # the operator rang 3 s
    assert 7 <= waits["pediatrics"] <= 10  # the patient hung up 8 s after joining
    assert waits["short"] <= 3  # ... 2 s after joining: a short abandon

    # The controller's AMI user has the generated event filter: of the events the observer saw
    # (every event of the same classes), it got only those it subscribes to.
    assert isinstance(controller.engine, AsteriskEngine)
    stats = controller.engine.decoder.stats
    followed = {f.name for f in controller_filters()}
    assert set(stats.ignored) <= followed, stats.ignored
    assert not stats.malformed
    seen = {m.event for trace in traces.values() for m in trace.events}
    assert {"Newexten", "AGIExecStart"} <= seen - followed  # the filter left these out

    # Whole UTC hours around the calls: the report reads only the hourly sums of the calls
    # the tracker wrote, and must equal the same report read from the rows.
    start = started.replace(minute=0, second=0, microsecond=0)
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    reports = {}
    for store in stores:
        await store.tracker.reconcile()
        await store.tracker.flush()
        engine = create_engine(store.url)
        async with session_factory(engine)() as session:
            reports[store.name] = await compute(
                session, start=start, end=end, by="queue", config=clinic.config)
            from_rows = await compute(session, start=start, end=end, by="queue",
                                      config=clinic.config, hourly_sums=False)
        await engine.dispose()
        assert from_rows.to_dict() == reports[store.name].to_dict(), store.name

    for name, report in reports.items():
        queues = {row["queue"]: row for row in report.section("queues").rows}
        names = ("gynecology", "pediatrics", "ultrasound", "universal")
        assert set(queues) == set(names), name
        gyn, ped, us, uni = (queues[q] for q in names)
        assert (gyn["offered"], gyn["answered"], gyn["asa"]) == (1, 1, waits["gynecology"]), name
        assert (ped["offered"], ped["abandoned"], ped["short_abandoned"]) == (2, 1, 1), name
        assert (us["offered"], us["timeout"], us["answered"]) == (1, 1, 0), name
        assert (uni["offered"], uni["answered"], uni["asa"]) == (1, 1, waits["universal"]), name
        assert ped["abandon_rate"] == 100.0, name  # the short abandon is left out
        assert ped["service_level"] == 0.0, name
        (calls,) = report.section("calls").rows
        assert calls["inbound"] == 6, name
        assert calls["missed"] == 4, name  # abandoned, short abandon, after hours, IVR hang-up
        assert calls["missed_abandoned"] == 2, name
        assert calls["missed_afterhours"] == 1, name
        assert calls["missed_hangup_ivr"] == 1, name
        assert calls["self_served"] == 0, name
    assert reports["sqlite"].to_dict() == reports["postgres"].to_dict()

    # Replaying the whole journal twice changes nothing.
    for store in stores:
        before = await _rows(store)
        await store.tracker.rebuild()
        await store.tracker.rebuild()
        assert await _rows(store) == before, store.name
        engine = create_engine(store.url)
        async with session_factory(engine)() as session:
            journal = (await session.execute(select(JournalEvent.id))).all()
        await engine.dispose()
        assert journal, store.name
