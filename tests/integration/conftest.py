"""Integration fixtures.

Sandbox part: a real Asterisk 22 from the cached Debian root, and a real FreeSWITCH 1.10.12
from its cached build. When one cannot run here the fixtures FAIL with the reason and the next
step, because a silently skipped real-engine suite proves nothing; ``CLINICALL_SKIP_ASTERISK=1``
(``CLINICALL_SKIP_FREESWITCH=1``) turns that into a skip on purpose.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from pathlib import Path

import pytest
import pytest_asyncio

from clinicall.app import Running, running
from clinicall.freeswitch_config import render_freeswitch_config
from clinicall.sandbox.asterisk import AsteriskSandbox
from clinicall.sandbox.errors import SandboxUnavailable
from clinicall.sandbox.freeswitch import FreeswitchSandbox
from clinicall.sandbox.freeswitch_build import find_built
from clinicall.sandbox.freeswitch_conf import ConfInclude
from clinicall.sandbox.ports import EnginePorts, free_ports, free_tcp_udp_port
from clinicall.sandbox.rootfs import ensure_root
from clinicall.settings import ClinicConfig, load_config
from clinicall.settings.models import FreeswitchEngine
from clinicall.simclinic.clinic import SimulatedClinic

from .freeswitch_common import FREESWITCH_EXAMPLE, FreeswitchFactory

SKIP_ENV = "CLINICALL_SKIP_ASTERISK"

ConfFactory = Callable[[EnginePorts], Mapping[str, str]]
SandboxFactory = Callable[..., AsteriskSandbox]
"""``make(conf, *, name='test', keep_run_dir=False)``."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that use a real engine carry its marker (``-m 'not asterisk and not freeswitch'``)."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "asterisk_root" in fixtures:
            item.add_marker(pytest.mark.asterisk)
        if "freeswitch_prefix" in fixtures:
            item.add_marker(pytest.mark.freeswitch)


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


# -- FreeSWITCH ------------------------------------------------------------------------------

SKIP_FREESWITCH_ENV = "CLINICALL_SKIP_FREESWITCH"
"""``make(config=None, *, name='test', extra_files={}, extra_includes=(), keep_run_dir=False)
-> (sandbox, config)``."""


@pytest.fixture(scope="session")
def freeswitch_prefix() -> Path:
    """The cached FreeSWITCH 1.10.12 build.  scripts/setup builds it (~5 min once, longer than
    a test's time limit), so here it is only found, never built."""
    try:
        prefix = find_built()
    except SandboxUnavailable as exc:  # a source tarball with the wrong SHA-256
        prefix, reason = None, str(exc)
    else:
        reason = "FreeSWITCH is not built: run scripts/setup (it builds it once, ~5 min)"
    if prefix is not None:
        return prefix
    if os.environ.get(SKIP_FREESWITCH_ENV) == "1":
        pytest.skip(f"{SKIP_FREESWITCH_ENV}=1 and the FreeSWITCH sandbox is unavailable: "
                    f"{reason}")
    pytest.fail(f"The real-FreeSWITCH sandbox cannot run here: {reason}", pytrace=False)


@pytest.fixture
def make_freeswitch(freeswitch_prefix: Path) -> FreeswitchFactory:
    """An (unstarted) FreeSWITCH loaded with the files ``clinicall freeswitch-config``
    generates for ``config`` (default: the FreeSWITCH example clinic), on fresh loopback
    ports, and the config as the controller must use it (ports and ESL password set).
    ``extra_files``/``extra_includes``: test-only config beside the generated one (a simulated
    operator's context, say), included the same way:

        fs, config = make_freeswitch()
        async with fs:  # fs.esl_port, fs.esl_password, fs.outbound_port, fs.sip_port
            ...
    """

    def make(config: ClinicConfig | None = None, *, name: str = "test",
             extra_files: Mapping[str, str] | None = None,
             extra_includes: Sequence[ConfInclude] = (),
             keep_run_dir: bool = False) -> tuple[FreeswitchSandbox, ClinicConfig]:
        base = config or load_config(FREESWITCH_EXAMPLE)
        esl_port, outbound_port = free_ports(2)
        sip_port = free_tcp_udp_port()
        engine = base.engine.model_copy(update={
            "esl_host": "127.0.0.1", "esl_port": esl_port, "esl_password": secrets.token_hex(12),
            "outbound_host": "127.0.0.1", "outbound_port": outbound_port, "sip_port": sip_port})
        assert isinstance(engine, FreeswitchEngine), "make_freeswitch needs a FreeSWITCH clinic"
        clinic = base.model_copy(update={"engine": engine})
        generated = render_freeswitch_config(clinic)
        sandbox = FreeswitchSandbox(
            freeswitch_prefix, {**generated.files, **(extra_files or {})},
            [*generated.includes, *extra_includes], name=name,
            esl_port=esl_port, esl_password=engine.esl_password, sip_port=sip_port,
            outbound_port=outbound_port, keep_run_dir=keep_run_dir)
        return sandbox, clinic

    return make


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def app(clinic: SimulatedClinic, tmp_path_factory: pytest.TempPathFactory,
              request: pytest.FixtureRequest) -> AsyncIterator[Running]:  # fmt: skip
    """The controller (store, engine link, account, IVR, and the clinic's callback scheduler
    when callbacks are on) on the module's simulated clinic (its ``clinic`` fixture), with a
    store of its own.  A module whose tests drive their own scheduler round by round sets
    ``OWN_SCHEDULER = True``: the clinic's is closed."""
    db = tmp_path_factory.mktemp(request.module.__name__.rpartition(".")[2]) / "clinicall.db"
    async with running(clinic.config, db_url=f"sqlite+aiosqlite:///{db}",
                       queue_log=clinic.asterisk.queue_log_path) as parts:
        await parts.engine.wait_up(10)
        if getattr(request.module, "OWN_SCHEDULER", False):
            assert parts.callbacks is not None
            await parts.callbacks.close()
        yield parts
