"""Reading ``queue_log`` incrementally from a saved position, across rotation and truncation.

The position (``TailState``: byte offset, inode, lines consumed, first-line fingerprint) is what
the store keeps in ``ingest_state``; save a batch's state in the same transaction as its records
(their journal keys make a re-read after a crash harmless).

- Only complete lines are consumed: a half-written last line is read again next time.
- The file is "another file" when its inode changed, its first line changed (an inode can be
  reused at once after a delete), it is shorter than the offset, or the byte before the offset
  is not a line end (truncated, then grown again).  Reading then restarts at its top, after the
  rest of the previous file is read from a sibling (``queue_log.1``, ``queue_log-20260701``, a
  copytruncate copy, ...) recognized by its first line (or its inode), if there is one.

``read`` does blocking file I/O; from the event loop use ``await tail.read_async()``.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from clinicall.controller.asterisk.queue_log.parser import QueueLogError, parse_chunk
from clinicall.controller.asterisk.queue_log.records import QueueLogRecord

DEFAULT_MAX_BYTES = 4 * 1024 * 1024
FINGERPRINT_MAX_LINE = 4096


@dataclass(frozen=True, slots=True)
class TailState:
    """Where reading resumes.  ``inode``/``fingerprint`` None: not known yet (a fresh start)."""

    offset: int = 0
    inode: int | None = None
    line_no: int = 0
    fingerprint: str | None = None


@dataclass(frozen=True, slots=True)
class TailBatch:
    records: list[QueueLogRecord]
    errors: list[QueueLogError]
    state: TailState  # the position after this batch
    more: bool = False  # the read stopped at max_bytes: call read() again
    restarted: str | None = None  # why reading began anew at the top, if it did


class QueueLogTail:
    """Incremental reader of one queue_log path.  ``state`` advances with every ``read``."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        state: TailState | None = None,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self.path = Path(path)
        self.state = state or TailState()
        self.max_bytes = max_bytes

    async def read_async(self) -> TailBatch:
        return await asyncio.to_thread(self.read)

    def read(self) -> TailBatch:
        """Read what was appended since ``state`` (at most ``max_bytes``) and advance."""
        try:
            file = open(self.path, "rb")  # noqa: SIM115 - closed below, kept open across steps
        except FileNotFoundError:  # between rotation's rename and the new file's creation
            return TailBatch([], [], self.state)
        with file:
            records: list[QueueLogRecord] = []
            errors: list[QueueLogError] = []
            inode = os.fstat(file.fileno()).st_ino
            state, restarted = self.state, self._restart_reason(file, inode)
            if restarted is not None:
                self._read_rest_of_previous(state, records, errors)
                state = TailState(0, inode, 0, None)
            state, more = self._read_lines(
                file,
                TailState(state.offset, inode, state.line_no, state.fingerprint),
                records,
                errors,
            )
            if state.fingerprint is None and state.offset > 0:
                state = TailState(state.offset, inode, state.line_no, fingerprint(file))
        self.state = state
        return TailBatch(records, errors, state, more=more, restarted=restarted)

    def _restart_reason(self, file: BinaryIO, inode: int) -> str | None:
        state = self.state
        if state.inode is not None and inode != state.inode:
            return "rotated"
        if state.fingerprint is not None and fingerprint(file) != state.fingerprint:
            return "replaced"
        size = os.fstat(file.fileno()).st_size
        if size < state.offset or not _at_line_start(file, state.offset):
            return "truncated"
        return None

    def _read_lines(
        self,
        file: BinaryIO,
        state: TailState,
        records: list[QueueLogRecord],
        errors: list[QueueLogError],
    ) -> tuple[TailState, bool]:
        file.seek(state.offset)
        data = file.read(self.max_bytes)
        parsed = parse_chunk(data, offset=state.offset, line_no=state.line_no)
        consumed, lines = parsed.consumed, parsed.lines
        full = len(data) >= self.max_bytes
        if full and consumed == 0:
            consumed, lines = _skip_overlong_line(file, state.offset), 1
            if consumed:
                reason = f"line longer than {self.max_bytes} bytes skipped"
                errors.append(
                    QueueLogError(reason, line_no=state.line_no + 1, offset=state.offset, raw=b"")
                )
            else:  # its end is not written yet
                lines, full = 0, False
        records.extend(parsed.records)
        errors.extend(parsed.errors)
        new = TailState(
            state.offset + consumed, state.inode, state.line_no + lines, state.fingerprint
        )
        return new, full

    def _read_rest_of_previous(
        self, state: TailState, records: list[QueueLogRecord], errors: list[QueueLogError]
    ) -> None:
        """The rest of the previous file, to its very end (it will not grow any more)."""
        previous = self._find_previous(state)
        if previous is None:
            return
        with open(previous, "rb") as file:
            file.seek(state.offset)
            data = file.read()
        parsed = parse_chunk(data, offset=state.offset, line_no=state.line_no, final=True)
        records.extend(parsed.records)
        errors.extend(parsed.errors)

    def _find_previous(self, state: TailState) -> Path | None:
        if state.offset == 0 or (state.fingerprint is None and state.inode is None):
            return None
        for candidate in sorted(self.path.parent.glob(self.path.name + "?*")):
            try:
                with open(candidate, "rb") as file:
                    stat = os.fstat(file.fileno())
                    if stat.st_size < state.offset:
                        continue
                    if state.fingerprint is not None:
                        if fingerprint(file) == state.fingerprint:
                            return candidate
                    elif stat.st_ino == state.inode:
                        return candidate
            except OSError:  # vanished or unreadable sibling: not the one
                continue
        return None


def fingerprint(file: BinaryIO) -> str | None:
    """Digest of the file's first complete line (None while it has none)."""
    file.seek(0)
    head = file.read(FINGERPRINT_MAX_LINE)
    end = head.find(b"\n")
    if end < 0:
        return None
    return hashlib.sha256(head[:end]).hexdigest()[:32]


def _at_line_start(file: BinaryIO, offset: int) -> bool:
    """Whether ``offset`` follows a line end (only whole lines are ever consumed)."""
    if offset == 0:
        return True
    file.seek(offset - 1)
    return file.read(1) == b"\n"


def _skip_overlong_line(file: BinaryIO, offset: int) -> int:
    """Bytes from ``offset`` through the next newline, or 0 if no newline is written yet."""
    file.seek(offset)
    skipped = 0
    while chunk := file.read(64 * 1024):
        end = chunk.find(b"\n")
        if end >= 0:
            return skipped + end + 1
        skipped += len(chunk)
    return 0
