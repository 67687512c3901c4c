"""The demo on the sandbox FreeSWITCH (``clinicall demo --engine freeswitch``): the same
patients through the same controller and the same steps as on Asterisk (``DemoShow``): each
call's fate as FreeSWITCH reported it over its Event Socket, the survey, the callback
(operator first), the recordings imported from FreeSWITCH's recordings directory, the
complaint case, the KPIs and the console."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path

from clinicall.app import running
from clinicall.demo import (
    DEMO_DB,
    DEMO_RECORDINGS,
    DemoRun,
    DemoShow,
    Print,
    demo_config,
    demo_configs,
    fresh_start,
)
from clinicall.settings.models import ClinicConfig
from clinicall.simclinic.freeswitch import FreeswitchClinic


async def run_freeswitch_demo(config: ClinicConfig, *, now: Callable[[], datetime],
                              out: Print = print, stagger_s: float = 2.0,
                              db_url: str = DEMO_DB, recordings_dir: Path = DEMO_RECORDINGS,
                              web_port: int | None = None, keep_serving: bool = False,
                              while_serving: Callable[[str], Awaitable[None]] | None = None,
                              ) -> DemoRun:  # fmt: skip
    """The demo on the sandbox FreeSWITCH (built once by scripts/setup); the arguments are
    ``run_demo``'s."""
    from clinicall.sandbox.errors import SandboxUnavailable
    from clinicall.sandbox.freeswitch_build import find_built

    prefix = await asyncio.to_thread(find_built)
    if prefix is None:
        raise SandboxUnavailable("FreeSWITCH is not built here: scripts/setup builds it once "
                                 "(about 5 minutes)")  # fmt: skip
    await asyncio.to_thread(fresh_start, db_url, recordings_dir)  # this run's store only
    config = demo_config(config)
    out(f"demo: starting FreeSWITCH from {prefix}")
    async with FreeswitchClinic.run(config, prefix=prefix, name="demo",
                                    progress=lambda line: out(f"demo: {line}")) as clinic:
        full, plain = demo_configs(clinic.config, clinic.recordings_spool, recordings_dir)
        async with running(plain, db_url=db_url, now=now) as parts:
            show = DemoShow(full, now, out, stagger_s, web_port, keep_serving, while_serving)
            return await show.run(clinic, parts)
