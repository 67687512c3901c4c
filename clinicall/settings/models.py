"""The clinic config as frozen, typed values.

One YAML file drives everything (docs/architecture.md): the IVR, the triage routes, the queues and
the Asterisk config that ``clinicall asterisk-config`` writes.  It is validated once, on load
(:mod:`clinicall.settings.loader`), and then never changes while the process runs, so every
part can hold on to it without copying.

Field constraints live here; checks that span sections (a route naming an unknown queue, a
prompt missing a language) live in :mod:`clinicall.settings.crossref`, so both report every
problem at once with the file, line and key.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import date, time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from clinicall.settings.dburl import check_database_url

Language = Literal["uk", "ru", "en"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

#: An id used in Asterisk config and channel variables: lower-case, no spaces or punctuation.
Ident = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
#: A phone number in E.164: '+' and 8 to 15 digits.
E164 = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{7,14}$")]
Digit = Annotated[str, StringConstraints(pattern=r"^[0-9*#]$")]
#: Text in each of the clinic's languages: {uk: ..., ru: ..., en: ...}.
Localized = dict[Language, Annotated[str, StringConstraints(min_length=1)]]

_RANGE = re.compile(r"^([0-2][0-9]):([0-5][0-9])-([0-2][0-9]):([0-5][0-9])$")


class Frozen(BaseModel):
    """Base: immutable, and unknown keys are errors (a typo must not pass silently)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class TimeRange(Frozen):
    """An opening interval within one day, ``HH:MM-HH:MM`` in the clinic's time zone."""

    start: time
    end: time

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        m = _RANGE.match(value.strip())
        if not m:
            raise ValueError(f"expected 'HH:MM-HH:MM' (24-hour clock), got {value!r}")
        h1, m1, h2, m2 = (int(g) for g in m.groups())
        if h1 > 23 or h2 > 24 or (h2 == 24 and m2):
            raise ValueError(f"expected hours 00-24 in 'HH:MM-HH:MM', got {value!r}")
        end = time(23, 59, 59) if h2 == 24 else time(h2, m2)
        return {"start": time(h1, m1), "end": end}

    @model_validator(mode="after")
    def _ordered(self) -> TimeRange:
        if self.end <= self.start:
            raise ValueError("the end of an opening interval must be after its start")
        return self


class Holiday(Frozen):
    date: date
    name: Localized | None = None
    hours: list[TimeRange] = Field(default_factory=list)  # empty: closed all day


class Hours(Frozen):
    weekly: dict[Weekday, list[TimeRange]]
    holidays: list[Holiday] = Field(default_factory=list)

    @field_validator("weekly")
    @classmethod
    def _every_day(cls, value: dict[Weekday, list[TimeRange]]) -> dict[Weekday, list[TimeRange]]:
        missing = [d for d in WEEKDAYS if d not in value]
        if missing:
            raise ValueError(f"every weekday needs an entry ([] when closed); missing: {missing}")
        return value


class Clinic(Frozen):
    name: Localized
    address: Localized
    timezone: str
    currency: Localized

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as 'Europe/Kyiv'"
            ) from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class ClinicNumber(Frozen):
    number: E164
    language: Language | None = None  # set: callers of this number skip the language menu


#: How a queue picks the operator to ring, named for both engines; each engine's names are in
#: one table (ASTERISK_STRATEGIES here, FREESWITCH_STRATEGIES beside FreeswitchEngine).
Strategy = Literal["ring_all", "longest_idle", "fewest_calls", "random", "round_robin",
                   "top_down"]  # fmt: skip
#: The neutral strategies in app_queue's names (queues.conf ``strategy``).
ASTERISK_STRATEGIES: dict[str, str] = {
    "ring_all": "ringall", "longest_idle": "leastrecent", "fewest_calls": "fewestcalls",
    "random": "random", "round_robin": "rrmemory", "top_down": "linear",
}  # fmt: skip


#: Per queue: no post-call survey; ask the patient before the queue; survey every answered one.
SurveyMode = Literal["off", "ask", "always"]


