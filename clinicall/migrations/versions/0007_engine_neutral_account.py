"""The engine-neutral account: neutral ids in the store, neutral facts in the journal.

- calls.linkedid → calls.call_key, recordings.linkedid → recordings.call_key (the engine's id
  of the call; ``call_id`` already names the foreign key to ``calls.id`` in five tables), and
  queue_attempts.uniqueid → queue_attempts.channel_id, with their constraint and index names.
- ingest_state keeps the engine adapter's cursor as one JSON value instead of queue_log's
  byte offset, inode, line number and fingerprint columns (copied into it).
- event_journal: every row written from Asterisk's AMI events, queue_log lines and the IVR is
  rewritten as the engine-neutral fact it stands for (``clinicall.controller.facts``, version
  1), under the same key, so a queue_log re-read after the upgrade still de-duplicates and a
  rebuild of every call gives the same rows as before.  Sources become live / record / ivr.
  Rows of kinds no fact stands for (queue_log's QUEUESTART, CONFIGRELOAD, dialplan variables
  the account never read, ...) keep their kind and payload (only their source is renamed):
  the projector skips kinds it does not know.

The conversion is written out here, frozen, rather than imported: a migration must keep doing
what it did when the code it once shared has moved on.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 03:00:00
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHUNK = 2000
Payload = dict[str, Any]


def upgrade() -> None:
    _rename_ids()
    _cursor_column()
    _convert_journal()


# ---- ids ------------------------------------------------------------------------------------


def _rename_ids() -> None:
    """Plain renames (no table copy: SQLite would cascade-delete the attempts of a copied
    ``calls`` table while foreign keys are on)."""
    postgres = op.get_bind().dialect.name == "postgresql"
    op.execute("ALTER TABLE calls RENAME COLUMN linkedid TO call_key")
    op.execute("ALTER TABLE queue_attempts RENAME COLUMN uniqueid TO channel_id")
    op.execute("ALTER TABLE recordings RENAME COLUMN linkedid TO call_key")
    op.drop_index("ix_recordings_linkedid", table_name="recordings")
    op.create_index("ix_recordings_call_key", "recordings", ["call_key"], unique=False)
    if postgres:
        op.execute("ALTER TABLE calls RENAME CONSTRAINT uq_calls_linkedid TO uq_calls_call_key")
        op.execute("ALTER TABLE queue_attempts RENAME CONSTRAINT "
                   "uq_queue_attempts_uniqueid_queue_joined_at TO "
                   "uq_queue_attempts_channel_id_queue_joined_at")
    else:
        # SQLite keeps a table constraint's name inside the table's SQL text, which RENAME
        # COLUMN leaves as it was; rewrite just the name there (one statement, re-parsed).
        _sqlite_rename_constraint("calls", "uq_calls_linkedid", "uq_calls_call_key")
        _sqlite_rename_constraint("queue_attempts", "uq_queue_attempts_uniqueid_queue_joined_at",
                                  "uq_queue_attempts_channel_id_queue_joined_at")


def _sqlite_rename_constraint(table: str, old: str, new: str) -> None:
    bind = op.get_bind()
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type='table' AND name=?", (table,)
    ).scalar_one()
    if sql.count(old) != 1:
        raise RuntimeError(f"0007: expected one constraint {old} in {table}'s definition")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    bind.exec_driver_sql("UPDATE sqlite_master SET sql=? WHERE type='table' AND name=?",
                         (sql.replace(old, new), table))
    bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")
    # the new schema version makes SQLite parse the table's SQL again: a bad edit fails here
    bind.exec_driver_sql(f"SELECT * FROM {table} LIMIT 0")


# ---- ingest_state ---------------------------------------------------------------------------


def _cursor_column() -> None:
    with op.batch_alter_table("ingest_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cursor", sa.JSON().with_variant(
            postgresql.JSONB(), "postgresql"), nullable=True))
    bind = op.get_bind()
    state = sa.table("ingest_state", sa.column("source"), sa.column("position"),
                     sa.column("inode"), sa.column("line_no"), sa.column("fingerprint"),
                     sa.column("cursor", sa.JSON))  # fmt: skip
    for row in bind.execute(sa.select(state)).mappings().all():
        cursor = {"offset": row["position"], "inode": row["inode"], "line_no": row["line_no"],
                  "fingerprint": row["fingerprint"]}  # fmt: skip
        bind.execute(state.update().where(state.c.source == row["source"]).values(cursor=cursor))
    with op.batch_alter_table("ingest_state", schema=None) as batch_op:
        batch_op.alter_column("cursor", nullable=False)
        for name in ("position", "inode", "line_no", "fingerprint"):
            batch_op.drop_column(name)


# ---- the journal ----------------------------------------------------------------------------

SOURCES = {"ami": "live", "queue_log": "record", "agi": "ivr", "esl": "live"}
QUEUESTATUS_REASON = {"TIMEOUT": "timeout", "LEAVEEMPTY": "empty", "JOINEMPTY": "empty",
                      "LEAVEUNAVAIL": "empty", "JOINUNAVAIL": "empty"}  # fmt: skip
CALL_DATA = {"CLINICALL_LANG": "language", "CLINICALL_PATH": "path",
             "CLINICALL_ROUTE": "route", "CLINICALL_OUTCOME": "outcome"}  # fmt: skip
LEFT_REASON = {"ABANDON": "abandon", "EXITWITHTIMEOUT": "timeout", "EXITEMPTY": "empty",
               "EXITWITHKEY": "exitkey"}  # fmt: skip
COMPLETED_BY = {"COMPLETECALLER": "caller", "COMPLETEAGENT": "agent", "TRANSFER": "transfer",
                "BLINDTRANSFER": "transfer", "ATTENDEDTRANSFER": "transfer"}  # fmt: skip
RECORDING = re.compile(r"(\d{4}/\d{2}/\d{2}/[A-Za-z0-9._-]+)\.(ogg|wav|opus)$")


def _ms(value: Any) -> int | None:
    return value * 1000 if isinstance(value, int) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) else None


def _call(p: Payload, *, durable: bool = False) -> Payload:
    return {"v": 1, "durable": durable, "call_id": str(p.get("linkedid") or ""),
            "channel_id": str(p.get("uniqueid") or "")}  # fmt: skip


def _record(p: Payload) -> Payload:
    """A queue_log line names only the caller's channel."""
    return {"v": 1, "durable": True, "call_id": "", "channel_id": str(p.get("uniqueid") or ""),
            "queue": str(p.get("queue") or "")}  # fmt: skip


