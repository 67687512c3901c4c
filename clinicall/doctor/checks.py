"""The doctor's checks, in the order they are printed; each returns one :class:`Check`.

What each one means and the fix it proposes are docs/engines/asterisk.md facts: AMI rights by
action (``ListCommands`` lists what the user may send), ``QueueLog`` writes a line through
Asterisk's own queue_log writer, ``ShowDialPlan`` and ``QueueStatus`` report what is loaded.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from clinicall import generated_files as gen
from clinicall.asterisk_config import modules, render_asterisk_config
from clinicall.controller.asterisk.ami.errors import AMIError
from clinicall.doctor import drift, fastagi
from clinicall.doctor.ami_session import AmiSession, LoginRefused
from clinicall.doctor.result import Check, failed, passed
from clinicall.ivr.prompts import prompt_name
from clinicall.prompt_build import prompt_texts
from clinicall.settings.models import ClinicConfig

#: The actions the controller sends (docs/engines/asterisk.md); the AMI user must be allowed
#: each.  ListCommands answers with the ones the user's write rights allow.
ACTIONS_USED = ("Originate", "QueueAdd", "QueueRemove", "QueuePause", "QueueStatus",
                "QueueSummary", "Setvar", "Getvar", "Hangup", "Redirect", "CoreShowChannels",
                "QueueLog", "ShowDialPlan", "ModuleCheck")
#: Sound file extensions Asterisk plays a prompt from.
SOUND_SUFFIXES = (".wav", ".WAV", ".sln", ".gsm", ".ulaw", ".alaw", ".g722", ".ogg")
#: Largest difference between the PBX's clock and this host's before call times disagree.
MAX_CLOCK_SKEW_S = 2.0
REGENERATE = "run 'clinicall asterisk-config --out {etc}' and 'asterisk -rx \"core reload\"'"


@dataclass(frozen=True, slots=True)
class Options:
    store_url: str
    sounds: Path
    etc: Path | None = None  # Asterisk's config folder (None: not compared)
    simulated: bool = False
    bind: str = "127.0.0.1"
    agi_url: str | None = None
    timeout_s: float = 5.0


async def run_checks(config: ClinicConfig, options: Options) -> list[Check]:
    """Every check, each within ``options.timeout_s`` (a hung peer is a FAIL, not a hang)."""
    files = render_asterisk_config(config, simulated=options.simulated,
                                   agi_url=options.agi_url, bind=options.bind)
    settings = config.asterisk_engine()
    out: list[Check] = []
    try:
        async with AmiSession(settings, options.timeout_s, events="user") as ami:
            out.append(await _guarded("ami", lambda: _ami_rights(ami, config), options))
            ami_checks: dict[str, Callable[[], Awaitable[Check]]] = {
                "modules": lambda: _modules(ami),
                "clock": lambda: _clock(ami, config),
                "fastagi": lambda: fastagi.fastagi_from_asterisk(ami, config, options.agi_url,
                                                                 options.timeout_s),
                "queue_log": lambda: _queue_log(ami, config, options),
                "dialplan": lambda: _dialplan(ami, files),
                "queues": lambda: _queues(ami, config, files),
            }
            by_ami = {name: await _guarded(name, check, options)
                      for name, check in ami_checks.items()}
    except LoginRefused as exc:
        out.append(failed("ami", f"login as {settings.ami_user!r} refused ({exc})",
                          "set engine.ami_secret to the secret of clinicall_manager.conf: "
                          + REGENERATE.format(etc=options.etc or "/etc/asterisk")))
        by_ami = _unchecked(options)
    except (OSError, TimeoutError, AMIError) as exc:
        out.append(failed("ami", f"cannot reach AMI at {settings.ami_host}:{settings.ami_port} "
                                 f"({_reason(exc)})",
                          "start Asterisk, and include clinicall_manager.conf from manager.conf"))
        by_ami = _unchecked(options)
    if "fastagi" not in by_ami:  # AMI down: only this host's connect can be said
        by_ami["fastagi"] = await _guarded("fastagi", lambda: fastagi.fastagi_unchecked(
            config, options.agi_url, options.timeout_s), options)
    out += [by_ami["modules"], by_ami["clock"], by_ami["fastagi"]]
    out.append(by_ami["queue_log"])
    out.append(_prompts(config, options))
    out.append(_files(files, options))
    out += [by_ami["dialplan"], by_ami["queues"]]
    out.append(await _guarded("store", lambda: _store(options), options))
    out.append(await _guarded("web", lambda: _web(config, options), options))
    return out


def _unchecked(options: Options) -> dict[str, Check]:
    """What depends on AMI, when AMI is not there: said, never silently skipped."""
    def no(name: str) -> Check:
        return failed(name, "not checked: AMI is not reachable", "fix ami first")
    checks = {name: no(name) for name in ("modules", "dialplan", "queues")}
    checks["clock"] = _local_clock_only()
    checks["queue_log"] = no("queue_log")
    return checks


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "no answer in time"
    return getattr(exc, "strerror", None) or str(exc) or exc.__class__.__name__


async def _guarded(name: str, check: Callable[[], Awaitable[Check]], options: Options) -> Check:
    try:
        async with asyncio.timeout(options.timeout_s * 2):
            return await check()
    except TimeoutError:
        return failed(name, f"no answer within {options.timeout_s * 2:g} s",
                      "check that the service is up and not overloaded")
    except (OSError, AMIError) as exc:
        return failed(name, f"failed: {_reason(exc)}", "see the line above")


# -- AMI: rights, clock, queue_log, loaded config -------------------------------------------

async def _ami_rights(ami: AmiSession, config: ClinicConfig) -> Check:
    listed = (await ami.action("ListCommands")).response
    allowed = {name.lower() for name, _ in listed.headers}
    missing = [a for a in ACTIONS_USED if a.lower() not in allowed]
    settings = config.asterisk_engine()
    where = f"{settings.ami_user}@{settings.ami_host}:{settings.ami_port}"
    if missing:
        return failed("ami", f"logged in as {where}, but may not send {', '.join(missing)}",
                      "give the user the write rights of clinicall_manager.conf "
                      "(system,call,agent,originate,reporting) and reload manager")
    return passed("ami", f"logged in as {where}; may send all {len(ACTIONS_USED)} actions used")


async def _modules(ami: AmiSession) -> Check:
    """Each module clinicall needs is loaded (``ModuleCheck`` answers an error otherwise)."""
    missing = []
    for name in modules.names():
        try:
            await ami.action("ModuleCheck", {"Module": name})
        except AMIError:
            missing.append(name)
    if missing:
        return failed("modules", f"not loaded: {', '.join(missing)}",
                      "remove their noload lines from modules.conf (or load them) and restart "
                      "Asterisk")
    return passed("modules", f"all {len(modules.names())} modules clinicall needs are loaded")


def _local_clock_only() -> Check:
    year = time.gmtime().tm_year
    if year < 2025:
        return failed("clock", f"this host's clock says {year}", "set the clock and run NTP")
    return failed("clock", "the PBX clock was not compared (AMI down)", "fix ami first")


async def _clock(ami: AmiSession, config: ClinicConfig) -> Check:
    """The PBX's clock (Ping's Timestamp) against this host's, and the clinic's time zone."""
    before = time.time()
    pong = (await ami.action("Ping")).response
    after = time.time()
    stamp = pong.get("Timestamp")
    zone = ZoneInfo(config.clinic.timezone)
    local = time.strftime("%Y-%m-%d %H:%M", time.localtime())
    clinic_now = datetime.now(zone).strftime("%Y-%m-%d %H:%M %Z")
    if stamp is None:
        return failed("clock", "the PBX did not say its time (Ping without Timestamp)",
                      "upgrade Asterisk (22 answers Ping with its time)")
    skew = float(stamp) - (before + after) / 2
    if abs(skew) > MAX_CLOCK_SKEW_S + (after - before):
        return failed("clock", f"the PBX clock is {skew:+.1f} s off this host's",
                      "run NTP (chrony or systemd-timesyncd) on both hosts")
    if time.gmtime().tm_year < 2025:
        return failed("clock", f"the clock says {local}", "set the clock and run NTP")
    return passed("clock", f"PBX and host agree ({skew:+.2f} s); in the clinic it is "
                           f"{clinic_now} ({config.clinic.timezone})")


async def _queue_log(ami: AmiSession, config: ClinicConfig, options: Options) -> Check:
    """Readable here, and written: Asterisk appends a DOCTOR line we then find."""
    path = Path(config.asterisk_engine().queue_log)
    size = await asyncio.to_thread(_size_or_error, path)
    if isinstance(size, str):
        return failed("queue_log", f"cannot read {path}: {size}",
                      "set engine.queue_log, and let clinicall read it (the asterisk group)")
    marker = f"doctor-{secrets.token_hex(6)}"
    await ami.action("QueueLog", {"Queue": next(iter(config.queues)), "Event": "DOCTOR",
                                  "Uniqueid": marker, "Interface": "clinicall-doctor",
                                  "Message": "written for clinicall doctor"})
    deadline = time.monotonic() + options.timeout_s
    while time.monotonic() < deadline:
        if await asyncio.to_thread(_tail_has, path, size, marker):
            return passed("queue_log", f"{path} is readable and Asterisk writes it")
        await asyncio.sleep(0.1)  # a file append has no signal to wait on
    return failed("queue_log", f"Asterisk did not write {path} (a DOCTOR line never came)",
                  "include clinicall_logger.conf from logger.conf (queue_log = yes) and "
                  "check engine.queue_log names the file Asterisk writes")


def _size_or_error(path: Path) -> int | str:
    try:
        with path.open("rb"):
            return path.stat().st_size
    except OSError as exc:
        return exc.strerror or str(exc)


def _tail_has(path: Path, offset: int, marker: str) -> bool:
    with path.open("rb") as f:
        f.seek(offset)
        return marker.encode() in f.read()


async def _dialplan(ami: AmiSession, files: dict[str, str]) -> Check:
    generated = drift.generated_dialplan(files["clinicall_extensions.conf"])
    contexts = {line.split(" ", 1)[0] for line in generated}
    events = []
    for context in sorted(contexts):
        try:
            events += (await ami.action("ShowDialPlan", {"Context": context})).events
        except AMIError:
            continue  # "Did not find context": shows as missing lines below
    loaded = drift.loaded_dialplan(events, contexts)
    if loaded == generated:
        return passed("dialplan", f"the {len(contexts)} clinicall contexts loaded are the "
                                  "generated ones")
    return failed("dialplan", "the dialplan Asterisk runs differs from the generated one",
                  "regenerate and reload: 'clinicall asterisk-config' then "
                  "'asterisk -rx \"dialplan reload\"'",
                  drift.diff(generated, loaded, what="dialplan"))


async def _queues(ami: AmiSession, config: ClinicConfig, files: dict[str, str]) -> Check:
    generated = drift.generated_queues(config, files["clinicall_queues.conf"])
    result = await ami.action("QueueStatus")
    loaded = drift.loaded_queues(result.events, config.queues)
    if loaded == generated:
        return passed("queues", f"the {len(config.queues)} queues loaded are the generated ones")
    return failed("queues", "the queues Asterisk runs differ from the generated ones",
                  "regenerate and reload: 'clinicall asterisk-config' then "
                  "'asterisk -rx \"queue reload all\"'",
                  drift.diff(generated, loaded, what="queues"))


# -- this host: prompts, generated files, store, web -------------------------------

def _prompts(config: ClinicConfig, options: Options) -> Check:
    missing = []
    items = prompt_texts(config)
    for item in items:
        base = options.sounds / prompt_name(item.language, item.key)
        if not any(base.with_name(base.name + suffix).is_file() for suffix in SOUND_SUFFIXES):
            missing.append(f"{item.language}/{item.key}")
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5
                                          else "")
        return failed("prompts", f"{len(missing)} of {len(items)} prompts missing in "
                                 f"{options.sounds}: {shown}",
                      f"run 'clinicall prompts --out {options.sounds}'")
    return passed("prompts", f"all {len(items)} prompts in every language are in "
                             f"{options.sounds}")


def _files(files: dict[str, str], options: Options) -> Check:
    if options.etc is None:
        return passed("files", "not compared (give --asterisk-etc DIR)")
    changes = gen.plan(options.etc, files)
    off = [c for c in changes if c.state is not gen.State.SAME]
    if not off:
        return passed("files", f"the {len(changes)} clinicall_*.conf in {options.etc} are "
                               "the generated ones")
    names = ", ".join(f"{c.name} ({'missing' if c.state is gen.State.NEW else c.state})"
                      for c in off)
    diff = gen.unified_diff(c for c in off if c.state is not gen.State.NEW).splitlines()
    if len(diff) > drift.MAX_DIFF_LINES:
        diff = [*diff[:drift.MAX_DIFF_LINES], f"... {len(diff) - drift.MAX_DIFF_LINES} more"]
    return failed("files", f"in {options.etc}, not the generated ones: {names}",
                  REGENERATE.format(etc=options.etc), tuple(diff))


async def _store(options: Options) -> Check:
    from clinicall.db.status import StoreNotReady, require_current, shown

    try:
        status = await require_current(options.store_url)
    except StoreNotReady as exc:
        return failed("store", str(exc), exc.hint)
    return passed("store", f"{shown(options.store_url)} is at revision {status.revision}")


async def _web(config: ClinicConfig, options: Options) -> Check:
    host, port = config.http.host, config.http.port
    url = f"http://{host}:{port}/"
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port),
                                                options.timeout_s)
    except (OSError, TimeoutError) as exc:
        return failed("web", f"the console at {url} does not answer ({_reason(exc)})",
                      "start 'clinicall run'; check http.host and http.port")
    try:
        writer.write(f"GET /login HTTP/1.0\r\nHost: {host}:{port}\r\n\r\n".encode())
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), options.timeout_s)
    finally:
        writer.close()
        await writer.wait_closed()
    parts = status_line.decode("latin-1").split()
    if len(parts) < 2 or not parts[1].isdigit() or int(parts[1]) >= 500:
        return failed("web", f"the console at {url} answered {status_line!r:.60}",
                      "see the journal of clinicall run")
    return passed("web", f"the console answers at {url}")