class Queue(Frozen):
    name: Localized
    strategy: Strategy = "round_robin"
    ring_s: int = Field(default=15, ge=5, le=120)  # how long one operator's phone rings
    # then the caller leaves the queue (timeout, or overflow to the next queue):
    max_wait_s: int = Field(default=300, ge=10, le=3600)
    service_level_s: int = Field(default=20, ge=1, le=600)
    wrapup_s: int = Field(default=5, ge=0, le=600)
    announce_position: bool = True
    #: The post-call survey (docs/kpi.md, Survey): off, ask the patient before the queue, or
    #: always (every answered patient hears it).
    survey: SurveyMode = "off"


class Operator(Frozen):
    id: Ident
    name: str
    secret: Annotated[str, StringConstraints(min_length=8)]
    queues: dict[Ident, Annotated[int, Field(ge=0, le=10)]]  # queue id -> penalty


class Route(Frozen):
    """Triage result: the queue, its priority, and where the caller goes if nobody answers."""

    queue: Ident
    priority: int = Field(default=0, ge=0, le=10)
    overflow_to: Ident | None = None
    overflow_after_s: int | None = Field(default=None, ge=5, le=3600)
    #: The doctor this route books (a menu key per doctor): demand per doctor (docs/kpi.md).
    doctor: Ident | None = None
    #: The route's topic as the console shows it, per language (else its id in words).
    name: Localized | None = None


class Doctor(Frozen):
    name: Localized
    days: list[Weekday]


class Service(Frozen):
    name: Localized
    price: int = Field(ge=0)
    duration_min: int = Field(ge=1)
    preparation: Localized
    doctors: list[Ident] = Field(default_factory=list)
    equipment: str | None = None


#: What a menu option may answer by itself: the opening hours, the address or one service.
SayWhat = Annotated[str, StringConstraints(pattern=r"^(hours|address|service:[a-z][a-z0-9_]*)$")]


class MenuOption(Frozen):
    """Exactly one of: go to a menu, take a route (a queue), or say an answer."""

    menu: Ident | None = None
    route: Ident | None = None
    say: SayWhat | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> MenuOption:
        chosen = [k for k in ("menu", "route", "say") if getattr(self, k) is not None]
        if len(chosen) != 1:
            raise ValueError("an option needs exactly one of 'menu', 'route' or 'say'")
        return self


class Menu(Frozen):
    prompt: Localized
    options: dict[Digit, MenuOption]
    #: The menu as the console shows it in an IVR path, per language (else its id in words).
    name: Localized | None = None


class Ivr(Frozen):
    language_menu: bool = True
    max_attempts: int = Field(default=3, ge=1, le=10)
    digit_timeout_s: float = Field(default=5.0, gt=0, le=30)
    fallback_route: Ident
    emergency_notice: Localized
    main_menu: Ident = "main"
    menus: dict[Ident, Menu]
    #: The clinic's own recorded prompts, ``<dir>/<language>/<key>.<wav|mp3|ogg|flac>``; each
    #: one found replaces the spoken text of that prompt (``clinicall prompts`` converts it).
    recorded_prompts: str | None = None


class Kpi(Frozen):
    short_abandon_s: int = Field(default=5, ge=0, le=60)
    service_level_s: int = Field(default=20, ge=1, le=600)
    unreturned_after_min: int = Field(default=10, ge=1, le=1440)


#: Why a call was missed, in the store's words (``MissCause`` in clinicall/db/models/enums.py).
MissedCause = Literal["hangup_ivr", "abandoned", "timeout", "exitkey", "empty", "afterhours",
                      "failed", "engine"]  # fmt: skip
#: The causes a callback job is made for by default: the patient wanted an operator and got none.
DEFAULT_MISSED_CAUSES: tuple[MissedCause, ...] = ("abandoned", "hangup_ivr", "timeout", "failed",
                                                  "afterhours")  # fmt: skip
