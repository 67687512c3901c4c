"""Take each finished recording from the engine's spool into clinicall's storage.

For each ``recordings`` row still pointing into the spool (``sha256`` empty) whose call the
account saw end (a row is written when the call is answered, while the engine still writes
the file; a row without a call is taken at once), in a worker:
checksum and size of the engine's file, its decoded duration, the stereo copy (patient left,
operator right, from the two one-sided files when the engine wrote them), its peaks, and the
browser copy.  Then, in this order, so that a crash anywhere (kill -9 mid-transcode included)
leaves a state the next run finishes:

1. the original and the browser copy are written under ``.partial/`` and renamed to their
   stored names (built from the row's id: a re-run writes the same names, never a second
   pair);
2. one transaction points the row at them and fills in the facts (a re-run finds the row done
   and skips it: no duplicate row);
3. the spool files are removed (a re-run removes what a crash left: ``leftover``).

``.partial/`` is emptied when a run starts.  A spool file that no row claims and that holds no
audio (an unanswered call: MixMonitor's option ``b`` leaves an empty file) is swept once it is
older than ``recordings.sweep_after_s``; one with audio is left for its row (the account may
still be catching up) and counted.  docs/recordings.md.
"""

from __future__ import annotations

import asyncio
import fcntl
import functools
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Executor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import ParamSpec, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import Call, Recording
from clinicall.recordings import media
from clinicall.recordings.storage import PARTIAL_DIR, Spool, Storage, stored_name

#: Suffixes of the one-sided files next to the mixed one (the dialplan's ``r()`` / ``t()``).
PATIENT_SIDE, OPERATOR_SIDE = "-rx", "-tx"
#: A spool file of the layout: ``<YYYY>/<MM>/<DD>/<name>.<ext>``.
_SPOOL_FILE = re.compile(r"^[0-9]{4}/[0-9]{2}/[0-9]{2}/[A-Za-z0-9][A-Za-z0-9._-]{0,70}$")
NO_AUDIO_S = 0.1
#: A call's recording is taken this long after the account saw the call end: the engine closes
#: the file at hangup, a moment after the event (a file still open does not decode).
SETTLE_S = 2.0
LOCK_FILE = ".import.lock"

P = ParamSpec("P")
T = TypeVar("T")

#: progress(done, total): after each recording.
Progress = Callable[[int, int], None]


def _no_progress(done: int, total: int) -> None:
    return None


@dataclass
class ImportReport:
    """What one run did (the CLI prints it)."""

    imported: int = 0
    missing: list[int] = field(default_factory=list)  # rows whose spool file is not there
    failed: dict[int, str] = field(default_factory=dict)  # row id → why (the file stays)
    leftover: int = 0  # spool files of rows already imported (a crash after the commit)
    swept: int = 0  # empty files of unanswered calls
    unclaimed: int = 0  # files no row claims, kept: with audio, or too fresh to sweep
    in_progress: int = 0  # rows of calls not ended yet (or just now): left for the next run


@dataclass(frozen=True, slots=True)
class Imported:
    """What the worker made for one row."""

    original: str
    transcode: str
    facts: media.FileFacts
    audio: media.AudioFacts


@dataclass(frozen=True, slots=True)
class Job:
    """One row's work, in plain values (it crosses into a worker)."""

    recording_id: int
    started_at: datetime
    source: Path
    sides: tuple[Path, Path] | None
    ext: str


