"""Build the clinic's IVR prompts from text: espeak-ng speaks, sox makes Asterisk's 8 kHz WAV.

A clinic may record its own prompts: a file ``<recorded>/<language>/<key>.<wav|mp3|ogg|flac>``
is converted to the same format and used instead of the spoken text (every prompt it lacks is
still spoken, so a half-recorded clinic, or one with no Ukrainian voice artist, just works).

Each :class:`~ivr.prompts.PromptText` becomes ``out_dir/clinicall/<language>/<key>.wav`` (8 kHz,
mono, 16-bit signed PCM: what Asterisk plays as ``.wav`` without transcoding).  A built prompt
is cached under a hash of (voice, text, settings, tool versions), so running the build again
after changing one menu re-synthesises that menu only.  The tools run as asyncio subprocesses,
a few at a time; file copies run in a worker thread, so nothing blocks the event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import shutil
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from clinicall.ivr.prompts import PromptText, catalog, prompt_name
from clinicall.settings.models import ClinicConfig

__all__ = ["PromptBuildError", "PromptText", "build_prompts", "prompt_texts"]

#: espeak-ng voice per clinic language.
VOICES = {"uk": "uk", "ru": "ru", "en": "en"}
WORDS_PER_MINUTE = 150  # a little slower than espeak's 175: callers hear it over a phone line
SAMPLE_RATE = 8000
#: Part of the cache key: change it when the way a prompt is made changes.
RECIPE = f"espeak-ng -s {WORDS_PER_MINUTE} | sox -r {SAMPLE_RATE} -c 1 -b 16 -e signed"

#: progress(done, total, item, cached): called after each prompt.
Progress = Callable[[int, int, PromptText, bool], None]


class PromptBuildError(Exception):
    """A prompt could not be built (a tool is missing or failed)."""


def prompt_texts(config: ClinicConfig) -> list[PromptText]:
    """Every prompt the clinic's IVR may play (the catalog of :mod:`ivr.prompts`)."""
    return catalog(config)


def _no_progress(done: int, total: int, item: PromptText, cached: bool) -> None:
    return None


RECORDED_SUFFIXES = (".wav", ".mp3", ".ogg", ".flac")


async def build_prompts(items: Iterable[PromptText], out_dir: Path, *, cache_dir: Path,
                        progress: Progress = _no_progress, jobs: int | None = None,
                        recorded: Path | None = None) -> list[Path]:
    """Write every prompt under ``out_dir``; return the paths in the order of ``items``.

    Raises :class:`PromptBuildError` if espeak-ng or sox is missing or fails; prompts already
    finished stay in place and in the cache.
    """
    todo = list(items)
    unknown = sorted({i.language for i in todo} - VOICES.keys())
    if unknown:
        raise PromptBuildError(f"no voice for language {', '.join(map(repr, unknown))}; "
                               f"known: {', '.join(VOICES)}")
    versions = await _tool_versions()
    limit = asyncio.Semaphore(jobs or min(8, os.cpu_count() or 2))
    done = 0

    async def one(item: PromptText) -> Path:
        nonlocal done
        async with limit:
            own = await asyncio.to_thread(_recorded_file, recorded, item) if recorded else None
            if own is not None:
                path, cached = await _convert_recorded(own, item, out_dir), False
            else:
                path, cached = await _build_one(item, out_dir, cache_dir, versions)
        done += 1
        progress(done, len(todo), item, cached)
        return path

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(item)) for item in todo]
    except* PromptBuildError as failed:  # the first failure says enough; the others cancel
        raise failed.exceptions[0] from None
    return [task.result() for task in tasks]


def cache_key(item: PromptText, versions: str) -> str:
    voice = VOICES.get(item.language, item.language)
    blob = "\0".join((voice, item.text, RECIPE, versions))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


async def _build_one(item: PromptText, out_dir: Path, cache_dir: Path,
                     versions: str) -> tuple[Path, bool]:
    target = out_dir / f"{prompt_name(item.language, item.key)}.wav"
    cached = cache_dir / f"{cache_key(item, versions)}.wav"
    if await asyncio.to_thread(_copy_if_present, cached, target):
        return target, True
    await asyncio.to_thread(cache_dir.mkdir, parents=True, exist_ok=True)
    # two prompts of one build may share a text (two routes to one queue): each its own
    # temporary files, the last atomic replace wins with the same sound
    own = f"{os.getpid()}-{secrets.token_hex(4)}"
    raw = cached.with_suffix(f".{own}.raw.wav")
    part = cached.with_suffix(f".{own}.part.wav")
    try:
        await _run(["espeak-ng", "-v", VOICES[item.language], "-s", str(WORDS_PER_MINUTE),
                    "-w", str(raw), "--stdin"], stdin=item.text.encode("utf-8"))
        await _run(["sox", str(raw), "-r", str(SAMPLE_RATE), "-c", "1", "-b", "16",
                    "-e", "signed-integer", str(part)])
        await asyncio.to_thread(os.replace, part, cached)
    finally:
        await asyncio.to_thread(_unlink, raw, part)
    await asyncio.to_thread(_copy_if_present, cached, target)
    return target, False


def _recorded_file(recorded: Path, item: PromptText) -> Path | None:
    for suffix in RECORDED_SUFFIXES:
        candidate = recorded / item.language / f"{item.key}{suffix}"
        if candidate.is_file():
            return candidate
    return None


async def _convert_recorded(source: Path, item: PromptText, out_dir: Path) -> Path:
    """The clinic's recording as Asterisk's 8 kHz mono 16-bit WAV (ffmpeg reads any format)."""
    target = out_dir / f"{prompt_name(item.language, item.key)}.wav"
    await asyncio.to_thread(target.parent.mkdir, parents=True, exist_ok=True)
    part = target.with_name(f".{target.name}.part.wav")
    try:
        await _run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", str(source),
                    "-ac", "1", "-ar", str(SAMPLE_RATE), "-sample_fmt", "s16", str(part)])
        await asyncio.to_thread(os.replace, part, target)
    finally:
        await asyncio.to_thread(_unlink, part)
    return target


def _copy_if_present(source: Path, target: Path) -> bool:
    if not source.is_file():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(f".{target.name}.part")
    shutil.copyfile(source, part)
    os.replace(part, target)  # a half-written prompt is never played
    return True


def _unlink(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


async def _tool_versions() -> str:
    espeak = await _run(["espeak-ng", "--version"])
    sox = await _run(["sox", "--version"])
    return f"{espeak.strip()} | {sox.strip()}"


async def _run(argv: Sequence[str], *, stdin: bytes | None = None) -> str:
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE if stdin is not None else None,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    except FileNotFoundError:
        raise PromptBuildError(f"{argv[0]} is not installed") from None
    out, err = await proc.communicate(stdin)
    if proc.returncode != 0:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise PromptBuildError(f"{argv[0]} failed ({proc.returncode}): {' / '.join(tail)}")
    return out.decode("utf-8", "replace")
