"""Appointments over HTTP for the clinic's booking system (docs/reminders.md, "HTTP API").

- ``PUT /api/appointments/{external_id}`` with a JSON object (``phone``, ``language``,
  ``doctor``, ``specialty``, ``starts_at``): idempotent by the external id: 201 when it was
  new, 200 with ``"result": "updated"`` or ``"unchanged"`` otherwise; a bad field is a 400
  naming every field and what is expected (the CSV import's checks,
  :mod:`clinicall.db.appointment_input`).
- ``GET /api/appointments?date=YYYY-MM-DD&risk=1``: a day's appointments (tomorrow by
  default, in the clinic's zone) with the reminder's result; ``risk=1`` only the unconfirmed
  ones (the no-show risk).

Roles (:mod:`web.access`): managers and admins write (a booking system authenticates with an
API token of such a user, ``Authorization: Bearer``); operators also read.  Whole numbers
for managers and admins only.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from aiohttp import web

from clinicall.db.appointment_input import EXTERNAL_ID, check_fields
from clinicall.db.appointments import AppointmentRow, AppointmentStore
from clinicall.db.models import Role
from clinicall.privacy import mask_number
from clinicall.web.keys import CLOCK, CONFIG, IDENTITY, SESSIONS

WRITERS = frozenset({Role.MANAGER, Role.ADMIN})
READERS = frozenset({Role.MANAGER, Role.ADMIN, Role.OPERATOR})
FULL_NUMBERS = frozenset({Role.MANAGER, Role.ADMIN})
UNCONFIRMED = ("scheduled", "unreached")


def _error(kind: type[web.HTTPException], message: str, **more: Any) -> web.HTTPException:
    import json

    return kind(text=json.dumps({"error": message, **more}, ensure_ascii=False),
                content_type="application/json")


def appointment_json(row: AppointmentRow, request: web.Request) -> dict[str, Any]:
    zone = request.app[CONFIG].clinic.zone
    full = request[IDENTITY].role in FULL_NUMBERS
    return {"external_id": row.external_id,
            "phone": row.phone if full else mask_number(row.phone),
            "language": row.language, "doctor": row.doctor, "specialty": row.specialty,
            "starts_at": row.starts_at.astimezone(zone).isoformat(), "state": row.state,
            "reminder_result": row.reminder_result,
            "reminder_at": row.reminder_at.isoformat() if row.reminder_at else None}  # fmt: skip


async def put_appointment(request: web.Request) -> web.Response:
    external_id = request.match_info["external_id"]
    if not EXTERNAL_ID.fullmatch(external_id):
        raise _error(web.HTTPBadRequest, "the external id is 1 to 64 letters, digits or ._:/-")
    try:
        body = await request.json()
    except ValueError:
        raise _error(web.HTTPBadRequest, "the body is a JSON object") from None
    if not isinstance(body, dict):
        raise _error(web.HTTPBadRequest, "the body is a JSON object")
    checked = check_fields({**body, "external_id": external_id}, request.app[CONFIG])
    if isinstance(checked, list):
        raise _error(web.HTTPBadRequest, "; ".join(str(p) for p in checked),
                     fields={p.field: p.expected for p in checked})
    store = AppointmentStore(request.app[SESSIONS])
    count = await store.import_rows([checked], request.app[CLOCK]())
    row = await store.by_external_id(external_id)
    assert row is not None  # just written
    result = "created" if count.created else "updated" if count.updated else "unchanged"
    return web.json_response({"result": result, "appointment": appointment_json(row, request)},
                             status=201 if count.created else 200)


async def list_appointments(request: web.Request) -> web.Response:
    zone = request.app[CONFIG].clinic.zone
    text = request.query.get("date")
    try:
        day = date.fromisoformat(text) if text else (
            request.app[CLOCK]().astimezone(zone).date() + timedelta(days=1))
    except ValueError:
        raise _error(web.HTTPBadRequest, "date is YYYY-MM-DD") from None
    risk = request.query.get("risk", "0")
    if risk not in ("0", "1"):
        raise _error(web.HTTPBadRequest, "risk is 0 or 1")
    start = datetime.combine(day, time(0), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    rows = await AppointmentStore(request.app[SESSIONS]).between(
        start, end, states=UNCONFIRMED if risk == "1" else ())
    return web.json_response({"date": day.isoformat(),
                              "appointments": [appointment_json(r, request) for r in rows]})


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/appointments", list_appointments)
    app.router.add_put("/api/appointments/{external_id}", put_appointment)
