"""The access audit for admins: read it page by page, or export it whole as CSV with each
row's hashes, so an export kept elsewhere can later prove that the newest rows were not cut
off (docs/recordings.md, "Access audit").  Read-only: there is no route that changes it.

    GET /api/audit?after=<id>      up to 500 rows after that id (JSON)
    GET /api/audit.csv             every row (CSV, streamed)
"""

from __future__ import annotations

import csv
import io
from typing import Any

from aiohttp import web
from sqlalchemy import select

from clinicall.db.models import RecordingAccess, User
from clinicall.web.keys import SESSIONS

PAGE = 500
FIELDS = ("id", "at", "user_id", "action", "recording_id", "remote_addr", "reason", "detail",
          "prev_hash", "row_hash")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/audit", page)
    app.router.add_get("/api/audit.csv", export)


def _row(r: RecordingAccess) -> dict[str, Any]:
    return {"id": r.id, "at": r.at.isoformat(), "user_id": r.user_id, "action": r.action.value,
            "recording_id": r.recording_id, "remote_addr": r.remote_addr, "reason": r.reason,
            "detail": r.detail, "prev_hash": r.prev_hash, "row_hash": r.row_hash}  # fmt: skip


async def _rows_after(request: web.Request, after: int, limit: int) -> list[dict[str, Any]]:
    async with request.app[SESSIONS]() as session:
        rows = await session.scalars(select(RecordingAccess).where(RecordingAccess.id > after)
                                     .order_by(RecordingAccess.id).limit(limit))
        return [_row(r) for r in rows]


async def newest(request: web.Request, limit: int) -> list[tuple[RecordingAccess, str | None]]:
    """The newest rows with the user's name (None: the command line), newest first, for the
    admin page."""
    async with request.app[SESSIONS]() as session:
        rows = await session.execute(
            select(RecordingAccess, User.username)
            .outerjoin(User, User.id == RecordingAccess.user_id)
            .order_by(RecordingAccess.id.desc()).limit(limit))
        return [(access, name) for access, name in rows.all()]


async def page(request: web.Request) -> web.Response:
    raw = request.query.get("after", "0")
    if not raw.isdigit() or len(raw) > 18:
        raise web.HTTPBadRequest(text='{"error": "after: a row id"}',
                                 content_type="application/json")
    rows = await _rows_after(request, int(raw), PAGE)
    return web.json_response({"rows": rows, "more": len(rows) == PAGE})


async def export(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": 'attachment; filename="recordings-audit.csv"'})
    await response.prepare(request)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=FIELDS)
    writer.writeheader()
    after = 0
    while True:
        rows = await _rows_after(request, after, PAGE)
        for row in rows:
            writer.writerow(row)
        await response.write(buffer.getvalue().encode())
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < PAGE:
            break
        after = rows[-1]["id"]
    await response.write_eof()
    return response
