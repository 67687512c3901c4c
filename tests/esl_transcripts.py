"""The recorded Event Socket transcripts of a real FreeSWITCH 1.10.12 (``tests/data/freeswitch``,
byte-exact; their README says what each one is), read back as bytes.

Each line is one ``recv()`` (``dir`` in: FreeSWITCH to the client) or one ``sendall()`` (out),
latin-1 decoded.  Shared by the parser tests, the fake Event Socket peers, the normalizer tests,
the property tests and the parse benchmark.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).parent / "data" / "freeswitch"
NAMES = tuple(sorted(p.name.removesuffix(".esl.jsonl") for p in DATA.glob("*.esl.jsonl")))


@dataclass(frozen=True, slots=True)
class Row:
    t: float
    inbound: bool  # True: FreeSWITCH wrote it; False: the client did
    data: bytes


@cache
def rows(name: str) -> tuple[Row, ...]:
    lines = (DATA / f"{name}.esl.jsonl").read_text(encoding="ascii").splitlines()
    out = []
    for line in lines:
        row = json.loads(line)
        out.append(Row(row["t"], row["dir"] == "in", row["data"].encode("latin-1")))
    return tuple(out)


def reads(name: str) -> list[bytes]:
    """What FreeSWITCH sent, cut as the recorder's reads cut it."""
    return [r.data for r in rows(name) if r.inbound]


def server_bytes(name: str) -> bytes:
    return b"".join(reads(name))


def writes(name: str) -> list[bytes]:
    """What the recording client sent, one ``sendall`` each."""
    return [r.data for r in rows(name) if not r.inbound]
