"""What the demo does once the calls are done: the importer's pass, a complaint case opened as
the manager would, the survey's answers read back."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from clinicall.app import Running, utc_now
from clinicall.privacy import mask_number
from clinicall.settings.models import ClinicConfig

Print = Callable[[str], None]


async def import_recordings(parts: Running, config: ClinicConfig, out: Print) -> int:
    """``clinicall recordings import``, in the demo's process."""
    from clinicall.recordings.importer import Importer
    from clinicall.recordings.storage import Spool, Storage

    rec = config.recordings
    importer = Importer(parts.sessions, Storage(Path(rec.storage_dir)), Spool(Path(rec.spool_dir)),
                        transcode=rec.transcode, sweep_after_s=0)
    report = await importer.run()
    out(f"demo: recordings imported {report.imported} (failed {len(report.failed)}, "
        f"missing {len(report.missing)}, {report.swept} empty files of unanswered calls swept)")
    return report.imported


async def open_complaint(parts: Running, config: ClinicConfig, call_key: str,
                          out: Print) -> int | None:
    """A complaint case on the complaining patient's call (its key in the store), as the
    manager opens it."""
    from sqlalchemy import func, select

    from clinicall.db.models import Call, Recording, User
    from clinicall.recordings.complaints import open_case

    async with parts.sessions() as session, session.begin():
        call = await session.scalar(select(Call).where(Call.call_key == call_key))
        manager = await session.scalar(select(User.id).where(User.username == "demo"))
        if call is None:
            out("demo: the complaining patient's call is not in the store: no case opened")
            return None
        case = await open_case(session, config.complaints, now=utc_now(), call_id=call.id,
                               phone=call.caller, user_id=manager, topic="complaint",
                               summary="The patient says the front desk lost her referral")
        recordings = await session.scalar(
            select(func.count()).select_from(Recording).where(Recording.call_id == call.id))
        case_id = case.id
    out(f"demo: the manager opened complaint case {case_id} on {mask_number(call.caller)}'s "
        f"call ({recordings} recording linked)")
    return case_id


async def print_survey(parts: Running, keys: list[str], out: Print) -> dict[str, int]:
    """The survey's answers of the calls ``keys`` (their call keys), as the store holds them."""
    from sqlalchemy import select

    from clinicall.db.models import Call, SurveyAnswer

    scores: dict[str, int] = {}
    async with parts.sessions() as session:
        rows = await session.execute(
            select(Call.caller, SurveyAnswer.question, SurveyAnswer.score)
            .join(Call, Call.id == SurveyAnswer.call_id).where(Call.call_key.in_(keys)))
        for caller, question, score in rows:
            scores[str(question)] = score
            out(f"demo: survey: {mask_number(caller)} answered {question} {score}")
    if not scores:
        out("demo: survey: no answers stored")
    return scores


