"""A simulated patient in the post-call survey: a :class:`CallPort` in virtual time.

When the operator hangs up on a patient who agreed to the survey, the engine hands the call back
and the controller runs the real survey flow (``ivr.survey.run_survey``) on it; the day's run
does the same against this port.  The patient keys the scores they were drawn with
(``day.Afterwards``): the CSAT (one key) and the NPS (``1`` ``0`` for 10, else one digit that the
digit timeout ends, as a patient who does not press ``#`` does), each after their think time; or
hangs up at the question they were drawn to (``survey_hangs_up_at``): at the CSAT nothing is
answered, at the NPS the survey is partial.  Which
question is asked is told by its sound (``questions``: sound name → ``csat`` | ``nps``), not by
its place, so a question asked again is answered again.

:attr:`SurveyPort.keyed` is what the patient keyed: the ground truth the stored answers are
checked against.  Every prompt takes :data:`~clinicall.simclinic.virtual_port.PROMPT_S`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from clinicall.calltypes import CallInfo
from clinicall.ivr.port import CallerHungUp
from clinicall.simclinic.day import Afterwards
from clinicall.simclinic.virtual_port import PROMPT_S, VirtualPort

CSAT, NPS = "csat", "nps"


@dataclass(frozen=True, slots=True)
class SurveyTruth:
    """One survey as the patient keyed it, and the conversation it rates."""

    call_id: str
    queue: str
    member: str
    csat: int | None
    nps: int | None

    @property
    def answered(self) -> bool:
        return self.csat is not None or self.nps is not None

    @property
    def complete(self) -> bool:
        return self.csat is not None and self.nps is not None


class SurveyPort(VirtualPort):
    """One patient's survey session (see the module docstring); ``elapsed_s`` is the virtual
    time since the engine handed the call back."""

    def __init__(self, info: CallInfo, later: Afterwards,
                 questions: Mapping[str, str]) -> None:  # fmt: skip
        super().__init__(info)
        self._later = later
        self._questions = questions
        self.keyed: dict[str, int] = {}

    async def collect(self, prompts: list[str], *, digits: str, max_digits: int,
                      timeout_s: float) -> str:  # fmt: skip
        asked = next((self._questions[p] for p in prompts if p in self._questions), None)
        if asked is not None and asked == self._later.survey_hangs_up_at:
            self.elapsed_s += PROMPT_S
            raise CallerHungUp
        if asked is None:  # nothing this patient answers: silence
            self.elapsed_s += PROMPT_S * len(prompts) + timeout_s
            return ""
        score = self._later.csat if asked == CSAT else self._later.nps
        keys = str(score)
        self.elapsed_s += self._later.survey_think_s
        if len(keys) < max_digits:  # the digit timeout ends a shorter answer
            self.elapsed_s += timeout_s
        self.keyed[asked] = score
        return keys
