"""Dialplan for simulated operators and patients (the demo and the tests; no SIP needed).

Operators: queue members ``Local/<id>@clinicall-sim-operators/n``.  Each one behaves as the
GLOBAL variable ``SIM_OP_<id>`` says, so a test flips an operator with AMI ``Setvar`` (no
Channel): ``answer`` (the default: rings ``SIM_RING_<id>`` seconds, 1 by default, answers,
talks ``SIM_TALK_<id>`` seconds, 5 by default, hangs up) or ``noanswer`` (rings for 120 s).

Patients: AMI ``Originate`` of ``Local/s@clinicall-sim-patient/n`` into ``clinicall-inbound``
at a clinic number, with the variables ``SIM_DIGITS`` (keys to press; ``w`` waits 0.5 s, e.g.
``1ww2``), ``SIM_HOLD`` (seconds to stay on the line afterwards, 60 by default) and
``SIM_TONE`` (a tone in Hz the patient plays meanwhile; silent by default).
A patient the clinic calls (the originate context sets ``SIM_NUMBER``, the dialled digits)
answers unless the GLOBAL ``SIM_PATIENT_<digits>`` is ``noanswer`` (then it rings 120 s),
and presses the keys in the GLOBAL ``SIM_KEYS_<digits>`` if set (a reminder's answer).
"""

from __future__ import annotations

OPERATORS = "clinicall-sim-operators"
PATIENT = "clinicall-sim-patient"
OP_BEHAVIOUR = "SIM_OP_"  # + operator id: answer | noanswer
OP_TALK = "SIM_TALK_"  # + operator id: seconds
OP_RING = "SIM_RING_"  # + operator id: seconds before answering
DIGITS = "SIM_DIGITS"
HOLD = "SIM_HOLD"
TONE = "SIM_TONE"  # Hz the patient plays while holding (none by default)
NUMBER = "SIM_NUMBER"  # the digits the clinic dialled (calls the clinic places)
PATIENT_BEHAVIOUR = "SIM_PATIENT_"  # + digits: noanswer
PATIENT_KEYS = "SIM_KEYS_"  # + digits: the keys a called patient presses (as SIM_DIGITS)
#: A sound every Asterisk install has (core sounds, en).
OPERATOR_GREETING = "beep"
TALK_TONE = "440"


def operators_context() -> str:
    behaviour = "${" + OP_BEHAVIOUR + "${EXTEN}}"
    talk = "${" + OP_TALK + "${EXTEN}}"
    ring = "${" + OP_RING + "${EXTEN}}"
    steps = [
        f"1,NoOp(simulated operator ${{EXTEN}}: {behaviour})",
        f'n,GotoIf($["{behaviour}" = "noanswer"]?noanswer)',
        f'n,Wait(${{IF($["{ring}" = ""]?1:{ring})}})',
        "n,Answer()",
        f"n,Playback({OPERATOR_GREETING})",
        # A tone while talking: a real phone sends audio all call long, and MixMonitor
        # records frames, not wall time (Wait() alone would leave a near-empty recording).
        f"n,PlayTones({TALK_TONE})",
        f'n,Wait(${{IF($["{talk}" = ""]?5:{talk})}})',
        "n,Hangup()",
        "n(noanswer),Wait(120)",
        "n,Hangup()",
    ]
    lines = [f"[{OPERATORS}]"]
    for pattern in ("_[a-z].", "_X."):
        lines.append(f"exten => {pattern},{steps[0]}")
        lines += [f" same => {step}" for step in steps[1:]]
    return "\n".join(lines) + "\n"


def patient_context() -> str:
    digits, hold = "${" + DIGITS + "}", "${" + HOLD + "}"
    behaviour = "${" + PATIENT_BEHAVIOUR + "${" + NUMBER + "}}"
    return "\n".join([
        f"[{PATIENT}]",
        f'exten => s,1,GotoIf($["{behaviour}" = "noanswer"]?noanswer)',
        " same => n,Answer()",
        " same => n,Wait(1)",
        f' same => n,ExecIf($["{digits}" = ""]?Set({DIGITS}=${{{PATIENT_KEYS}${{{NUMBER}}}}}))',
        f' same => n,GotoIf($["{digits}" = ""]?hold)',
        f" same => n,SendDTMF({digits},250)",
        f' same => n(hold),GotoIf($["${{{TONE}}}" = ""]?wait)',
        # A patient who talks: the recordings proof tells the two sides apart by their tones.
        f" same => n,PlayTones(${{{TONE}}})",
        f' same => n(wait),Wait(${{IF($["{hold}" = ""]?60:{hold})}})',
        " same => n,Hangup()",
        " same => n(noanswer),Wait(120)",
        " same => n,Hangup()",
    ]) + "\n"
