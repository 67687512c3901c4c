"""``CallPort`` over a FastAGI channel: the IVR's verbs as AGI commands.

Asterisk does the audio: prompts are played with ``STREAM FILE`` (escape digits give
barge-in), digits collected with ``GET DATA``, the queue is entered by the dialplan after
``AGI()`` returns, from the CLINICALL_* variables :meth:`AsteriskCallPort.enqueue` sets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime

from clinicall.agi_scripts import variables as v
from clinicall.agi_scripts.channel import AgiCommands
from clinicall.agi_scripts.protocol import AgiChannelGone, AgiCommandError, AgiEnvironment
from clinicall.calltypes import (
    AnsweredCall,
    CallbackLeg,
    CallInfo,
    QueuedCall,
    QueueRequest,
)
from clinicall.ivr.port import PortError, Recorded

# A sound that plays (almost) nothing: GET DATA needs a file when the caller already started
# typing during an earlier prompt.  Part of Asterisk's core sounds.
SILENCE_PROMPT = "silence/1"

# Deadlines for commands that play audio or wait for the caller (the channel's default is for
# commands Asterisk answers at once).  Prompt lengths are not known here, so one bound covers
# the longest prompt a menu plays; GET DATA adds its own digit timeout and a margin.
PROMPT_DEADLINE_S = 120.0
DEADLINE_MARGIN_S = 5.0
#: Asterisk's spool as the PBX sees it: ``astspooldir`` from asterisk.conf, asked once per
#: recording session (AGI's RECORD FILE puts a relative name under the *sounds* dir, so the
#: path must be absolute), else Asterisk's built-in default.  MixMonitor's relative names land
#: in its ``monitor/`` (docs/recordings.md), and so do the voice messages.
SPOOL_DIR_QUERY = "${AST_CONFIG(asterisk.conf,directories,astspooldir)}"
DEFAULT_SPOOL_DIR = "/var/spool/asterisk"
#: RECORD FILE counts ``endpos`` in samples of the recording's format (8 kHz for telephony).
RECORD_RATE = 8000
#: RECORD FILE's ``result=-1`` reasons that are not a hang-up (res_agi: the file could not be
#: opened or the stream not seeked).
WRITE_FAILURES = frozenset({"writefile", "seekfail"})
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,200}")

_LINKEDID = re.compile(r"(?:[\w-]+-)?\d+\.\d+")  # "1712345678.42", or "<systemname>-1712...42"

#: Values ``MSet`` takes as they are.  Its argument splitter reads commas, quotes,
#: backslashes, brackets and parentheses, and it skips a pair with an empty value: any other
#: value gets its own ``SET VARIABLE`` (docs/engines/asterisk.md, "Setting variables").
_MSET_PLAIN = re.compile(r"[A-Za-z0-9_:/.+@-]+")


def linkedid_from_env(env: AgiEnvironment) -> str | None:
    """The call's linkedid if the environment carries it (agi_linkedid or the first arg)."""
    candidate = env.get("linkedid") or (env.args[0] if env.args else "")
    seconds, dot, sequence = candidate.partition(".")
    if dot and seconds.isdecimal() and sequence.isdecimal():  # what _LINKEDID reads too
        return candidate  # "1712345678.42", what the dialplan passes: without the regex
    return candidate if _LINKEDID.fullmatch(candidate) else None


def answered_from_env(env: AgiEnvironment) -> AnsweredCall | None:
    """The answered call a ``survey`` session is about, from its arguments
    (:data:`variables.SURVEY_AGI_ARGS`); None for any other script."""
    if env.network_script != v.SURVEY_SCRIPT:
        return None
    language, queue, operator, route = (list(env.args[1:5]) + [""] * 4)[:4]
    return AnsweredCall(language=language, queue=queue, operator=operator, route=route)


def reminder_from_env(env: AgiEnvironment) -> str | None:
    """The appointment a ``reminder`` session is about (:data:`variables.REMINDER_AGI_ARGS`);
    None for any other script, or when the id is missing."""
    if env.network_script != v.REMINDER_SCRIPT:
        return None
    appointment = env.args[1] if len(env.args) > 1 else ""
    return appointment if appointment.isdigit() else None


