"""``clinicall callbacks list|show|cancel``: the callback jobs in the store, for staff at the
server.  Numbers are masked (``***567``) unless ``--full-numbers`` is given: the terminal may
be shared or logged, and the number is personal health data (clinicall.privacy)."""

from __future__ import annotations

import argparse
import asyncio
from datetime import UTC, datetime, timedelta

from clinicall.cli_args import CommandError, Handler, store_args, store_url
from clinicall.db.callbacks import AttemptRow, CallbackStore, JobRow

STATES = ("pending", "claimed", "done", "failed", "cancelled")


def callbacks_command(parser: argparse.ArgumentParser) -> Handler:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="list jobs, newest first")
    show = actions.add_parser("show", help="one job and its attempts")
    cancel = actions.add_parser("cancel", help="cancel an open job (pending or being dialled)")
    for sub in (listing, show, cancel):
        store_args(sub)
    for sub in (listing, show):
        sub.add_argument("--full-numbers", action="store_true",
                         help="show whole phone numbers (masked by default)")
    listing.add_argument("--state", choices=STATES, action="append",
                         help="only jobs in this state (repeatable)")
    listing.add_argument("--limit", type=int, default=50, help="at most this many (50)")
    for sub in (show, cancel):
        sub.add_argument("job", type=int, metavar="ID")

    def run(args: argparse.Namespace) -> int:
        from clinicall.db.status import StoreNotReady

        try:
            return asyncio.run(_run(args, store_url(args)))
        except StoreNotReady as exc:
            raise CommandError(str(exc), exc.hint) from None

    return run


async def _run(args: argparse.Namespace, url: str) -> int:
    from clinicall.db import create_engine, session_factory
    from clinicall.db.status import require_current

    await require_current(url)
    engine = create_engine(url)
    try:
        store = CallbackStore(session_factory(engine), owner="cli", lease=timedelta(0))
        if args.action == "list":
            for job in await store.jobs(states=args.state or (), limit=max(1, args.limit)):
                print(job_line(job, full=args.full_numbers))
            return 0
        one = await store.job(args.job)
        if one is None:
            raise CommandError(f"no callback job {args.job}", "see 'clinicall callbacks list'")
        if args.action == "show":
            print(job_line(one, full=args.full_numbers))
            for attempt in await store.attempts(one.id):
                print("  " + attempt_line(attempt))
            return 0
        if not await store.cancel(one.id, now=datetime.now(UTC)):
            raise CommandError(f"callback job {one.id} is {one.state}: only an open job "
                               "(pending or claimed) can be cancelled")  # fmt: skip
        print(f"cancelled callback job {one.id}")
        return 0
    finally:
        await engine.dispose()


def shown_number(number: str, *, full: bool) -> str:
    from clinicall.privacy import mask_number

    return number if full else mask_number(number)


def job_line(job: JobRow, *, full: bool) -> str:
    """``id state reason queue number place due attempts result``, tab-separated."""
    return "\t".join([str(job.id), job.state, job.reason, job.queue or "-",
                      shown_number(job.phone, full=full), job.arrived_at.isoformat(),
                      job.due_at.isoformat(), str(job.attempts), job.result or "-"])


def attempt_line(attempt: AttemptRow) -> str:
    return "\t".join([f"#{attempt.number}", attempt.started_at.isoformat(),
                      attempt.agent or "-", attempt.outcome or "in progress", attempt.key])
