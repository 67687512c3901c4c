"""The CPU bench's dialplan-only IVR is the menu the controller played, key for key."""

from __future__ import annotations

import pytest
from dialplan_ivr import CONTEXT, dialplan_ivr, without_controller

COMMANDS = [
    "ANSWER",
    'STREAM FILE "clinicall/en/welcome" "0123456789*#"',
    'STREAM FILE "clinicall/en/emergency" "0123456789*#"',
    'GET DATA "clinicall/en/menu_main" "5000" "1"',
    'GET DATA "clinicall/en/menu_appointments" "4000" "1"',
    'STREAM FILE "clinicall/en/queue_gynecology" ""',
    'EXEC "MSet" "CLINICALL_QUEUE=gynecology,CLINICALL_PRIORITY=0"',
]


def test_prompts_before_a_key_are_one_read_and_the_variables_one_mset() -> None:
    context = dialplan_ivr(COMMANDS, {"CLINICALL_QUEUE": "gynecology", "CLINICALL_LANG": "en",
                                      "CLINICALL_OVERFLOW": ""})  # fmt: skip
    assert context.splitlines() == [
        f"[{CONTEXT}]",
        "exten => s,1,NoOp(the IVR in dialplan)",
        " same => n,Answer()",
        " same => n,Read(KEY,clinicall/en/welcome&clinicall/en/emergency&clinicall/en/menu_main"
        ",1,,1,5)",
        " same => n,Read(KEY,clinicall/en/menu_appointments,1,,1,4)",
        " same => n,Playback(clinicall/en/queue_gynecology)",
        " same => n,MSet(CLINICALL_LANG=en,CLINICALL_QUEUE=gynecology,CLINICALL_OVERFLOW=)",
        " same => n,Set(AGISTATUS=SUCCESS)",
        " same => n,Return()",
    ]


def test_the_fastagi_call_becomes_a_gosub_and_nothing_else_moves() -> None:
    generated = ("[clinicall-call]\nexten => _X.,1,Answer()\n"
                 " same => n,AGI(agi://127.0.0.1:4573/ivr,${CHANNEL(linkedid)})\n"
                 " same => n,GotoIf($[\"${AGISTATUS}\" != \"SUCCESS\"]?fallback)\n")  # fmt: skip
    out = without_controller(generated, "[ctx]\n")
    assert out.splitlines()[:4] == [
        "[clinicall-call]", "exten => _X.,1,Answer()", f" same => n,Gosub({CONTEXT},s,1)",
        ' same => n,GotoIf($["${AGISTATUS}" != "SUCCESS"]?fallback)']  # fmt: skip
    assert out.endswith("[ctx]\n")
    with pytest.raises(ValueError, match="no FastAGI IVR call"):
        without_controller("[clinicall-call]\nexten => _X.,1,Answer()\n", "[ctx]\n")
