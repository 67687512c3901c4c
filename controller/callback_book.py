"""The callback call's side of the store: what the operator's whisper and the patient's
greeting say about a job (docs/callbacks.md, "The callback call").  The controller hands a
callback leg (``CallInfo.callback``) to the IVR's flows with this."""

from __future__ import annotations

from clinicall.db.callbacks import CallbackStore
from clinicall.ivr.callback_call import CallbackCall


class CallbackBook:
    def __init__(self, store: CallbackStore) -> None:
        self.store = store

    async def callback_call(self, job_id: str) -> CallbackCall | None:
        """What the whisper and the greeting say about job ``job_id`` (None: unknown)."""
        job = await self.store.job(int(job_id)) if job_id.isdigit() else None
        if job is None:
            return None
        return CallbackCall(phone=job.phone, reason=job.reason, queue=job.queue,
                            language=job.language, arrived_at=job.arrived_at)
