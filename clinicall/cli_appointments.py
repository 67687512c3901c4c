"""``clinicall appointments import FILE`` and ``clinicall appointments list``.

The import reads the clinic's CSV (docs/reminders.md, "Import"): each bad row is one line on
stderr with its line, column and what is expected; the good rows are imported (idempotent by
external id, so running it again changes nothing) and the exit status is 1 when any row was
bad.  ``list`` shows a day's appointments with the reminder's result (``--tomorrow``, the
default, or ``--date``), ``--risk`` only the unconfirmed ones (the no-show risk), ``--json``
for other programs.  Numbers are masked unless ``--full-numbers``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from clinicall.cli_args import CommandError, Handler, load_config_of, store_args, store_url
from clinicall.db.appointments import AppointmentRow, AppointmentStore
from clinicall.settings.models import ClinicConfig

#: An appointment whose patient has not confirmed it: the no-show risk list.
UNCONFIRMED = ("scheduled", "unreached")
MAX_FILE_BYTES = 20 * 1024 * 1024


def appointments_command(parser: argparse.ArgumentParser) -> Handler:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    importing = actions.add_parser("import", help="import appointments from a CSV file")
    listing = actions.add_parser("list", help="a day's appointments and reminder results")
    for sub in (importing, listing):
        store_args(sub)
    importing.add_argument("file", type=Path, metavar="FILE",
                           help="CSV: external_id,phone,language,doctor,specialty,starts_at")
    day = listing.add_mutually_exclusive_group()
    day.add_argument("--tomorrow", action="store_true", help="tomorrow (the default)")
    day.add_argument("--date", type=date.fromisoformat, metavar="YYYY-MM-DD",
                     help="this day (the clinic's zone)")
    listing.add_argument("--risk", action="store_true",
                         help="only unconfirmed appointments (scheduled or unreached)")
    listing.add_argument("--json", action="store_true", help="JSON instead of lines")
    listing.add_argument("--full-numbers", action="store_true",
                         help="show whole phone numbers (masked by default)")

    def run(args: argparse.Namespace) -> int:
        from clinicall.db.status import StoreNotReady

        config = load_config_of(args)
        assert isinstance(config, ClinicConfig)
        try:
            return asyncio.run(_run(args, config, store_url(args)))
        except StoreNotReady as exc:
            raise CommandError(str(exc), exc.hint) from None

    return run


def _read(path: Path) -> str:
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CommandError(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MB",
                               "split the file")  # fmt: skip
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise CommandError(f"{path}: not UTF-8 text (byte {exc.start})",
                           "save the CSV as UTF-8") from None
    except OSError as exc:
        raise CommandError(f"{path}: {exc.strerror}") from None


async def _run(args: argparse.Namespace, config: ClinicConfig, url: str) -> int:
    from clinicall.db import create_engine, session_factory
    from clinicall.db.status import require_current

    await require_current(url)
    content = _read(args.file) if args.action == "import" else ""
    engine = create_engine(url)
    try:
        store = AppointmentStore(session_factory(engine))
        if args.action == "import":
            return await _import(store, content, config, args.file)
        zone = config.clinic.zone
        day = args.date or datetime.now(zone).date() + timedelta(days=1)
        start = datetime.combine(day, time(0), zone).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
        rows = await store.between(start, end, states=UNCONFIRMED if args.risk else ())
        if args.json:
            print(json.dumps([as_json(row, config, full=args.full_numbers) for row in rows],
                             ensure_ascii=False, indent=1))  # fmt: skip
        else:
            for row in rows:
                print(line(row, config, full=args.full_numbers))
        return 0
    finally:
        await engine.dispose()


async def _import(store: AppointmentStore, content: str, config: ClinicConfig,
                  path: Path) -> int:  # fmt: skip
    from clinicall.db.appointment_input import read_csv

    read = read_csv(content, config)
    for problem in read.problems:
        print(f"{path}: {problem}", file=sys.stderr)
    count = await store.import_rows([row for _, row in read.rows], datetime.now(UTC))
    print(f"{count.created} new, {count.updated} changed, {count.unchanged} unchanged, "
          f"{len({p.line for p in read.problems})} bad row(s)")
    return 1 if read.problems else 0


def as_json(row: AppointmentRow, config: ClinicConfig, *, full: bool) -> dict[str, object]:
    from clinicall.privacy import mask_number

    return {"external_id": row.external_id,
            "phone": row.phone if full else mask_number(row.phone),
            "language": row.language, "doctor": row.doctor, "specialty": row.specialty,
            "starts_at": row.starts_at.astimezone(config.clinic.zone).isoformat(),
            "state": row.state, "reminder_result": row.reminder_result,
            "reminder_at": row.reminder_at.isoformat() if row.reminder_at else None}  # fmt: skip


def line(row: AppointmentRow, config: ClinicConfig, *, full: bool) -> str:
    """``start external_id doctor specialty state result number``, tab-separated."""
    shown = as_json(row, config, full=full)
    local = row.starts_at.astimezone(config.clinic.zone).strftime("%Y-%m-%d %H:%M")
    return "\t".join([local, row.external_id, row.doctor, row.specialty, row.state,
                      row.reminder_result or "-", str(shown["phone"])])
