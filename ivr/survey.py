"""The post-call survey: two questions to a patient whose operator has hung up.

The engine hands the call back after the operator's leg ends (Asterisk ``Queue()`` option ``c``,
docs/engines/asterisk.md) only for a patient who agreed before the queue (or whose queue always
asks).  The survey speaks the language the patient chose in the IVR and asks:

- CSAT: "rate the call from 1 to 5" (one key);
- NPS: "how likely are you to recommend us, from 0 to 10" (up to two keys: ``1`` ``0`` is 10;
  ``#`` ends a one-digit answer at once, else the digit timeout does).

An answer out of range is asked once more with ``invalid`` in front.  Silence, ``#`` alone or a
second wrong answer ends the survey there; so does hanging up.  The answers so far are kept
and the outcome says whether the survey was complete (docs/kpi.md, Survey).
"""

from __future__ import annotations

from clinicall.calltypes import SurveyOutcome
from clinicall.ivr import prompts
from clinicall.ivr.plan import IvrPlan
from clinicall.ivr.port import CallerHungUp, CallPort

SURVEY_KEYS = "0123456789#"
CSAT_RANGE = (1, 5)
NPS_RANGE = (0, 10)
TRIES = 2  # a wrong answer is asked once more


class _Survey:
    def __init__(self, port: CallPort, plan: IvrPlan, language: str) -> None:
        self.port = port
        self.plan = plan
        lang = language if language in plan.names else plan.default_language
        self.names = plan.names[lang]

    async def score(self, question: str, bounds: tuple[int, int]) -> int | None:
        """The patient's score for ``question``, or None (no answer)."""
        low, high = bounds
        lead: list[str] = []
        for _ in range(TRIES):
            got = await self.port.collect(
                [self.names[k] for k in (*lead, question)],
                digits=SURVEY_KEYS,
                max_digits=len(str(high)),
                timeout_s=self.plan.digit_timeout_s,
            )
            digits = got.rstrip("#")
            if not digits:
                return None
            if digits.isdigit() and low <= int(digits) <= high:
                return int(digits)
            lead = [prompts.INVALID]
        return None


async def run_survey(port: CallPort, plan: IvrPlan, *, language: str) -> SurveyOutcome:
    """Ask the two questions (see the module docstring); never raises :class:`CallerHungUp`.

    Raises :class:`ivr.port.PortError` when the engine fails a command.
    """
    survey = _Survey(port, plan, language)
    csat = nps = None
    try:
        csat = await survey.score(prompts.SURVEY_CSAT, CSAT_RANGE)
        if csat is not None:
            nps = await survey.score(prompts.SURVEY_NPS, NPS_RANGE)
        if nps is not None:
            await port.play([survey.names[prompts.SURVEY_THANKS]])
    except CallerHungUp:
        pass
    return SurveyOutcome(csat, nps, complete=csat is not None and nps is not None)
