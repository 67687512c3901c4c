"""The wallboard's push sends a whole state once and then only what changed: on a real
application with the controller's live state (``LiveState``) and the kiosk's socket, a queue
join goes out as a patch naming only the queues; a socket that (re)connects gets the whole
state again, equal to the first state with the patch applied; afterwards both sockets get the
same patch.  The patch rules themselves (RFC 7386) are checked on plain objects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.controller.facts import QueueJoined
from clinicall.controller.tracking.live import LiveState
from clinicall.settings.models import ClinicConfig
from clinicall.web import build_app
from clinicall.web.state_delta import apply_patch, merge_patch

from .web_fixtures import FAST_COST, NOW, SECRET

Client = TestClient[web.Request, web.Application]
TOKEN = "a-wall-screen-token-for-deltas-0123456789"
URL = f"/kiosk/ws?token={TOKEN}"


def joined(n: int) -> QueueJoined:
    return QueueJoined(key=f"j{n}", at=NOW, call_id=f"c{n}", channel_id=f"c{n}",
                       queue="gynecology")


@pytest.fixture
async def kiosk(db_sessions: async_sessionmaker[AsyncSession], clinic_config: ClinicConfig,
                ) -> AsyncIterator[tuple[Client, LiveState]]:  # fmt: skip
    console = clinic_config.console.model_copy(update={"kiosk_token": TOKEN})
    config = clinic_config.model_copy(update={"console": console})
    live = LiveState()
    app = build_app(sessions=db_sessions, config=config, live=live, secret=SECRET,
                    clock=lambda: NOW, password_cost=FAST_COST)
    async with TestClient(TestServer(app)) as client:
        yield client, live


def waiting(state: dict[str, Any], queue: str) -> int:
    return int(next(t["waiting"] for t in state["queues"] if t["queue"] == queue))


async def test_a_change_goes_out_as_a_delta_and_a_reconnect_gets_the_whole_state(
    kiosk: tuple[Client, LiveState],
) -> None:
    client, live = kiosk
    async with client.ws_connect(URL) as first:
        opened = await first.receive_json(timeout=5)
        assert set(opened) == {"full"}
        full = opened["full"]
        assert waiting(full, "gynecology") == 0
        live.apply(joined(1))
        message = await first.receive_json(timeout=5)
        assert set(message) == {"delta"}
        delta = message["delta"]
        assert set(delta) == {"queues"}  # the clock stood still, no operator changed
        (row, changed), = delta["queues"]["$items"].items()  # only gynecology's tile
        assert full["queues"][int(row)]["queue"] == "gynecology"
        assert changed == {"waiting": 1}
        now = apply_patch(full, delta)
        assert waiting(now, "gynecology") == 1

        async with client.ws_connect(URL) as again:  # a page reconnecting
            whole = await again.receive_json(timeout=5)
            assert set(whole) == {"full"}
            assert whole["full"] == now

            live.apply(joined(2))
            one, other = (await first.receive_json(timeout=5),
                          await again.receive_json(timeout=5))
        assert one == other == {"delta": {"queues": one["delta"]["queues"]}}
        assert waiting(apply_patch(now, one["delta"]), "gynecology") == 2


def test_a_list_of_rows_of_the_same_length_is_patched_row_by_row() -> None:
    old = {"rows": [{"q": "a", "n": 1}, {"q": "b", "n": 2}], "plain": [1, 2]}
    new: dict[str, Any] = {"rows": [{"q": "a", "n": 1}, {"q": "b", "n": 3}], "plain": [1, 3]}
    patch = merge_patch(old, new)
    assert patch == {"rows": {"$items": {"1": {"n": 3}}}, "plain": [1, 3]}
    assert apply_patch(old, patch) == new
    longer = {"rows": [*new["rows"], {"q": "c", "n": 0}], "plain": [1, 3]}
    assert merge_patch(new, longer) == {"rows": longer["rows"]}  # another length: whole
    assert apply_patch(new, merge_patch(new, longer)) == longer


def test_merge_patch_names_only_what_changed_and_applies_back() -> None:
    old = {"at": "t0", "connected": True, "limits": {"red": 60, "amber": 30},
           "queues": [{"q": "a", "waiting": 1}], "gone": 5}
    new = {"at": "t1", "connected": True, "limits": {"red": 60, "amber": 45},
           "queues": [{"q": "a", "waiting": 1}], "added": {"x": 1}}
    patch = merge_patch(old, new)
    assert patch == {"at": "t1", "limits": {"amber": 45}, "added": {"x": 1}, "gone": None}
    assert apply_patch(old, patch) == new
    assert merge_patch(new, new) == {}


@pytest.mark.parametrize(("before", "after"), [(1, True), (0, False), (1, 1.0), ([1], (1,))])
def test_a_value_of_another_type_is_a_change(before: object, after: object) -> None:
    assert merge_patch({"v": before}, {"v": after}) == {"v": after}