#: A country calling code: 1 to 3 digits, no '+' (``380``).
CountryCode = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,2}$")]
#: The start of an E.164 number: '+' and 1 to 15 digits (``+380900``).
NumberPrefix = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{0,14}$")]


class CallableNumbers(Frozen):
    """Which numbers the clinic may call back (docs/callbacks.md, "Callable numbers").

    A number must be E.164 after normalization (emergency and other short numbers never are);
    ``countries`` limits the country codes (empty: any), ``blocked_prefixes`` refuses ranges
    such as premium-rate services.  The defaults are Ukraine's premium-rate and audiotex
    ranges; a clinic elsewhere lists its own.
    """

    countries: list[CountryCode] = Field(default_factory=list)
    blocked_prefixes: list[NumberPrefix] = Field(default_factory=lambda: ["+380700", "+380900"])


class CallbackOverride(Frozen):
    """One queue's own callback policy; a key left out takes the ``callbacks:`` default."""

    first_attempt_min: int | None = Field(default=None, ge=0, le=1440)
    attempts: int | None = Field(default=None, ge=1, le=10)
    spacing_min: int | None = Field(default=None, ge=1, le=1440)
    live_share: float | None = Field(default=None, ge=0, le=1)
    offer_after_min: int | None = Field(default=None, ge=0, le=240)
    announce_wait: bool | None = None
    promote_after_min: int | None = Field(default=None, ge=0, le=1440)


class Callbacks(Frozen):
    """The callback policy (docs/callbacks.md): which missed calls are returned, when, how
    often, and how callbacks share the line with live callers.  Per-queue overrides under
    ``queues``."""

    #: Whether the scheduler runs and dials (it calls patients: the clinic turns it on).
    enabled: bool = False
    #: How long a controller's claim on a job holds (longer than any attempt); a controller
    #: that died leaves its jobs to be claimed again after it.
    lease_s: int = Field(default=180, ge=5, le=3600)
    #: An attempt sent before a restart whose call the engine's record does not show by then
    #: is stored as ``unknown`` and counts as a failed try (it is never sent again).
    resolve_after_s: int = Field(default=300, ge=5, le=86400)
    #: The missed causes that create a callback job (``hangup_ivr`` only after a topic).
    missed_causes: list[MissedCause] = Field(default_factory=lambda: list(DEFAULT_MISSED_CAUSES))
    #: The target for the first attempt of a missed call, counted from the call (open hours).
    first_attempt_min: int = Field(default=10, ge=0, le=1440)
    #: Tries per job (busy, no answer, rejected and failed each count) and the time between.
    attempts: int = Field(default=3, ge=1, le=10)
    spacing_min: int = Field(default=5, ge=1, le=1440)
    #: No attempt starts this close to closing time (the call must end within hours).
    closing_margin_min: int = Field(default=5, ge=0, le=240)
    #: The patient's own wall-clock hours in which they may be called (their time zone).
    patient_day: TimeRange = Field(default_factory=lambda: TimeRange.model_validate("09:00-21:00"))
    #: The least share of recent serves that go to live callers when both wait (0: strict
    #: arrival order), over the last ``share_window`` serves.
    live_share: float = Field(default=0.0, ge=0, le=1)
    share_window: int = Field(default=10, ge=1, le=1000)
    #: The handle time assumed by the wait estimate before any call was handled.
    default_handle_s: int = Field(default=180, ge=10, le=3600)
    #: The key the called-back patient presses after the greeting to be put through to the
    #: operator (docs/callbacks.md, "The callback call"); unpressed (an answering machine),
    #: the attempt counts as unanswered.  None: the patient is put through after the greeting.
    confirm_key: str | None = Field(default=None, pattern=r"^[0-9]$")
    #: The estimated wait (minutes) at which a waiting caller is offered a callback unasked
    #: (None: only when they press the offer key; docs/callbacks.md, "The offer in the queue").
    offer_after_min: int | None = Field(default=None, ge=0, le=240)
    #: A caller about to join a queue hears their place and estimated wait first, and the
    #: estimate is stored beside the wait that follows (docs/callbacks.md, "Estimated wait").
    announce_wait: bool = False
    #: A callback not yet tried this many minutes after its call goes ahead of the live
    #: callers of its priority (None: strict arrival order; docs/callbacks.md, "Exact place").
    promote_after_min: int | None = Field(default=None, ge=0, le=1440)
    numbers: CallableNumbers = Field(default_factory=CallableNumbers)
    queues: dict[Ident, CallbackOverride] = Field(default_factory=dict)