def _member(p: Payload) -> Payload:
    return {"member": str(p.get("member") or ""), "member_name": str(p.get("member_name") or "")}


def _agent(p: Payload) -> Payload:
    agent = str(p.get("agent") or "")
    return {"member": agent, "member_name": agent}


Converted = tuple[str, Payload] | None


def _ami(kind: str, p: Payload, status_queue: str | None) -> Converted:
    base, queue = _call(p), {"queue": str(p.get("queue") or "")}
    if kind == "ChannelCreated":
        return "channel.opened", {**base, "caller_number": p.get("caller_number", ""),
                                  "caller_name": p.get("caller_name", ""),
                                  "dialled": p.get("exten", "")}  # fmt: skip
    if kind == "ChannelHungUp":
        return "channel.closed", {**base, "cause": p.get("cause", 0),
                                  "cause_text": p.get("cause_text", "")}  # fmt: skip
    if kind == "QueueJoined":
        return "queue.joined", {**base, **queue, "position": _int(p.get("position")),
                                "caller_number": p.get("caller_number", "")}  # fmt: skip
    if kind == "QueueLeft":
        return "queue.left", {**base, **queue, "reason": None,
                              "position": _int(p.get("position"))}  # fmt: skip
    if kind == "QueueAbandoned":
        return "queue.left", {**base, **queue, "reason": "abandon",
                              "wait_ms": _ms(p.get("hold_s")), "position": _int(p.get("position")),
                              "original_position": _int(p.get("original_position"))}  # fmt: skip
    if kind == "AgentCalled":
        return "queue.rung", {**base, **queue, **_member(p)}
    if kind == "AgentRingNoAnswer":
        return "queue.ring_ended", {**base, **queue, **_member(p),
                                    "ring_ms": _int(p.get("ring_ms"))}  # fmt: skip
    if kind == "AgentConnected":
        return "queue.answered", {**base, **queue, **_member(p),
                                  "wait_ms": _ms(p.get("hold_s")) or 0,
                                  "ring_ms": _ms(p.get("ring_s"))}  # fmt: skip
    if kind == "AgentCompleted":
        return "queue.completed", {**base, **queue, **_member(p),
                                   "wait_ms": _ms(p.get("hold_s")),
                                   "talk_ms": _ms(p.get("talk_s")) or 0,
                                   "hung_up_by": str(p.get("hung_up_by") or "caller")}  # fmt: skip
    if kind == "EngineStatus":
        return "engine.link", {"v": 1, "durable": False, "up": bool(p.get("up")),
                               "detail": p.get("detail", "")}  # fmt: skip
    if kind == "VariableSet":
        return _variable(base, str(p.get("name")), str(p.get("value", "")), status_queue)
    return None


