"""The decoders never raise on bad input: 10,000 seeded random mutations of the fixture's AMI
frames (and of queue_log lines), each frame accounted for exactly once in the stats."""

from __future__ import annotations

import random

from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami_facts import AmiFactDecoder
from clinicall.controller.asterisk.queue_log import QueueLogError, parse_line
from clinicall.controller.asterisk.record_facts import decode_record
from clinicall.controller.facts import FACT_TYPES

from .ami_frames import fixture_frames

SEED = 20261204
ROUNDS = 10_000
#: Values that have broken header readers before: empty, Asterisk's "<unknown>", signs,
#: fractions, non-ASCII digits, huge numbers, separators, Cyrillic, control characters.
NASTY = (
    "", "<unknown>", "-1", "+3", "1.5", "1e9", "٣", "²", "9" * 30, "9" * 5000, " 16 ", "1_000",
    "|", "\\", "\\?", "обід", "\x00", "TIMEOUT", "caller", "nan", "99999999999999.1",
    "/var/spool/asterisk/monitor/2024/11/23/1732350000.41.ogg", "2024/13/40/x.ogg",
)  # fmt: skip
EVENT_NAMES = (
    "Hangup", "HANGUP", "VarSet", "AgentComplete", "QueueCallerAbandon", "FullyBooted",
    "ClinicallAMIStatus", "QueueMemberRemoved", "",
)  # fmt: skip


def mutate(message: Message, rng: random.Random) -> Message:
    headers = list(message.headers)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(6)
        if op == 0 and headers:  # drop a header
            headers.pop(rng.randrange(len(headers)))
        elif op == 1 and headers:  # a nasty value
            index = rng.randrange(len(headers))
            headers[index] = (headers[index][0], rng.choice(NASTY))
        elif op == 2 and headers:  # random printable garbage
            index = rng.randrange(len(headers))
            garbage = "".join(chr(rng.randrange(32, 0x500)) for _ in range(rng.randrange(12)))
            headers[index] = (headers[index][0], garbage)
        elif op == 3 and len(headers) > 1:  # swap two values
            a, b = rng.sample(range(len(headers)), 2)
            headers[a], headers[b] = (headers[a][0], headers[b][1]), (headers[b][0], headers[a][1])
        elif op == 4:  # another event name
            headers = [(n, v) for n, v in headers if n.lower() != "event"]
            headers.insert(0, ("Event", rng.choice(EVENT_NAMES)))
        elif op == 5 and headers:  # a duplicated header (the first one read wins)
            headers.insert(0, rng.choice(headers))
    return Message(headers)


def test_ami_decoder_survives_mutated_frames() -> None:
    rng = random.Random(SEED)
    frames = fixture_frames()
    decoder = AmiFactDecoder(max_channels=50)
    for _ in range(ROUNDS):
        facts = decoder.decode(mutate(rng.choice(frames), rng))
        assert all(isinstance(f, FACT_TYPES) for f in facts)
    stats = decoder.stats
    assert stats.decoded + sum(stats.ignored.values()) + sum(stats.malformed.values()) == ROUNDS
    # the mutations reached every outcome, or the test proves little
    assert stats.decoded > 1000
    assert sum(stats.malformed.values()) > 1000
    assert sum(stats.ignored.values()) > 100
    assert len(decoder.channels) <= 50


QUEUE_LOG_LINES = (
    "1732350000|1.41|therapy|NONE|CLINICALL|1.40|queue|uk|therapy|main:1|380501234567|0441",
    "1732350000|1.41|therapy|NONE|ENTERQUEUE||380501234567|1",
    "1732350015|1.41|therapy|Оператор 2|RINGNOANSWER|15000",
    "1732350021|1.41|therapy|Оператор 1|CONNECT|21|1.43|3",
    "1732350116|1.41|therapy|Оператор 1|COMPLETEAGENT|21|95|1",
    "1732350116|1.41|therapy|Оператор 1|ATTENDEDTRANSFER|BRIDGE|x|21|95|1",
    "1732350116|1.50|therapy|NONE|EXITWITHKEY|5|1|1|7",
    "1732350116|NONE|therapy|Оператор 1|PAUSEALL|обід",
)


def test_record_decoder_survives_mutated_lines() -> None:
    rng = random.Random(SEED)
    decoded = 0
    for _ in range(ROUNDS):
        fields = rng.choice(QUEUE_LOG_LINES).split("|")
        for _ in range(rng.randint(1, 3)):
            index = rng.randrange(len(fields))
            fields[index] = rng.choice((*NASTY[:-3], "NONE", "1"))
        try:
            record = parse_line("|".join(fields).encode())
        except QueueLogError:
            continue
        facts = decode_record(record)
        assert all(isinstance(f, FACT_TYPES) for f in facts)
        decoded += bool(facts)
    assert decoded > 1000