class Reminders(Frozen):
    """Appointment reminder calls (docs/reminders.md): how long before the appointment the
    patient is called.  The calling window (opening hours, the patient's day) and the retries
    are the callbacks' (``callbacks:``, the appointment's queue's policy)."""

    #: The reminder planner runs only when true (and ``callbacks.enabled``: it dials).
    enabled: bool = False
    #: The patient is called from this long before the appointment ...
    lead_h: int = Field(default=24, ge=1, le=24 * 14)
    #: ... and never later than this before it (a reminder an hour before is no use).
    min_notice_min: int = Field(default=120, ge=0, le=24 * 60)
    #: Seconds the patient's phone rings per attempt.
    ring_s: int = Field(default=30, ge=5, le=120)

    @model_validator(mode="after")
    def _notice_within_lead(self) -> Reminders:
        if self.min_notice_min >= self.lead_h * 60:
            raise ValueError(f"min_notice_min ({self.min_notice_min}) must be shorter than "
                             f"the lead time ({self.lead_h} h)")
        return self


class Database(Frozen):
    #: SQLite or PostgreSQL (:mod:`clinicall.settings.dburl`); a relative SQLite path is
    #: relative to the config file's folder.
    url: Annotated[str, AfterValidator(check_database_url)] = "sqlite+aiosqlite:///var/clinicall.db"


def _ip_network(entry: str) -> str:
    """An address or a network in CIDR form, as ``ipaddress`` reads it (no host names: the
    allow-list is checked against the connection's address, never resolved)."""
    try:
        ipaddress.ip_network(entry, strict=True)
    except ValueError:
        try:
            network = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(
                "expected an IP address or a network such as '192.0.2.10' or '192.0.2.0/24' "
                f"(host names are not resolved), got {entry!r}"
            ) from None
        raise ValueError(f"{entry!r} has bits set past the prefix; write {str(network)!r}"
                         ) from None  # fmt: skip
    return entry


IpNetwork = Annotated[str, AfterValidator(_ip_network)]


class AsteriskEngine(Frozen):
    """Asterisk 22: AMI for events and control, FastAGI for the per-call IVR, queue_log as the
    durable record (docs/engines/asterisk.md)."""

    type: Literal["asterisk"] = "asterisk"
    ami_host: str = "127.0.0.1"
    ami_port: int = Field(default=5038, ge=1, le=65535)
    ami_user: Ident = "clinicall"
    ami_secret: Annotated[str, StringConstraints(min_length=8)]
    agi_host: str = "127.0.0.1"
    agi_port: int = Field(default=4573, ge=1, le=65535)
    #: The addresses (or networks, ``192.0.2.0/24``) the FastAGI port serves: the PBX's.  A
    #: connection from any other is closed before a byte is read, so a local process cannot
    #: play a call into the IVR and the account.  Loopback: Asterisk on the same host.
    agi_allow: list[IpNetwork] = Field(
        default_factory=lambda: ["127.0.0.1/32", "::1/128"], min_length=1
    )
    sip_port: int = Field(default=5060, ge=1, le=65535)
    #: Asterisk's queue_log, read by the controller to complete the account (it must run on
    #: the PBX host or see this file on a shared file system).
    queue_log: str = "/var/log/asterisk/queue_log"


def _not_cluecon(password: object) -> object:
    """Said before the length check, which would refuse it less helpfully."""
    if isinstance(password, str) and password.lower() == "cluecon":
        raise ValueError("'ClueCon' is FreeSWITCH's default event socket password, known to "
                         "anyone; choose one of your own")
    return password