def callback_from_env(env: AgiEnvironment) -> CallbackLeg | None:
    """The callback leg a ``callback`` session is (``<linkedid>,<job>,<side>``); None for any
    other script, or when the job or side is not one."""
    if env.network_script != v.CALLBACK_SCRIPT:
        return None
    job, side = (list(env.args[1:3]) + [""] * 2)[:2]
    return CallbackLeg.named(job, side)


def queued_from_env(env: AgiEnvironment) -> QueuedCall | None:
    """The queue place an ``offer`` session is about (:data:`variables.OFFER_AGI_ARGS`); None
    for any other script.  A join instant that is missing or not a number is None: the offer
    then has no place to keep and is not made (the caller goes back to the queue)."""
    if env.network_script != v.OFFER_SCRIPT:
        return None
    language, queue, priority, queued_at = (list(env.args[1:5]) + [""] * 4)[:4]
    try:
        joined: datetime | None = datetime.fromtimestamp(float(queued_at), UTC)
    except (ValueError, OverflowError, OSError):  # "", "nan", "inf", out of range
        joined = None
    return QueuedCall(language=language, queue=queue,
                      priority=int(priority) if priority.isdigit() else 0, queued_at=joined)


#: One command that sets variables: ``("SET VARIABLE", name, value)`` or
#: ``("EXEC", "MSet", "name=value,name=value")``.
VariableCommand = tuple[str, str, str]


def variable_commands(
    pairs: list[tuple[str, str]], *, plain_last: bool = False
) -> Iterator[VariableCommand]:
    """The commands :meth:`AsteriskCallPort.set_variables` sends for ``pairs``, in order."""
    values = [value for _, value in pairs]
    if all(values) and _MSET_PLAIN.fullmatch("".join(values)):
        yield from _mset(pairs)  # every value plain: one check, not one per value
        return
    if plain_last:
        plain: list[tuple[str, str]] = []
        for name, value in pairs:
            if _MSET_PLAIN.fullmatch(value):
                plain.append((name, value))
            else:
                yield "SET VARIABLE", name, value
        yield from _mset(plain)
        return
    run: list[tuple[str, str]] = []
    for name, value in pairs:
        if _MSET_PLAIN.fullmatch(value):
            run.append((name, value))
            continue
        yield from _mset(run)
        run = []
        yield "SET VARIABLE", name, value
    yield from _mset(run)


def _mset(pairs: list[tuple[str, str]]) -> Iterator[VariableCommand]:
    """A run of plain values: one ``EXEC MSet`` (a single one: ``SET VARIABLE``)."""
    if len(pairs) == 1:
        yield "SET VARIABLE", *pairs[0]
    elif pairs:
        yield "EXEC", "MSet", ",".join(map("=".join, pairs))  # name=value,name=value


def queue_variables(request: QueueRequest) -> list[tuple[str, str]]:
    """The CLINICALL_* variables :meth:`AsteriskCallPort.enqueue` sets, in order."""
    return [
        (v.CLINICALL_QUEUE, request.queue),
        (v.CLINICALL_PRIORITY, str(request.priority)),
        (v.QUEUE_PRIO, str(request.priority)),
        (v.CLINICALL_MAX_WAIT, str(request.max_wait_s)),
        (v.CLINICALL_OVERFLOW, request.overflow_queue or ""),
        (v.CLINICALL_LANG, request.language),
        (v.CLINICALL_PATH, request.path),
        (v.CLINICALL_ROUTE, request.route),
        (v.CLINICALL_OUTCOME, v.OUTCOME_QUEUE),
        *([(v.CLINICALL_SURVEY, "1")] if request.survey else []),
    ]


#: The commands of a queue request already worked out, by request: a clinic's calls end in
#: the same few requests (a route, a language, a menu path), and building the variables, the
#: plain-value check and the ``MSet`` text was 2.4 µs of every patient's call (its command
#: line then comes from protocol's memo, the text's hash kept).  A request and its commands
#: are immutable (frozen dataclass, tuples of text).  Bounded: emptied when
#: QUEUE_COMMANDS_MEMO_SIZE are kept; the event loop's thread only.
_QUEUE_COMMANDS: dict[QueueRequest, tuple[VariableCommand, ...]] = {}
QUEUE_COMMANDS_MEMO_SIZE = 256


