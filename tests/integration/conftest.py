"""Integration fixtures.

Sandbox part: a real Asterisk 22 from the cached Debian root. When it cannot run here the
fixtures FAIL with the reason and the next step, because a silently skipped real-engine suite
proves nothing; ``CLINICALL_SKIP_ASTERISK=1`` turns that into a skip on purpose.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from clinicall.sandbox.asterisk import AsteriskSandbox
from clinicall.sandbox.errors import SandboxUnavailable
from clinicall.sandbox.ports import EnginePorts
from clinicall.sandbox.rootfs import ensure_root

SKIP_ENV = "CLINICALL_SKIP_ASTERISK"

ConfFactory = Callable[[EnginePorts], Mapping[str, str]]
SandboxFactory = Callable[..., AsteriskSandbox]
"""``make(conf, *, name='test', keep_run_dir=False)``."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use the real Asterisk carry the ``asterisk`` marker (``-m 'not asterisk'``)."""
    for item in items:
        if "asterisk_root" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.asterisk)


@pytest.fixture(scope="session")
def asterisk_root() -> Path:
    """The cached Debian root with Asterisk 22, built on first use (1-2 min, then ~0 s)."""
    try:
        return ensure_root(progress=lambda line: print(line, flush=True))
    except SandboxUnavailable as exc:
        if os.environ.get(SKIP_ENV) == "1":
            pytest.skip(f"{SKIP_ENV}=1 and the Asterisk sandbox is unavailable: {exc}")
        pytest.fail(f"The real-Asterisk sandbox cannot run here: {exc}", pytrace=False)


@pytest.fixture
def make_asterisk(asterisk_root: Path) -> SandboxFactory:
    """Build an (unstarted) sandbox from a config factory given fresh loopback ports.

    async with make_asterisk(lambda ports: {...}, name="queues") as ast:
        ...  # ast.ami_port, ast.sip_port, ast.agi_port
    """

    def make(
        conf: ConfFactory, *, name: str = "test", keep_run_dir: bool = False
    ) -> AsteriskSandbox:
        ports = EnginePorts.pick()
        return AsteriskSandbox(
            asterisk_root,
            conf(ports),
            name=name,
            ami_port=ports.ami,
            sip_port=ports.sip,
            agi_port=ports.agi,
            keep_run_dir=keep_run_dir,
        )

    return make
