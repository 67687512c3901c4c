"""What the real-FreeSWITCH tests share: the example clinic on FreeSWITCH, the shape of the
``make_freeswitch`` fixture, and the clinic number that fixes the language (no language menu)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from clinicall.sandbox.freeswitch import FreeswitchSandbox
from clinicall.settings import ClinicConfig

FREESWITCH_EXAMPLE = Path(__file__).resolve().parents[2] / "config/clinic.freeswitch.example.yaml"
FreeswitchFactory = Callable[..., tuple[FreeswitchSandbox, ClinicConfig]]
ENGLISH_NUMBER = "+380441234568"  # fixes the language: no language menu