def _variable(base: Payload, name: str, value: str,
              status_queue: str | None) -> Converted:
    if name == "QUEUESTATUS":
        if value not in QUEUESTATUS_REASON or status_queue is None:
            return None
        return "queue.left", {**base, "queue": status_queue, "reason": QUEUESTATUS_REASON[value]}
    if name == "MIXMONITOR_FILENAME":
        found = RECORDING.search(value)
        if found is None:
            return None
        return "recording.started", {**base, "path": f"{found[1]}.{found[2]}",
                                     "format": found[2]}  # fmt: skip
    if name in CALL_DATA:
        return "call.data", {**base, "name": CALL_DATA[name], "value": value}
    return None


def _queue_log(kind: str, p: Payload) -> Converted:
    base = _record(p)
    if kind == "ENTERQUEUE":
        return "queue.joined", {**base, "position": _int(p.get("position")),
                                "caller_number": str(p.get("caller_id") or "")}  # fmt: skip
    if kind == "CONNECT":
        return "queue.answered", {**base, **_agent(p), "wait_ms": _ms(p.get("hold_s")) or 0,
                                  "ring_ms": _ms(p.get("ring_s"))}  # fmt: skip
    if kind in COMPLETED_BY:
        return "queue.completed", {**base, **_agent(p), "wait_ms": _ms(p.get("hold_s")),
                                   "talk_ms": _ms(p.get("talk_s")) or 0,
                                   "hung_up_by": COMPLETED_BY[kind]}  # fmt: skip
    if kind in ("RINGNOANSWER", "RINGCANCELED"):
        return "queue.ring_ended", {**base, **_agent(p), "ring_ms": _int(p.get("ring_ms"))}
    if kind in LEFT_REASON:
        key = str(p.get("exit_key") or "")[:1] or None
        return "queue.left", {**base, "reason": LEFT_REASON[kind], "wait_ms": _ms(p.get("wait_s")),
                              "position": _int(p.get("position")),
                              "original_position": _int(p.get("original_position")),
                              "exit_key": key}  # fmt: skip
    member = {"v": 1, "durable": True, "queue": base["queue"], **_agent(p)}
    if kind == "ADDMEMBER":
        return "member.joined", member
    if kind == "REMOVEMEMBER":
        return "member.left", member
    if kind in ("PAUSE", "PAUSEALL", "UNPAUSE", "UNPAUSEALL"):
        data = list(p.get("data") or [])
        reason = str(p.get("reason") or (data[0] if data else ""))
        queue = "" if kind.endswith("ALL") else member["queue"]
        return "member.paused", {**member, "queue": queue, "paused": kind.startswith("PAUSE"),
                                 "reason": reason}  # fmt: skip
    if kind == "CLINICALL":
        return _mark(p, base)
    return None


