"""Recordings import + transcode throughput, and time to first byte of a seek.

    PYTHONPATH=. .venv/bin/python bench/bench_recordings.py [--calls 6] [--minutes 2]

Makes ``--calls`` engine recordings (mixed + both sides, Vorbis 8 kHz, ``--minutes`` of two
tones each) with ffmpeg, then, in one run:

* the importer (pydub: decode, stereo, peaks, export) to Ogg Opus and to MP3: recordings per
  minute and CPU seconds (this process and its ffmpeg children) per minute of audio;
* the same transcodes by calling ffmpeg directly (``-filter_complex amerge``), the floor;
* time to first byte of a ``Range`` request at 50 minutes into a 60-minute Opus file served
  by the recordings API (its streaming handler, on loopback).

Nothing asserts on time: the figures go to bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from clinicall.db import create_engine, session_factory, upgrade
from clinicall.db.models import Recording
from clinicall.recordings.importer import Importer
from clinicall.recordings.storage import Spool, Storage

FFMPEG = shutil.which("ffmpeg") or "ffmpeg"
DAY = "2026/12/04"
AT = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def cpu() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def tone(path: Path, hz: int, seconds: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=frequency={hz}:sample_rate=8000:duration={seconds}", "-ac", "1",
                    "-c:a", "libvorbis", str(path)], check=True)


def make_spool(spool: Path, calls: int, seconds: float) -> list[str]:
    names = []
    for n in range(calls):
        stem = f"{DAY}/1764840000.{n}"
        for suffix, hz in (("", 440), ("-rx", 700), ("-tx", 440)):
            tone(spool / f"{stem}{suffix}.ogg", hz, seconds)
        names.append(f"{stem}.ogg")
    return names


async def importer_run(work: Path, template: Path, names: list[str], fmt: str) -> float:
    spool = work / f"spool-{fmt}"
    shutil.copytree(template, spool)
    url = f"sqlite+aiosqlite:///{work / f'{fmt}.db'}"
    await upgrade(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        for n, name in enumerate(names):
            session.add(Recording(call_key=f"1764840000.{n}", path=name, format="ogg",
                                  size_bytes=0, sha256="", started_at=AT, imported_at=AT))
    started = time.perf_counter()
    report = await Importer(sessions, Storage(work / f"store-{fmt}"), Spool(spool),
                            transcode=fmt).run()  # type: ignore[arg-type]
    elapsed = time.perf_counter() - started
    await engine.dispose()
    assert report.imported == len(names), report
    return elapsed


def direct_run(template: Path, names: list[str], fmt: str, out: Path) -> float:
    codec = ["-c:a", "libopus", "-b:a", "32k", "-ar", "48000"] if fmt == "opus" else [
        "-c:a", "libmp3lame", "-b:a", "48k", "-ar", "24000"]
    started = time.perf_counter()
    for n, name in enumerate(names):
        stem = template / name.removesuffix(".ogg")
        subprocess.run([FFMPEG, "-v", "error", "-y", "-i", f"{stem}-rx.ogg", "-i",
                        f"{stem}-tx.ogg", "-filter_complex", "amerge=inputs=2", *codec,
                        str(out / f"{n}.{fmt}")], check=True)
    return time.perf_counter() - started


async def seek_ttfb(work: Path) -> float:
    """A 60-minute Opus file behind the recordings API's streaming handler."""
    from aiohttp import ClientSession, web

    from clinicall.web import recordings_api

    big = work / "store-seek" / "2026/12/04/1.play.opus"
    big.parent.mkdir(parents=True)
    await asyncio.to_thread(subprocess.run, [
        FFMPEG, "-v", "error", "-y", "-f", "lavfi", "-i",
        "sine=frequency=440:sample_rate=48000:duration=3600", "-c:a", "libopus", "-b:a", "32k",
        str(big)], check=True)
    app = web.Application()
    app[recordings_api.STORAGE] = Storage(work / "store-seek")

    async def handler(request: web.Request) -> web.StreamResponse:
        return await recordings_api._send_file(request, 1, "2026/12/04/1.play.opus")

    app.router.add_get("/audio", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    offset = big.stat().st_size * 50 // 60
    async with ClientSession() as client:
        started = time.perf_counter()
        async with client.get(f"http://127.0.0.1:{port}/audio",
                              headers={"Range": f"bytes={offset}-"}) as response:
            await response.content.readany()
            ttfb = time.perf_counter() - started
            assert response.status == 206
    await runner.cleanup()
    return ttfb


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=6)
    parser.add_argument("--minutes", type=float, default=2.0)
    args = parser.parse_args()
    audio_min = args.calls * args.minutes
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        template = work / "template"
        names = make_spool(template, args.calls, args.minutes * 60)
        print(f"{args.calls} recordings of {args.minutes} min (Vorbis 8 kHz, mixed + sides)")
        for fmt in ("opus", "mp3"):
            before = cpu()
            elapsed = await importer_run(work, template, names, fmt)
            used = cpu() - before
            print(f"importer (pydub) -> {fmt}: {args.calls / elapsed * 60:.1f} recordings/min, "
                  f"{used / audio_min:.2f} CPU s per audio minute")
            out = work / f"direct-{fmt}"
            out.mkdir()
            before = cpu()
            elapsed = direct_run(template, names, fmt, out)
            used = cpu() - before
            print(f"ffmpeg direct     -> {fmt}: {args.calls / elapsed * 60:.1f} recordings/min, "
                  f"{used / audio_min:.2f} CPU s per audio minute")
        ttfb = await seek_ttfb(work)
        print(f"seek to 50:00 of a 60-minute Opus file: first byte after {ttfb * 1000:.1f} ms")
    os.sync()


if __name__ == "__main__":
    asyncio.run(main())