class Importer:
    """See the module docstring.  ``executor`` runs the blocking work (a thread or a process
    pool); None is asyncio's default thread pool."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], storage: Storage,
                 spool: Spool, *, transcode: media.BrowserFormat = "opus",
                 sweep_after_s: float = 3600.0, executor: Executor | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.sessions = sessions
        self.storage = storage
        self.spool = spool
        self.transcode = transcode
        self.sweep_after_s = sweep_after_s
        self.executor = executor
        self.now = now

    async def run(self, progress: Progress = _no_progress, *,
                  keep_going: Callable[[], bool] = lambda: True) -> ImportReport:
        """One import pass.  Raises :class:`ImportRunning` when another pass (another
        process) holds the storage's lock: two passes would clear each other's ``.partial``.
        ``keep_going`` is asked before each file: False ends the pass there (a shutdown)."""
        lock = await self._off_loop(_take_lock, self.storage)
        try:
            return await self._run(progress, keep_going)
        finally:
            await self._off_loop(os.close, lock)

    async def _run(self, progress: Progress, keep_going: Callable[[], bool]) -> ImportReport:
        report = ImportReport()
        await self._off_loop(_clear_partial, self.storage)
        async with self.sessions() as session:
            found = (await session.execute(
                select(Recording, Call.ended_at).outerjoin(Call, Call.id == Recording.call_id)
                .where(Recording.sha256 == "", Recording.deleted_at.is_(None))
                .order_by(Recording.id))).all()  # fmt: skip
            session.expunge_all()
        settled = self.now() - timedelta(seconds=SETTLE_S)
        pending = []
        for row, ended_at in found:
            if row.call_id is not None and (ended_at is None or _utc(ended_at) > settled):
                report.in_progress += 1  # the engine may still be writing the file
            else:
                pending.append(row)
        for done, row in enumerate(pending, 1):
            if not keep_going():
                return report
            await self._import_one(row, report)
            progress(done, len(pending))
        await self._sweep(report)
        return report

    async def _import_one(self, row: Recording, report: ImportReport) -> None:
        job = self._job(row)
        if job is None:
            report.missing.append(row.id)
            return
        try:
            made = await self._off_loop(_make, job, self.storage, self.transcode)
        except Exception as exc:  # a broken file must not stop the others: said, kept
            report.failed[row.id] = f"{type(exc).__name__}: {exc}"
            return
        async with self.sessions() as session, session.begin():
            fresh = await session.get(Recording, row.id)
            if fresh is None or fresh.sha256:
                return
            fresh.spool_path = fresh.path
            fresh.path = made.original
            fresh.transcode_path = made.transcode
            fresh.size_bytes = made.facts.size_bytes
            fresh.sha256 = made.facts.sha256
            fresh.duration_s = made.audio.duration_s
            fresh.channels = made.audio.channels
            fresh.peaks = made.audio.peaks
            fresh.imported_at = self.now()
        await self._off_loop(_unlink, [job.source, *(job.sides or ())])
        report.imported += 1

    def _job(self, row: Recording) -> Job | None:
        source = self.spool.resolve(row.path)
        if not source.is_file():
            return None
        ext = source.suffix.lstrip(".")
        stem = source.name.removesuffix(source.suffix)
        patient, operator = (source.with_name(stem + side + source.suffix)
                             for side in (PATIENT_SIDE, OPERATOR_SIDE))  # fmt: skip
        sides = (patient, operator) if patient.is_file() and operator.is_file() else None
        return Job(row.id, row.started_at, source, sides, ext)

    async def _sweep(self, report: ImportReport) -> None:
        files = await self._off_loop(_spool_files, self.spool.root)
        if not files:
            return
        mixed = sorted({_side_of(p) for p in files})
        async with self.sessions() as session:
            pending = set(await session.scalars(
                select(Recording.path).where(Recording.path.in_(mixed))))
            done = {p for p in await session.scalars(
                select(Recording.spool_path).where(Recording.spool_path.in_(mixed))) if p}
        cutoff = time.time() - self.sweep_after_s
        for relative in files:
            if _side_of(relative) in done:
                await self._off_loop(_unlink, [self.spool.resolve(relative)])
                report.leftover += 1
            elif _side_of(relative) in pending:
                continue  # its row is not imported yet (missing, failed, or just written)
            elif await self._off_loop(_empty_and_old, self.spool.resolve(relative), cutoff):
                await self._off_loop(_unlink, [self.spool.resolve(relative)])
                report.swept += 1
            elif not _is_side(relative):
                report.unclaimed += 1

    async def _off_loop(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args, **kwargs))


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _make(job: Job, storage: Storage, fmt: media.BrowserFormat) -> Imported:
    """The worker's part: facts, stereo copy, peaks, browser copy, renamed into place."""
    facts = media.file_facts(job.source)
    mixed = media.decode(job.source)
    duration = float(mixed.frame_count()) / mixed.frame_rate
    audio = media.stereo(*(media.decode(p) for p in job.sides)) if job.sides else mixed
    measured = media.audio_facts(audio)
    measured = media.AudioFacts(duration, measured.channels, measured.peaks)
    original = stored_name(job.recording_id, job.started_at, "orig", job.ext)
    transcode = stored_name(job.recording_id, job.started_at, "play", fmt)
    part_original = storage.partial(f"{job.recording_id}.orig.{job.ext}")
    part_transcode = storage.partial(f"{job.recording_id}.play.{fmt}")
    shutil.copyfile(job.source, part_original)
    media.fsync(part_original)
    media.export(audio, part_transcode, fmt)
    for part, name in ((part_original, original), (part_transcode, transcode)):
        target = storage.resolve(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(part, target)
    return Imported(original, transcode, facts, measured)


class ImportRunning(RuntimeError):
    """Another import pass holds the storage's lock."""


def _take_lock(storage: Storage) -> int:
    """An exclusive ``flock`` on ``<storage>/.import.lock`` (released when the fd closes, so a
    killed pass leaves no stale lock)."""
    storage.root.mkdir(parents=True, exist_ok=True)
    fd = os.open(storage.root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ImportRunning("another recordings import is running") from None
    return fd


def _clear_partial(storage: Storage) -> None:
    partial = storage.root / PARTIAL_DIR
    if partial.is_dir() and not partial.is_symlink():
        for leftover in partial.iterdir():
            leftover.unlink()


def _unlink(paths: Iterable[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def _spool_files(root: Path) -> list[str]:
    """The layout's files in the spool, relative (anything else there is not ours)."""
    if not root.is_dir():
        return []
    out = []
    for directory, _, names in os.walk(root):
        for name in names:
            relative = str(PurePosixPath(Path(directory, name).relative_to(root)))
            if _SPOOL_FILE.match(relative):
                out.append(relative)
    return sorted(out)


def _is_side(relative: str) -> bool:
    stem = PurePosixPath(relative).stem
    return stem.endswith((PATIENT_SIDE, OPERATOR_SIDE))


def _side_of(relative: str) -> str:
    """The mixed file a one-sided file belongs to (itself for a mixed file)."""
    path = PurePosixPath(relative)
    for suffix in (PATIENT_SIDE, OPERATOR_SIDE):
        if path.stem.endswith(suffix):
            return str(path.with_name(path.stem.removesuffix(suffix) + path.suffix))
    return relative


def _empty_and_old(path: Path, cutoff: float) -> bool:
    """No audio (or not decodable as any: an aborted header) and last written before
    ``cutoff``; a file still being written is never old."""
    if path.stat().st_mtime > cutoff:
        return False
    try:
        audio = media.decode(path)
    except Exception:
        return path.stat().st_size < 4096
    return bool(float(audio.frame_count()) / audio.frame_rate < NO_AUDIO_S)