class FreeswitchEngine(Frozen):
    """FreeSWITCH 1.10: the Event Socket inbound for events and control, the outbound socket
    for the per-call IVR, mod_cdr_csv's records as the durable record
    (docs/engines/freeswitch.md).  The adapter is the FreeSWITCH issue's."""

    type: Literal["freeswitch"]
    esl_host: str = "127.0.0.1"
    esl_port: int = Field(default=8021, ge=1, le=65535)
    #: Anything but FreeSWITCH's well-known default (``ClueCon``), which every scanner tries.
    esl_password: Annotated[str, StringConstraints(min_length=8), BeforeValidator(_not_cluecon)]
    #: The addresses (or networks) the event socket accepts: the controller's.  Loopback: the
    #: controller runs on the FreeSWITCH host.
    esl_allow: list[IpNetwork] = Field(
        default_factory=lambda: ["127.0.0.1/32", "::1/128"], min_length=1
    )
    #: Where the controller listens for ``socket <host>:<port> async full`` (one call each).
    outbound_host: str = "127.0.0.1"
    outbound_port: int = Field(default=8084, ge=1, le=65535)
    sip_port: int = Field(default=5060, ge=1, le=65535)
    #: mod_cdr_csv's log directory, read to complete the account after an outage.
    cdr_dir: str = "/var/log/freeswitch/cdr-csv"
    recordings_dir: str = "/var/lib/freeswitch/recordings"


#: The neutral queue strategies in mod_callcenter's names (for the FreeSWITCH adapter).
FREESWITCH_STRATEGIES: dict[str, str] = {
    "ring_all": "ring-all", "longest_idle": "longest-idle-agent",
    "fewest_calls": "agent-with-fewest-calls", "random": "random",
    "round_robin": "round-robin", "top_down": "top-down",
}  # fmt: skip

Engine = Annotated[AsteriskEngine | FreeswitchEngine, Field(discriminator="type")]


DownloadRole = Literal["manager", "quality", "admin"]


def _managers_only() -> list[DownloadRole]:
    return ["manager"]


class Recordings(Frozen):
    """Recording of answered calls (Asterisk's MixMonitor, only while the caller is bridged).

    ``spool_dir`` is Asterisk's monitor spool (``<astspooldir>/monitor``) as this host sees
    it: the dialplan gives MixMonitor a relative name, so Asterisk writes there by itself, and
    clinicall finds the file at ``spool_dir/<layout path>`` (:mod:`recordings.layout`).
    """

    enabled: bool = True
    format: Literal["ogg", "wav", "opus"] = "ogg"  # the file extension picks the codec
    spool_dir: str = "/var/spool/asterisk/monitor"
    #: clinicall's own storage (docs/recordings.md): ``<YYYY>/<MM>/<DD>/<recording id>.<ext>``.
    storage_dir: str = "/var/lib/clinicall/recordings"
    #: The browser copy the importer makes: Ogg Opus, or MP3 at 16 kHz or more.
    transcode: Literal["opus", "mp3"] = "opus"
    #: Record each side on its own file (MixMonitor ``r()`` / ``t()``) so the importer makes a
    #: stereo copy: patient left, operator right (docs/engines/asterisk.md).
    stereo: bool = True
    #: A spool file no row claims and without audio (an unanswered call) is swept once older.
    sweep_after_s: int = Field(default=3600, ge=0)
    #: ``clinicall run`` imports finished recordings every so many seconds (0: only by hand,
    #: ``clinicall recordings import``); recordings.import_loop.
    import_every_s: int = Field(default=60, ge=0, le=86400)
    #: Retention in days per purpose (``quality`` for every recording); a recording linked to
    #: a complaint is kept while the case is open and ``complaint_days_after_close`` after.
    retention_days: dict[Ident, int] = Field(default_factory=lambda: {"quality": 90})
    complaint_days_after_close: int = Field(default=30, ge=0)
    #: "This call may be recorded", per language, played before the queue (None: no notice).
    consent: Localized | None = None
    #: Web roles that may download a recording's file (listening is manager and quality).
    download_roles: list[DownloadRole] = Field(default_factory=_managers_only)


