"""A simulated patient on the line, as the IVR sees it: a :class:`CallPort` in virtual time.

The real menu interpreter (``ivr.interpreter``) runs against it unchanged.  The patient presses
the keys of their :class:`~clinicall.simclinic.day.SimPatient` one per menu, each after its
think time; with no key left they stay silent (the menu times out) or, if they hang up in the
IVR, hang up.  Every prompt takes :data:`~clinicall.simclinic.virtual_port.PROMPT_S`, so the
call's time in the IVR, and with it the instant it joins a queue, follows from the path taken.

Asked for the post-call survey (a prompt among ``survey_offer``, the offer's sound names), the
patient presses ``1`` if they agree (``Afterwards.agrees_to_survey``), else stays silent; the
question is told by its sound, not by its place, so a menu never takes the consent key.
"""

from __future__ import annotations

from clinicall.calltypes import CallInfo, QueueRequest
from clinicall.ivr.interpreter import SURVEY_YES
from clinicall.ivr.port import CallerHungUp, Recorded
from clinicall.simclinic.day import SimPatient
from clinicall.simclinic.virtual_port import PROMPT_S, VirtualPort


class PatientPort(VirtualPort):
    """One patient's IVR session (see the module docstring); ``elapsed_s`` is the virtual time
    since the IVR answered, ``request`` the queue it handed the call to."""

    def __init__(self, patient: SimPatient, info: CallInfo, *,
                 survey_offer: frozenset[str] = frozenset()) -> None:  # fmt: skip
        super().__init__(info)
        self.patient = patient
        self._survey_offer = survey_offer
        self._keys = list(zip(patient.keys, patient.think_s, strict=True))
        self.request: QueueRequest | None = None
        self.hung_up = False

    async def collect(self, prompts: list[str], *, digits: str, max_digits: int,
                      timeout_s: float) -> str:  # fmt: skip
        if self._survey_offer.intersection(prompts):
            return self._consent(prompts, timeout_s)
        if self._keys:
            key, think = self._keys.pop(0)
            self.elapsed_s += think  # typed ahead: the key cuts the prompts short
            return key
        if self.patient.hangs_up_in_ivr:
            self.elapsed_s += PROMPT_S
            self.hung_up = True
            raise CallerHungUp
        self.elapsed_s += PROMPT_S * len(prompts) + timeout_s
        return ""

    def _consent(self, prompts: list[str], timeout_s: float) -> str:
        later = self.patient.afterwards
        if later.agrees_to_survey:
            self.elapsed_s += later.survey_think_s
            return SURVEY_YES
        self.elapsed_s += PROMPT_S * len(prompts) + timeout_s
        return ""

    async def enqueue(self, request: QueueRequest) -> None:
        self.request = request

    async def record(self, name: str, *, fmt: str, max_s: float, silence_s: float,
                     finish_keys: str, beep: bool = True) -> Recorded:  # fmt: skip
        self.elapsed_s += PROMPT_S
        return Recorded("", 0.0)
