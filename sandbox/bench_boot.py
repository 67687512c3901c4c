"""Figures for the sandbox: cached root look-up, and Asterisk boot time per modules.conf.

    python -m sandbox.bench_boot [runs]

Boot is measured from spawning Asterisk to ``core waitfullybooted`` answering, for the stock
``autoload`` (nothing excluded), the sandbox default (autoload minus hardware/database
modules) and an explicit minimal list of what clinicall uses, side by side.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

from clinicall.sandbox.asterisk import AsteriskSandbox
from clinicall.sandbox.modules import default_modules_conf, minimal_modules_conf
from clinicall.sandbox.ports import EnginePorts
from clinicall.sandbox.rootfs import ensure_root

CLINICALL_MODULES = (
    "pbx_config",
    "res_agi",
    "app_queue",
    "app_mixmonitor",
    "app_dial",
    "app_playback",
    "app_read",
    "app_senddtmf",
    "app_stack",
    "app_verbose",
    "app_system",
    "app_exec",
    "func_channel",
    "func_callerid",
    "func_strings",
    "func_logic",
    "func_global",
    "func_cut",
    "chan_pjsip",
    "res_pjsip",
    "res_pjsip_session",
    "res_pjsip_sdp_rtp",
    "res_pjsip_dtmf_info",
    "res_pjsip_endpoint_identifier_ip",
    "res_pjsip_endpoint_identifier_user",
    "res_pjsip_authenticator_digest",
    "res_pjsip_registrar",
    "res_rtp_asterisk",
    "res_timing_timerfd",
    "res_musiconhold",
    "bridge_simple",
    "bridge_native_rtp",
    "bridge_softmix",
    "codec_ulaw",
    "codec_alaw",
    "codec_gsm",
    "codec_resample",
    "codec_opus_open_source",
    "format_gsm",
    "format_wav",
    "format_pcm",
    "format_sln",
    "format_ogg_vorbis",
    "format_ogg_opus_open_source",
    "cdr_manager",
    "cel_manager",
)
PROFILES = {
    "stock autoload": "[modules]\nautoload = yes\n",
    "sandbox default (autoload - noload)": default_modules_conf(),
    "minimal (clinicall's modules)": minimal_modules_conf(CLINICALL_MODULES),
}


def _conf(ports: EnginePorts, modules: str) -> dict[str, str]:
    manager = f"[general]\nenabled = yes\nport = {ports.ami}\nbindaddr = 127.0.0.1\n"
    return {"modules.conf": modules, "manager.conf": manager, "queues.conf": "[general]\n"}


async def _boot_once(root: Path, modules: str) -> tuple[float, int]:
    ports = EnginePorts.pick()
    async with AsteriskSandbox(
        root, _conf(ports, modules), name="bench", ami_port=ports.ami
    ) as ast:
        assert ast.boot_seconds is not None
        loaded = (await ast.rx("module show like .")).strip().splitlines()[-1]
        return ast.boot_seconds, int(loaded.split()[0])


async def main(runs: int) -> None:
    started = time.perf_counter()
    root = ensure_root()
    print(f"ensure_root (cached): {1000 * (time.perf_counter() - started):.1f} ms")
    for name, modules in PROFILES.items():
        results = [await _boot_once(root, modules) for _ in range(runs)]
        boots = [b for b, _ in results]
        print(
            f"{name:38s} modules={results[0][1]:4d}  boot median {statistics.median(boots):.3f} s"
            f"  min {min(boots):.3f}  max {max(boots):.3f}  (n={runs})"
        )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5))
