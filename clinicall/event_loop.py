"""Which event loop runs a command: the standard asyncio loop, or uvloop when it is installed.

uvloop is an optional extra (``pip install 'clinicall[uvloop]'``), chosen with ``clinicall run
--loop uvloop``.  It pays where the controller spends its CPU on sockets: the FastAGI server
costs less CPU per session under it (measured beside the standard loop in the same run,
``bench/bench_fastagi.py --loops asyncio,uvloop``, figures in bench/README.md).  The standard
loop stays the default: the project runs the same on both (nothing in it depends on a loop's
or a transport's concrete class, which tests/unit/agi/test_event_loops.py checks on both), and
a deployment without the extra loses nothing but that saving.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, cast

T = TypeVar("T")

LoopFactory = Callable[[], asyncio.AbstractEventLoop]

#: The loops ``--loop`` accepts; the first is the default.
LOOP_NAMES = ("asyncio", "uvloop")


class LoopUnavailable(Exception):
    """The loop asked for cannot be made here (uvloop not installed); ``hint`` says what to do."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.hint = hint


def loop_factory(name: str) -> LoopFactory:
    """The function that makes a new loop of kind ``name`` (one of :data:`LOOP_NAMES`)."""
    if name == "asyncio":
        return asyncio.new_event_loop
    if name == "uvloop":
        try:
            uvloop = importlib.import_module("uvloop")
        except ImportError:
            raise LoopUnavailable(
                "--loop uvloop: uvloop is not installed",
                "install the extra (pip install 'clinicall[uvloop]'), or run with --loop asyncio",
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