class ComplaintMessage(Frozen):
    """The IVR's complaint route offers a voice message (ivr.voice_message): after a beep, up to
    ``max_s`` (or ``silence_s`` of silence, or ``#``), re-recorded or kept by key; it opens a
    complaint case with the message as its first recording (docs/recordings.md)."""

    route: Ident = "complaint"
    max_s: int = Field(default=120, ge=5, le=600)
    silence_s: int = Field(default=5, ge=1, le=30)


class Complaints(Frozen):
    """Complaint cases' deadlines (recordings.complaints): a letter to the patient at once,
    a decision within days."""

    acknowledge_within_hours: int = Field(default=24, ge=1)
    resolve_within_days: int = Field(default=5, ge=1)
    #: Who takes part in a case (shown on it): roles in the clinic, not web roles.
    participants: list[str] = Field(
        default_factory=lambda: ["branch director", "head of department", "chief doctor"])
    #: None: the complaint route goes straight to its queue (no voice message offered).
    voice_message: ComplaintMessage | None = None


class Http(Frozen):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    #: The file holding the secret that signs the login form's CSRF token (made once, mode
    #: 0600, unless ``CLINICALL_SECRET`` is set); a relative path is relative to the config
    #: file's folder, like the store's.
    secret_file: str = Field(default="var/web-secret", min_length=1)


DEFAULT_PAUSE_REASONS: dict[str, dict[Language, str]] = {
    "break": {"uk": "Перерва", "ru": "Перерыв", "en": "Break"},
    "lunch": {"uk": "Обід", "ru": "Обед", "en": "Lunch"},
    "paperwork": {"uk": "Документи", "ru": "Документы", "en": "Paperwork"},
}
DEFAULT_DISPOSITIONS: dict[str, dict[Language, str]] = {
    "resolved": {"uk": "Вирішено", "ru": "Решено", "en": "Resolved"},
    "needs_callback": {"uk": "Потрібен дзвінок", "ru": "Нужен звонок", "en": "Needs a callback"},
    "complaint": {"uk": "Скарга", "ru": "Жалоба", "en": "Complaint"},
    "wrong_number": {"uk": "Помилковий номер", "ru": "Ошибочный номер", "en": "Wrong number"},
}


class Wallboard(Frozen):
    """When a wallboard tile turns amber and red: the longest wait past ``wait_*_s`` or
    today's service level under ``sl_*_pct`` (docs/console.md)."""

    wait_amber_s: int = Field(default=60, ge=1, le=3600)
    wait_red_s: int = Field(default=180, ge=1, le=3600)
    sl_amber_pct: float = Field(default=80.0, ge=0, le=100)
    sl_red_pct: float = Field(default=60.0, ge=0, le=100)


class Console(Frozen):
    """The web console (docs/console.md): the wallboard's thresholds, the read-only token of
    the kiosk wallboard (None: no kiosk URL), the operators' pause reasons and the
    dispositions an operator gives a call, each with its label per language."""

    wallboard: Wallboard = Field(default_factory=Wallboard)
    kiosk_token: Annotated[str, StringConstraints(min_length=24)] | None = None
    pause_reasons: dict[Ident, Localized] = Field(
        default_factory=lambda: dict(DEFAULT_PAUSE_REASONS))
    dispositions: dict[Ident, Localized] = Field(
        default_factory=lambda: dict(DEFAULT_DISPOSITIONS))
# -- SIP: trunks, where SIP listens, NAT, RTP ports, operators' dialling --------------------
# A PBX answers a trunk's INVITE only when it can tell which endpoint sent it: an IP-matched
# trunk is recognised by the provider's addresses, a registering trunk by the provider's host
# (and the ``line`` its registration carries).  Either way its calls land in the clinic's
# inbound context, so the IVR answers the clinic numbers (docs/engines/asterisk.md).

