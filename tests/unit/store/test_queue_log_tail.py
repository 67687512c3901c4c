"""QueueLogTail on real files: appends, half lines, resume, rotation, truncation, limits."""

from __future__ import annotations

import os
from pathlib import Path

from clinicall.controller.asterisk.queue_log import (
    Abandon,
    EnterQueue,
    QueueLogRecord,
    QueueLogTail,
    TailState,
)


def line(second: int, event: str = "ENTERQUEUE||+380441234567|1", uid: str = "1.1") -> bytes:
    return f"{1700000000 + second}|{uid}|cardiology|NONE|{event}\n".encode()


def sec(record: QueueLogRecord) -> int:
    return int(record.at.timestamp()) - 1700000000


def append(path: Path, data: bytes) -> None:
    with open(path, "ab") as file:
        file.write(data)


def test_reads_appended_lines_and_leaves_a_half_line(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    append(log, line(1) + line(2)[:10])
    tail = QueueLogTail(log)
    first = tail.read()
    assert [sec(r) for r in first.records] == [1]
    assert first.state.offset == len(line(1))
    assert (first.state.inode, first.state.line_no) == (os.stat(log).st_ino, 1)
    assert first.state.fingerprint is not None
    assert [r.at.second for r in first.records] == [21]  # 1700000001 is 22:13:21 UTC
    assert tail.read().records == []  # nothing new yet
    append(log, line(2)[10:] + line(3, "ABANDON|1|1|4"))
    second = tail.read()
    assert [type(r) for r in second.records] == [EnterQueue, Abandon]
    assert [r.line_no for r in second.records] == [2, 3]
    assert second.state.offset == log.stat().st_size
    assert second.restarted is None


def test_a_new_reader_resumes_from_saved_state_with_the_same_keys(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    append(log, line(1) + line(2))
    everything = QueueLogTail(log).read().records
    saved = TailState(len(line(1)), log.stat().st_ino, 1)  # as saved before fingerprints
    resumed = QueueLogTail(log, saved).read()
    assert resumed.records == everything[1:]


def test_truncation_restarts_from_the_top(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    append(log, line(1) + line(2) + line(3))
    tail = QueueLogTail(log)
    tail.read()
    log.write_bytes(line(1))  # same inode, same first line, shorter
    batch = tail.read()
    assert batch.restarted == "truncated"
    assert [(sec(r), r.line_no, r.offset) for r in batch.records] == [(1, 1, 0)]


def test_copytruncate_reads_the_rest_from_the_copy_then_the_new_start(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    append(log, line(1))
    tail = QueueLogTail(log)
    tail.read()
    append(log, line(2))
    (tmp_path / "queue_log.1").write_bytes(log.read_bytes())  # the copy
    log.write_bytes(line(3) + line(4))  # truncated in place, then written again
    batch = tail.read()
    assert batch.restarted == "replaced"
    assert [sec(r) for r in batch.records] == [2, 3, 4]


def test_truncated_file_that_grew_past_the_offset_is_detected(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    append(log, line(1) + line(2))
    tail = QueueLogTail(log)
    tail.read()
    # truncated, then more than before: the old offset now falls inside the second line
    log.write_bytes(line(1) + line(12, "PAUSE|a longer reason"))
    batch = tail.read()
    assert batch.restarted == "truncated"
    assert [sec(r) for r in batch.records] == [1, 12]
    assert batch.errors == []


def test_rotation_reads_the_rest_of_the_old_file_first(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    append(log, line(1))
    tail = QueueLogTail(log)
    tail.read()
    append(log, line(2))  # written before rotation, not read yet
    log.rename(tmp_path / "queue_log.1")
    append(log, line(3))
    batch = tail.read()
    assert batch.restarted == "rotated"
    assert [sec(r) for r in batch.records] == [2, 3]
    assert (batch.state.offset, batch.state.line_no) == (len(line(3)), 1)
    assert batch.state.inode == log.stat().st_ino


def test_rotation_with_the_old_file_gone_reads_the_new_one(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    append(log, line(1))
    tail = QueueLogTail(log)
    tail.read()
    log.unlink()
    assert tail.read().records == []  # no file yet: wait
    append(log, line(5))  # may well get the old inode back
    batch = tail.read()
    assert [sec(r) for r in batch.records] == [5]
    assert batch.restarted in {"rotated", "replaced"}


def test_max_bytes_splits_the_work_and_skips_an_overlong_line(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    append(log, line(1) + line(2) + b"9" * 300 + b"\n" + line(3))
    tail = QueueLogTail(log, max_bytes=len(line(1)) + 5)
    seen, errors = [], []
    for _ in range(20):
        batch = tail.read()
        seen += [sec(r) for r in batch.records]
        errors += batch.errors
        if not batch.more and batch.state.offset == log.stat().st_size:
            break
    assert seen == [1, 2, 3]
    assert errors  # the overlong line (and what is left of it) is reported, not fatal
    assert tail.state.offset == log.stat().st_size


async def test_read_async_runs_off_the_loop(tmp_path: Path) -> None:
    log = tmp_path / "queue_log"
    append(log, line(1))
    batch = await QueueLogTail(log).read_async()
    assert [sec(r) for r in batch.records] == [1]
