"""What the KPIs need from the clinic config, as one small value (tests build it directly)."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from clinicall.settings.models import ClinicConfig

#: A later contact counts as the return of a missed call only within this many hours.
RETURN_HORIZON_H = 24


@dataclass(frozen=True, slots=True)
class KpiSettings:
    timezone: str = "UTC"
    short_abandon_s: float = 5
    service_level_s: float = 20  # for queues the config does not list
    queue_service_level_s: dict[str, float] = field(default_factory=dict)
    unreturned_after_min: float = 10
    queue_names: dict[str, str] = field(default_factory=dict)  # id -> display name
    return_horizon_h: float = RETURN_HORIZON_H
    #: Queues whose every answered patient hears the post-call survey (reports.survey: their
    #: answered calls are due a survey without the IVR's question).
    survey_always: frozenset[str] = frozenset()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def service_level_for(self, queue: str) -> float:
        return self.queue_service_level_s.get(queue, self.service_level_s)

    @classmethod
    def from_config(cls, config: ClinicConfig) -> KpiSettings:
        lang = config.default_language
        return cls(
            timezone=config.clinic.timezone,
            short_abandon_s=config.kpi.short_abandon_s,
            service_level_s=config.kpi.service_level_s,
            queue_service_level_s={q: v.service_level_s for q, v in config.queues.items()},
            unreturned_after_min=config.kpi.unreturned_after_min,
            queue_names={q: v.name.get(lang) or q for q, v in config.queues.items()},
            survey_always=frozenset(q for q, v in config.queues.items() if v.survey == "always"),
        )


def kpi_settings(config: ClinicConfig | KpiSettings) -> KpiSettings:
    return config if isinstance(config, KpiSettings) else KpiSettings.from_config(config)