#: A host name, an IPv4 address or a bracketed IPv6 address, with an optional :port.
Host = Annotated[str, StringConstraints(
    pattern=r"^([A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$")]
#: A name in the engine's own config (an existing context or transport), as the
#: administrator wrote it: letters, digits, '-', '_', '.'.
EngineName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")]
Codec = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{2,20}$")]
SipUser = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9+._-]{1,64}$")]
_ADDRESS = re.compile(r"^[0-9A-Fa-f:.]+$")


class Trunk(Frozen):
    """One provider trunk: IP-matched (``match``), registering (``registration: true``), or both.

    ``host`` is where outbound requests (the registration, later the clinic's own calls) go and,
    when ``match`` is empty, the address an incoming INVITE is recognised by.
    """

    id: Ident
    host: Host
    match: list[IpNetwork] = Field(default_factory=list)
    registration: bool = False
    username: SipUser | None = None
    password: Annotated[str, StringConstraints(min_length=1)] | None = None
    #: The user part the provider calls the clinic at, through a registration (the
    #: registration's contact): by default the first clinic number without '+'.
    contact_user: SipUser | None = None
    codecs: list[Codec] = Field(default_factory=lambda: ["alaw", "ulaw"], min_length=1)

    @model_validator(mode="after")
    def _credentials(self) -> Trunk:
        if self.registration and not (self.username and self.password):
            raise ValueError("a trunk with registration: true needs a username and a password")
        if (self.username is None) != (self.password is None):
            raise ValueError("give both username and password, or neither")
        return self


#: How a provider wants the number dialled (docs/outbound.md): ``e164`` ``+380501234567``,
#: ``digits`` ``380501234567``, ``national`` ``0501234567`` (abroad: ``00`` and the digits).
NumberFormat = Literal["e164", "digits", "national"]
#: A dialling prefix: digits only, possibly none (``0``, ``00``, ``810``).
DialPrefix = Annotated[str, StringConstraints(pattern=r"^[0-9]{0,4}$")]


@dataclass(frozen=True, slots=True)
class DialRule:
    """Numbers starting with ``match`` (E.164, with '+') are dialled as ``prepend`` and the
    digits after the first ``strip`` characters: what both engines' generators write."""

    match: str
    strip: int
    prepend: str


class Outbound(Frozen):
    """How the calls the clinic places (callbacks, reminders) reach patients: through one of
    ``trunks`` or through the PBX's own context that places outside calls (docs/outbound.md).
    Neither: every such call is refused, as before one is configured."""

    #: The id of the trunk (``trunks:``) the calls go out through.
    trunk: Ident | None = None
    #: Or the PBX's context (Asterisk) or dialplan context (FreeSWITCH) that places outside
    #: calls; it gets the number as its extension, formatted as below.
    context: EngineName | None = None
    number_format: NumberFormat = "e164"
    #: With ``national``: the clinic's country code (``380``), the prefix that replaces it
    #: (``0``) and the one before the digits of a number abroad (``00``).
    country_code: CountryCode | None = None
    national_prefix: DialPrefix = "0"
    international_prefix: DialPrefix = "00"
    #: The number the patient sees; by default the first clinic number.
    caller_id: E164 | None = None

    @model_validator(mode="after")
    def _one_route(self) -> Outbound:
        if self.trunk is not None and self.context is not None:
            raise ValueError("give trunk or context, not both (the calls take one route)")
        if self.number_format == "national" and self.country_code is None:
            raise ValueError("number_format national needs country_code (e.g. '380'): "
                             "the numbers of that country are dialled with national_prefix")
        return self

    @property
    def configured(self) -> bool:
        return self.trunk is not None or self.context is not None

    def dial_rules(self) -> list[DialRule]:
        """Most specific first: the engines try them in order."""
        if self.number_format == "e164":
            return [DialRule("+", 0, "")]
        if self.number_format == "digits":
            return [DialRule("+", 1, "")]
        home = f"+{self.country_code}"
        return [DialRule(home, len(home), self.national_prefix),
                DialRule("+", 1, self.international_prefix)]


