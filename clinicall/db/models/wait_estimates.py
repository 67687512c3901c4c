"""Each announced wait estimate, kept so the estimator can be measured (docs/callbacks.md,
"Estimated wait").

A row is the estimate a waiting caller heard (``estimate_s``; None: nobody was logged in) and
the engine's own figure at the same instant (``engine_estimate_s``: on Asterisk the queue's
moving-average ``Holdtime``), keyed by the call's ``call_key`` and queue.  The wait that
followed is not stored twice: it is the queue attempt's ``connected_at`` minus
``announced_at``, joined at report time (``reports/wait_estimates.py``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from clinicall.db.models.base import Base, BigId


class WaitEstimate(Base):
    __tablename__ = "wait_estimates"
    __table_args__ = (Index(None, "announced_at"), Index(None, "call_key"))

    id: Mapped[BigId]
    call_key: Mapped[str] = mapped_column(String(64))
    queue: Mapped[str] = mapped_column(String(64))
    announced_at: Mapped[datetime]
    estimate_s: Mapped[float | None]
    engine_estimate_s: Mapped[float | None]
