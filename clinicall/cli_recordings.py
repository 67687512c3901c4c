"""``clinicall recordings import|retention [--dry-run]|hold|release|holds`` and ``clinicall audit
verify``.

Long runs print progress (``[done/total]``) on stdout; the result is one summary line.
docs/recordings.md.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from clinicall.cli_args import CommandError, Handler, load_config_of, store_args, store_url


def recordings_command(parser: argparse.ArgumentParser) -> Handler:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    imp = sub.add_parser("import", help="take finished recordings from the PBX spool "
                                        "(checksum, duration, peaks, browser copy)")
    store_args(imp)
    ret = sub.add_parser("retention", help="delete recordings past their retention, except "
                                           "those held (a tombstone stays)")
    store_args(ret)
    ret.add_argument("--dry-run", action="store_true",
                     help="list what would be deleted and what is held; change nothing")
    for action, what in (("hold", "keep a recording past its retention (a legal hold)"),
                         ("release", "release a recording's hold")):
        cmd = sub.add_parser(action, help=what)
        store_args(cmd)
        cmd.add_argument("recording", type=int, help="the recording's id")
        cmd.add_argument("--reason", required=True, help="why (written to the access audit)")
    store_args(sub.add_parser("holds", help="list the open legal holds: who set each and why"))

    def run(args: argparse.Namespace) -> int:
        if args.action == "import":
            return asyncio.run(_import(args))
        if args.action in ("hold", "release"):
            return asyncio.run(_hold(args))
        if args.action == "holds":
            return asyncio.run(_list_holds(args))
        return asyncio.run(_retention(args))

    return run


def audit_command(parser: argparse.ArgumentParser) -> Handler:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    verify = sub.add_parser("verify", help="check the recordings access audit's hash chain")
    store_args(verify)

    def run(args: argparse.Namespace) -> int:
        return asyncio.run(_verify(args))

    return run


async def _import(args: argparse.Namespace) -> int:
    from clinicall.db import create_engine, session_factory
    from clinicall.recordings.importer import LOCK_FILE, Importer, ImportRunning
    from clinicall.recordings.storage import Spool, Storage
    from clinicall.settings import ClinicConfig

    config = load_config_of(args)
    assert isinstance(config, ClinicConfig)
    rec = config.recordings
    engine = create_engine(store_url(args))
    try:
        importer = Importer(session_factory(engine), Storage(Path(rec.storage_dir)),
                            Spool(Path(rec.spool_dir)), transcode=rec.transcode,
                            sweep_after_s=rec.sweep_after_s)
        report = await importer.run(_show("import"))
    except ImportRunning as exc:
        raise CommandError(str(exc), "wait for it to finish (it holds "
                           f"{Path(rec.storage_dir) / LOCK_FILE})") from None
    finally:
        await engine.dispose()
    for rid, why in sorted(report.failed.items()):
        print(f"recording {rid}: not imported: {why}", file=sys.stderr)
    print(f"imported {report.imported}, failed {len(report.failed)}, missing file "
          f"{len(report.missing)}, swept {report.swept} empty, removed {report.leftover} "
          f"left over, {report.unclaimed} not claimed yet")
    return 1 if report.failed else 0


async def _retention(args: argparse.Namespace) -> int:
    from clinicall.db import create_engine, session_factory
    from clinicall.recordings import retention
    from clinicall.recordings.audit import AuditLog
    from clinicall.recordings.storage import Storage
    from clinicall.settings import ClinicConfig

    config = load_config_of(args)
    assert isinstance(config, ClinicConfig)
    rec = config.recordings
    policy = retention.Policy(dict(rec.retention_days), rec.complaint_days_after_close)
    now = datetime.now(UTC)
    engine = create_engine(store_url(args))
    try:
        sessions = session_factory(engine)
        plan = await retention.plan(sessions, policy, now)
        if args.dry_run:
            for item in plan.due:
                print(f"would delete recording {item.recording_id} ({item.rule})")
            print(f"dry run: {len(plan.due)} would be deleted, {len(plan.held)} held, "
                  f"{len(plan.unknown_purpose)} with a purpose the config does not name")
            return 0
        removed = await retention.apply(sessions, Storage(Path(rec.storage_dir)), AuditLog(),
                                        plan.due, now, _show("retention"))
    finally:
        await engine.dispose()
    print(f"deleted {removed}, held {len(plan.held)}, "
          f"{len(plan.unknown_purpose)} with a purpose the config does not name (kept)")
    return 0


async def _hold(args: argparse.Namespace) -> int:
    """Set or release a manual hold from the command line: audited with no user (the audit's
    ``detail`` says it came from the command line)."""
    from clinicall.db import create_engine, session_factory
    from clinicall.recordings import holds
    from clinicall.recordings.audit import AuditLog

    change = holds.set_hold if args.action == "hold" else holds.release_hold
    engine = create_engine(store_url(args))
    try:
        async with session_factory(engine)() as session, session.begin():
            row = await change(session, AuditLog(), args.recording, reason=args.reason,
                               at=datetime.now(UTC), remote_addr=None)
            hold_id = row.id
    except holds.HoldError as exc:
        raise CommandError(str(exc), "see the recording's holds in the access audit") from None
    finally:
        await engine.dispose()
    done = "held" if args.action == "hold" else "released"
    print(f"recording {args.recording} {done} (hold {hold_id})")
    return 0


async def _list_holds(args: argparse.Namespace) -> int:
    """One line per open hold; ``command line`` where no user set it (``_hold`` acts as none)."""
    from clinicall.db import create_engine, session_factory
    from clinicall.recordings import holds

    engine = create_engine(store_url(args))
    try:
        async with session_factory(engine)() as session:
            rows = await holds.open_holds(session)
    finally:
        await engine.dispose()
    for h in rows:
        print(f"recording {h.recording_id} held since {h.held_at:%Y-%m-%d %H:%M} UTC by "
              f"{h.held_by or 'command line'}: {h.reason}")
    print(f"{len(rows)} open hold(s)")
    return 0


async def _verify(args: argparse.Namespace) -> int:
    from clinicall.db import create_engine, session_factory
    from clinicall.recordings.audit import verify

    engine = create_engine(store_url(args))
    try:
        verdict = await verify(session_factory(engine))
    finally:
        await engine.dispose()
    for broken in verdict.broken:
        print(f"audit row {broken.row_id}: {broken.problem}")
    if not verdict.intact:
        raise CommandError(f"the access audit is broken at {len(verdict.broken)} place(s) "
                           f"in {verdict.rows} rows", "restore the store from a backup and "
                           "find who had write access to it")
    print(f"the access audit is intact: {verdict.rows} rows")
    return 0


def _show(label: str) -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        print(f"{label} [{done}/{total}]", flush=True)

    return show