class RtpPorts(Frozen):
    """The UDP ports the media uses: open them in the firewall."""

    start: int = Field(default=10000, ge=1024, le=65534)
    end: int = Field(default=20000, ge=1025, le=65535)

    @model_validator(mode="after")
    def _ordered(self) -> RtpPorts:
        if self.end <= self.start:
            raise ValueError("end must be above start (the range is start to end, inclusive)")
        return self


class Sip(Frozen):
    """Where SIP listens and how it is seen from outside; the operators' dialling."""

    #: The address SIP listens on; by default the one AMI uses (loopback: a trial install).
    #: A clinic taking trunk calls sets its LAN or public address, or ``0.0.0.0``.
    bind: str | None = None
    #: An existing transport of the administrator's to use instead of generating one (when
    #: their pjsip.conf already listens on the SIP port).
    transport: EngineName | None = None
    #: The public address the PBX is seen at behind NAT (SDP and Contact say it).
    external_address: str | None = None
    #: Networks that are not behind the NAT (phones on the LAN): the private ranges.
    local_nets: list[IpNetwork] = Field(default_factory=list)
    rtp_ports: RtpPorts = Field(default_factory=RtpPorts)
    #: The clinic's existing context that places outside calls; operators' phones reach it for
    #: anything that is not an operator, a clinic number or the IVR.  None: no outside calls.
    outside_context: EngineName | None = None
    #: What an operator dials to reach the IVR as a patient would (a test call).
    ivr_extension: Annotated[str, StringConstraints(pattern=r"^[0-9]{2,8}$")] = "700"

    @model_validator(mode="after")
    def _addresses(self) -> Sip:
        for name in ("bind", "external_address"):
            address = getattr(self, name)
            if address is not None and not _ADDRESS.match(address):
                raise ValueError(f"{name}: expected an IP address, got {address!r}")
        return self


class ClinicConfig(Frozen):
    """The whole clinic config (see config/clinic.example.yaml)."""

    clinic: Clinic
    numbers: list[ClinicNumber] = Field(min_length=1)
    languages: list[Language] = Field(min_length=1)
    default_language: Language
    hours: Hours
    queues: dict[Ident, Queue] = Field(min_length=1)
    operators: list[Operator] = Field(default_factory=list)
    routes: dict[Ident, Route]
    doctors: dict[Ident, Doctor] = Field(default_factory=dict)
    services: dict[Ident, Service] = Field(default_factory=dict)
    ivr: Ivr
    kpi: Kpi = Field(default_factory=Kpi)
    callbacks: Callbacks = Field(default_factory=Callbacks)
    reminders: Reminders = Field(default_factory=Reminders)
    database: Database = Field(default_factory=Database)
    engine: Engine
    recordings: Recordings = Field(default_factory=Recordings)
    complaints: Complaints = Field(default_factory=Complaints)
    http: Http = Field(default_factory=Http)
    console: Console = Field(default_factory=Console)
    sip: Sip = Field(default_factory=Sip)
    trunks: list[Trunk] = Field(default_factory=list)
    outbound: Outbound = Field(default_factory=Outbound)

    def outbound_caller_id(self) -> str:
        """The number patients see when the clinic calls them."""
        return self.outbound.caller_id or self.numbers[0].number

    def asterisk_engine(self) -> AsteriskEngine:
        """The engine settings, for what only Asterisk has (its config generator, its
        sandbox); raises EngineMismatch when the clinic runs another engine."""
        if not isinstance(self.engine, AsteriskEngine):
            raise EngineMismatch("asterisk", self.engine.type)
        return self.engine


class EngineMismatch(ValueError):
    """A command for one engine was given a config for another."""

    def __init__(self, wanted: str, configured: str) -> None:
        super().__init__(f"this needs engine type {wanted}; the config says {configured} "
                         f"(engine.type)")
