"""The complaint route's voice message: the patient records what happened instead of (or
before) waiting for an operator (issue 13, "A complaint from the phone").

On the route ``complaints.voice_message.route``, before the queue: ``complaint_offer`` ("press
1 to leave a message, 2 or stay on the line for an operator").  ``1``: ``complaint_record``,
a beep, then :meth:`CallPort.record` until ``#``, silence or the time limit;
``complaint_confirm``: ``1`` (or nothing) keeps it, ``2`` records it again (at most
:data:`MAX_TAKES` takes, the last one is kept); ``complaint_saved`` and the call ends.  Any
other answer to the offer sends the patient to the queue as before.  Path steps:
``complaint`` for the offer, ``message`` for each confirmation.

The IVR does not write the case: :func:`leave_message` hands the message to ``deliver``
(``run_ivr``'s ``message_left``; the controller opens the case on its own task,
recordings.voice_complaints), so the patient never waits for the store.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from clinicall.calltypes import CallInfo
from clinicall.ivr import prompts
from clinicall.ivr.outcome import Path
from clinicall.ivr.port import CallerHungUp, CallPort
from clinicall.settings.models import ComplaintMessage

LEAVE_KEY, OPERATOR_KEY = "1", "2"
KEEP_KEY, AGAIN_KEY = "1", "2"
FINISH_KEYS = "#"
MAX_TAKES = 3
OFFER_STEP, CONFIRM_STEP = "complaint", "message"
#: The engine's own format for telephone audio (8 kHz 16-bit WAV on both engines).
MESSAGE_FORMAT = "wav"


@dataclass(frozen=True, slots=True)
class VoiceMessage:
    """A message the patient kept: where the engine wrote it (relative to its recording
    spool, without the extension), how long it is by the engine's count, and who left it."""

    call: CallInfo
    name: str
    fmt: str
    seconds: float
    language: str
    route: str
    recorded_at: datetime


def message_name(call_id: str) -> str:
    """``<call id>-complaint``, directly in the engine's recording spool: Asterisk's RECORD FILE
    creates no directory (MixMonitor's dated folders may not exist yet), and the spool itself
    always does.  The importer takes it by its row like any recording (docs/recordings.md)."""
    return f"{call_id}-complaint"


async def leave_message(port: CallPort, names: Mapping[str, str],
                        settings: ComplaintMessage, *, language: str, path: Path,
                        timeout_s: float, now: datetime,
                        deliver: Callable[[VoiceMessage], None]) -> bool:
    """Offer, record, confirm (see the module docstring); the kept message goes to
    ``deliver``.  False when the patient chose the operator (or said nothing to the offer).

    A patient who hangs up once recording began (the usual way to finish) keeps the message:
    the engine closes the file at hang-up, so it is delivered before :class:`CallerHungUp`
    goes on up."""
    key = (await port.collect([names[prompts.COMPLAINT_OFFER]], digits="0123456789*#",
                              max_digits=1, timeout_s=timeout_s))[:1]
    if not key:
        path.timeout(OFFER_STEP)
        return False
    path.press(OFFER_STEP, key)
    if key != LEAVE_KEY:
        return False
    name = message_name(port.info.call_id)
    seconds = 0.0

    def message() -> VoiceMessage:
        return VoiceMessage(port.info, name, MESSAGE_FORMAT, seconds, language, settings.route,
                            now)

    await port.play([names[prompts.COMPLAINT_RECORD]])
    try:
        for take in range(1, MAX_TAKES + 1):
            if take > 1:
                await port.play([names[prompts.COMPLAINT_RECORD]])
            recorded = await port.record(name, fmt=MESSAGE_FORMAT, max_s=settings.max_s,
                                         silence_s=settings.silence_s, finish_keys=FINISH_KEYS)
            seconds = recorded.seconds
            if take == MAX_TAKES:
                break
            answer = (await port.collect([names[prompts.COMPLAINT_CONFIRM]],
                                         digits=KEEP_KEY + AGAIN_KEY, max_digits=1,
                                         timeout_s=timeout_s))[:1]  # fmt: skip
            if not answer:
                path.timeout(CONFIRM_STEP)
                break
            path.press(CONFIRM_STEP, answer)
            if answer != AGAIN_KEY:
                break
    except CallerHungUp:
        deliver(message())
        raise
    deliver(message())
    await port.play([names[prompts.COMPLAINT_SAVED]])
    return True