def _mark(p: Payload, base: Payload) -> Converted:
    data = [str(d) for d in p.get("data") or []]
    if len(data) < 7 or not data[0]:
        return None
    if len(data) > 7:  # a caller ID holding '|' widens only the caller field
        data = [*data[:5], "|".join(data[5:-1]), data[-1]]
    names = ("call_id", "outcome", "language", "route", "path", "caller", "dialled")
    return "call.routed", {**base, **dict(zip(names, data, strict=True))}


def _convert(source: str, kind: str, p: Payload, status_queue: str | None) -> Converted:
    if kind == "channel":
        return "call.channel", {"v": 1, "durable": source == "queue_log",
                                "call_id": str(p.get("linkedid") or ""),
                                "channel_id": str(p.get("uniqueid") or "")}  # fmt: skip
    if kind == "ivr":
        rest = {k: v for k, v in p.items() if k not in ("linkedid", "uniqueid")}
        return "ivr.outcome", {"v": 1, "call_id": p.get("linkedid"),
                               "channel_id": p.get("uniqueid"), **rest}  # fmt: skip
    if source == "ami":
        return _ami(kind, p, status_queue)
    if source == "queue_log":
        return _queue_log(kind, p)
    return None


def _convert_journal() -> None:
    bind = op.get_bind()
    journal = sa.table("event_journal", sa.column("id", sa.BigInteger), sa.column("source"),
                       sa.column("kind"), sa.column("call_key"), sa.column("at"),
                       sa.column("payload", sa.JSON))  # fmt: skip
    last_queue = _last_queues(bind, journal)
    update = (journal.update().where(journal.c.id == sa.bindparam("row_id"))
              .values(source=sa.bindparam("new_source"), kind=sa.bindparam("new_kind"),
                      payload=sa.bindparam("new_payload")))  # fmt: skip
    after = 0
    old_sources = list(SOURCES)
    while True:
        rows = bind.execute(
            sa.select(journal.c.id, journal.c.source, journal.c.kind, journal.c.payload)
            .where(journal.c.id > after, journal.c.source.in_(old_sources))
            .order_by(journal.c.id).limit(CHUNK)
        ).all()
        if not rows:
            break
        changes = []
        for row_id, source, kind, payload in rows:
            converted = _convert(source, kind, dict(payload), last_queue.get(row_id))
            if converted is not None:
                changes.append({"row_id": row_id, "new_source": SOURCES[source],
                                "new_kind": converted[0], "new_payload": converted[1]})
        if changes:
            bind.execute(update, changes)
        after = rows[-1][0]
    # rows no fact stands for keep their kind and payload; their stream gets its new name
    for old, new in SOURCES.items():
        bind.execute(journal.update().where(journal.c.source == old).values(source=new))


def _last_queues(bind: sa.Connection, journal: Any) -> dict[int, str | None]:
    """For each QUEUESTATUS row: the queue its channel last joined or left before it (the
    variable names no queue; the old projector took the channel's last left attempt)."""
    statuses = bind.execute(
        sa.select(journal.c.id, journal.c.at, journal.c.call_key, journal.c.payload)
        .where(journal.c.source == "ami", journal.c.kind == "VariableSet")
    ).all()
    wanted = [(i, at, key, p) for i, at, key, p in statuses if p.get("name") == "QUEUESTATUS"]
    found: dict[int, str | None] = {}
    for row_id, at, call_key, payload in wanted:
        channel = str(payload.get("uniqueid") or "")
        queue = bind.execute(
            sa.select(journal.c.payload).where(
                journal.c.call_key == call_key, journal.c.source == "ami",
                journal.c.kind.in_(["QueueLeft", "QueueJoined"]),
                (journal.c.at < at) | ((journal.c.at == at) & (journal.c.id < row_id)),
            ).order_by(journal.c.at.desc(), journal.c.id.desc())
        ).all()
        found[row_id] = next((str(p["queue"]) for (p,) in queue if p.get("uniqueid") == channel),
                             None)
    return found


def downgrade() -> None:
    raise NotImplementedError("0007 rewrites the journal into neutral facts; restore a backup")
