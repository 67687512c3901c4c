"""Post-call survey answers: CSAT (1-5) and NPS (0-10), one answer per question per call.

Each answer names the queue, operator and route of the conversation it rates (as the engine
knew them when the operator hung up) and whether the patient answered every question
(``complete``; docs/kpi.md, Survey).

The reports sum them per hour of their call: a writer marks the call's start changed
(``clinicall.db.changes.mark_changed``) in the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column

from clinicall.db.models.base import BIG_ID_TYPE, Base, Id
from clinicall.db.models.enums import SurveyQuestion
from clinicall.db.types import str_enum


class SurveyAnswer(Base):
    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("call_id", "question"), Index(None, "answered_at"))

    id: Mapped[Id]
    call_id: Mapped[int] = mapped_column(BIG_ID_TYPE, ForeignKey("calls.id", ondelete="CASCADE"))
    question: Mapped[SurveyQuestion] = mapped_column(str_enum(SurveyQuestion))
    score: Mapped[int]
    answered_at: Mapped[datetime]
    queue: Mapped[str | None] = mapped_column(String(64))
    operator: Mapped[str | None] = mapped_column(String(128))
    route: Mapped[str | None] = mapped_column(String(64))
    complete: Mapped[bool] = mapped_column(default=True, server_default=true())
