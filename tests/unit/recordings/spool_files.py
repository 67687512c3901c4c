"""Recordings as the engine leaves them in its spool, made with ffmpeg: a mixed file and the
two one-sided files (patient, operator), each a tone of a known frequency."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clinicall.db.models import Recording

PATIENT_HZ, OPERATOR_HZ = 440, 1000
STARTED = datetime(2026, 11, 24, 9, 30, tzinfo=UTC)
DAY = "2026/11/24"


def ffmpeg() -> str:
    found = shutil.which("ffmpeg")
    assert found, "ffmpeg is needed (scripts/setup installs it)"
    return found


def tone(path: Path, hz: int, seconds: float, *, rate: int = 8000) -> Path:
    """A mono Vorbis file of a sine at ``hz`` (``hz`` 0: silence)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    source = (f"sine=frequency={hz}:sample_rate={rate}:duration={seconds}" if hz
              else f"anullsrc=r={rate}:cl=mono")  # fmt: skip
    subprocess.run([ffmpeg(), "-v", "error", "-y", "-f", "lavfi", "-i", source, "-t",
                    str(seconds), "-ac", "1", "-c:a", "libvorbis", str(path)], check=True)
    return path


def engine_recording(spool: Path, linkedid: str, seconds: float = 2.0) -> str:
    """The three files MixMonitor writes for one call; the mixed one's spool path."""
    relative = f"{DAY}/{linkedid}.ogg"
    tone(spool / relative, PATIENT_HZ, seconds)
    tone(spool / f"{DAY}/{linkedid}-rx.ogg", PATIENT_HZ, seconds)
    tone(spool / f"{DAY}/{linkedid}-tx.ogg", OPERATOR_HZ, seconds)
    return relative


async def add_row(sessions: async_sessionmaker[AsyncSession], spool_path: str,
                  linkedid: str) -> int:
    """The row the account writes for an answered call: the spool path, nothing measured."""
    async with sessions() as session, session.begin():
        row = Recording(call_key=linkedid, path=spool_path, format="ogg", size_bytes=0,
                        sha256="", started_at=STARTED, imported_at=STARTED)
        session.add(row)
        await session.flush()
        return row.id