def _presented(value: str) -> str:
    return "" if value in ("", "unknown") else value


class AsteriskCallPort:
    """Implements ``ivr.port.CallPort`` for one FastAGI session.

    Build it with ``await AsteriskCallPort.open(channel)``: that reads the linkedid from the
    environment or, when the dialplan did not pass it, asks Asterisk once.  Every method
    raises ``CallerHungUp`` when the caller is gone and ``PortError`` when Asterisk refuses.
    """

    def __init__(
        self,
        channel: AgiCommands,
        *,
        linkedid: str | None = None,
        prompt_deadline_s: float = PROMPT_DEADLINE_S,
        monitor_dir: str | None = None,
    ) -> None:
        env = channel.env
        self._channel = channel
        self._monitor_dir = monitor_dir.rstrip("/") if monitor_dir else None
        self._prompt_deadline_s = prompt_deadline_s
        # The pairs themselves, not the named fields (a property call each), once a call.
        get = env.raw.get
        uniqueid = get("uniqueid", "")
        info = CallInfo(
            call_id=linkedid or linkedid_from_env(env) or uniqueid,
            channel_id=uniqueid,
            caller_number=_presented(get("callerid", "")),
            caller_name=_presented(get("calleridname", "")),
            dialled_number=_presented(get("dnid", "")) or get("extension", ""),
            engine="asterisk",
        )
        if get("network_script", "") != v.IVR_SCRIPT:  # a patient's call has none of the below
            info = replace(
                info,
                answered=answered_from_env(env),
                reminder=reminder_from_env(env),
                queued=queued_from_env(env),
                callback=callback_from_env(env),
            )
        self._info = info

    @classmethod
    async def open(cls, channel: AgiCommands) -> AsteriskCallPort:
        linkedid = linkedid_from_env(channel.env)
        if linkedid is None:
            reply = await channel.command("GET VARIABLE", v.CHANNEL_LINKEDID)
            linkedid = reply.data if reply.result == "1" and reply.data else None
        return cls(channel, linkedid=linkedid)

    @property
    def info(self) -> CallInfo:
        return self._info

    async def answer(self) -> None:
        await self._channel.command("ANSWER", minus_one_is_hangup=True)

    async def set_language(self, language: str) -> None:
        await self._channel.command("SET VARIABLE", v.CHANNEL_LANGUAGE, language)

    async def play(self, prompts: list[str], *, digits: str = "") -> str:
        """Each prompt by STREAM FILE under the prompts' deadline, until a key stops one."""
        for prompt in prompts:
            reply = await self._channel.command(
                "STREAM FILE",
                prompt,
                digits,
                minus_one_is_hangup=True,
                deadline_s=self._prompt_deadline_s,
            )
            if reply.result != "0" and (key := _key(reply.result_int)):  # "0": no key
                return key
        return ""

    async def collect(
        self, prompts: list[str], *, digits: str, max_digits: int, timeout_s: float
    ) -> str:
        """Earlier prompts by STREAM FILE (a key stops them), the last one by GET DATA.

        A key pressed during an earlier prompt counts as the first digit: the remaining
        digits are read after a silent prompt, so barge-in works across the whole menu.
        """
        first = await self.play(prompts[:-1], digits=digits) if len(prompts) > 1 else ""
        if first == "#":  # '#' ends input in GET DATA too
            return ""
        if first and max_digits <= 1:
            return first
        reply = await self._channel.command(
            "GET DATA",
            SILENCE_PROMPT if first or not prompts else prompts[-1],
            str(max(1, round(timeout_s * 1000))),  # as text: the line is then remembered
            str(max_digits - len(first)),  # (protocol.ENCODED_LINES)
            minus_one_is_hangup=True,
            deadline_s=self._prompt_deadline_s + timeout_s + DEADLINE_MARGIN_S,
        )
        return first + reply.result  # the digits; '(timeout)' in data only says input stopped

    async def say_number(self, number: int, *, digits: str = "") -> str:
        return await self._played("SAY NUMBER", number, digits)

    async def set_variable(self, name: str, value: str) -> None:
        await self._channel.command("SET VARIABLE", name, value)

    async def set_variables(
        self, pairs: list[tuple[str, str]], *, plain_last: bool = False
    ) -> None:
        """Set several variables, in order, in as few round trips as Asterisk allows: each
        run of plain values in one ``EXEC MSet``, any other value by ``SET VARIABLE``.

        ``plain_last``: the order matters only among the plain values; the others (an empty
        one, say) are set first, then all the plain ones in one ``MSet``, in their order.
        """
        await self._set(variable_commands(pairs, plain_last=plain_last))

    async def _set(self, commands: Iterable[VariableCommand]) -> None:
        """Send ``commands`` (:func:`variable_commands`) one after the other."""
        for command, first, second in commands:
            if command == "SET VARIABLE":
                await self._channel.command(command, first, second)
                continue
            reply = await self._channel.command(command, first, second, minus_one_is_hangup=True)
            if reply.result == "-2":  # res_agi: no such application
                raise AgiCommandError(reply.code, "EXEC: no application MSet")

    async def enqueue(self, request: QueueRequest) -> None:
        """Set the CLINICALL_* variables; the dialplan after AGI() runs Queue() with them.

        Two round trips at most: a value ``MSet`` cannot take (the empty overflow of a route
        without one) first, then the rest in one ``MSet``, CLINICALL_OUTCOME still after the
        queue's (the dialplan reads them only after ``AGI()`` returns).  The commands of a
        request are worked out once (:data:`_QUEUE_COMMANDS`).
        """
        # Exact ints only: True equals 1 (and hashes alike) but its text is "True".
        memo = type(request.priority) is int and type(request.max_wait_s) is int
        commands = _QUEUE_COMMANDS.get(request) if memo else None
        if commands is None:
            commands = tuple(variable_commands(queue_variables(request), plain_last=True))
            if memo:
                if len(_QUEUE_COMMANDS) >= QUEUE_COMMANDS_MEMO_SIZE:
                    _QUEUE_COMMANDS.clear()
                _QUEUE_COMMANDS[request] = commands
        await self._set(commands)

    async def hangup(self) -> None:
        await self._channel.command("HANGUP")

    async def record(self, name: str, *, fmt: str, max_s: float, silence_s: float,
                     finish_keys: str, beep: bool = True) -> Recorded:
        """AGI ``RECORD FILE <monitor dir>/<name> <fmt> <keys> <ms> [BEEP] s=<silence>``:
        the reply's result is the key's code (0: time limit or silence), ``endpos`` the
        samples written."""
        if not _SAFE_NAME.fullmatch(name) or ".." in name.split("/"):
            raise ValueError(f"not a recording name: {name!r}")
        if self._monitor_dir is None:
            reply = await self._channel.command("GET FULL VARIABLE", SPOOL_DIR_QUERY)
            spool = reply.data if reply.result == "1" and reply.data else DEFAULT_SPOOL_DIR
            self._monitor_dir = spool.rstrip("/") + "/monitor"
        args: list[str | int] = [f"{self._monitor_dir}/{name}", fmt, finish_keys,
                                 round(max_s * 1000)]
        if beep:
            args.append("BEEP")
        args.append(f"s={max(1, round(silence_s))}")
        reply = await self._channel.command("RECORD FILE", *args,
                                            deadline_s=max_s + DEADLINE_MARGIN_S)
        if reply.result == "-1" and reply.data in WRITE_FAILURES:
            raise PortError(f"RECORD FILE could not write the message ({reply.data})")
        if reply.result_int < 0:
            raise AgiChannelGone("RECORD FILE result=-1: channel hung up")
        samples = int(reply.extras.get("endpos", "0") or 0)
        return Recorded(_key(reply.result_int), samples / RECORD_RATE)

    async def _played(self, verb: str, what: str | int, digits: str) -> str:
        """A command that plays something the caller may interrupt with one of ``digits``:
        the key pressed ('' if none), under the prompts' deadline."""
        reply = await self._channel.command(
            verb,
            what,
            digits,
            minus_one_is_hangup=True,
            deadline_s=self._prompt_deadline_s,
        )
        return _key(reply.result_int)


def _key(result: int) -> str:
    """STREAM FILE / SAY NUMBER result: 0 = no key, else the key's ASCII code."""
    return chr(result) if result > 0 else ""
