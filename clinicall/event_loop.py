"""Which event loop runs a command: uvloop when it is installed, else the standard asyncio loop.

uvloop is a dependency on Linux, and ``clinicall run`` uses it by default (``--loop auto``).
It pays where the controller spends its CPU on sockets: the FastAGI server costs less CPU per
session under it (``bench/bench_fastagi.py --loops asyncio,uvloop``), and under a local flood
of junk FastAGI connections every patient's call kept its menu, where the standard loop lost
some (``bench/bench_dtmf_sip.py``; figures in bench/README.md, docs/architecture.md).  The
project runs the same on both (nothing in it depends on a loop's or a transport's concrete
class, which tests/unit/agi/test_event_loops.py and tests/unit/test_service.py check on both):
``--loop asyncio`` runs without it, and a machine without uvloop runs on asyncio.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, cast

T = TypeVar("T")

LoopFactory = Callable[[], asyncio.AbstractEventLoop]

#: The loops ``--loop`` accepts; the first is the default (uvloop when installed, else asyncio).
LOOP_NAMES = ("auto", "asyncio", "uvloop")


class LoopUnavailable(Exception):
    """The loop asked for cannot be made here (uvloop not installed); ``hint`` says what to do."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def resolve(name: str) -> str:
    """The loop ``name`` stands for: ``auto`` is ``uvloop`` when it can be imported here, else
    ``asyncio``; the others stand for themselves."""
    if name != "auto":
        return name
    try:
        importlib.import_module("uvloop")
    except ImportError:
        return "asyncio"
    return "uvloop"


def loop_factory(name: str) -> LoopFactory:
    """The function that makes a new loop of kind ``name`` (one of :data:`LOOP_NAMES`)."""
    name = resolve(name)
    if name == "asyncio":
        return asyncio.new_event_loop
    if name == "uvloop":
        try:
            uvloop = importlib.import_module("uvloop")
        except ImportError:
            raise LoopUnavailable(
                "--loop uvloop: uvloop is not installed",
                "install it (pip install uvloop), or run with --loop asyncio",
            ) from None
        return cast(LoopFactory, uvloop.new_event_loop)
    raise ValueError(f"unknown event loop {name!r}; one of {', '.join(LOOP_NAMES)}")


def run(main: Coroutine[Any, Any, T], *, loop: str = LOOP_NAMES[0]) -> T:
    """``asyncio.run(main)`` on a loop of kind ``loop``."""
    try:
        factory = loop_factory(loop)
    except BaseException:
        main.close()  # never awaited: close it so it is not reported as such
        raise
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)
