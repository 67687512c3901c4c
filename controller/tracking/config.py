"""What call tracking needs from the clinic config, as one small frozen value."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from clinicall.settings.models import ClinicConfig

#: Country calling codes (ITU E.164, prefix-free) of the clinics' likely countries, longest
#: first.  A clinic elsewhere passes ``country_code`` explicitly.
KNOWN_COUNTRY_CODES = (
    "380", "373", "374", "375", "371", "370", "372", "995", "994", "998", "996", "992",
    "993", "420", "421", "359", "48", "49", "44", "40", "43", "33", "39", "34", "36", "90",
    "972", "7", "1",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class TrackingConfig:
    """``country_code``: digits without '+' used to complete national numbers ("" = keep them
    as given).  ``short_abandon_s``: docs/kpi.md's short abandon threshold (reports use it; the
    tracker only carries it).  ``zone``: the clinic's time zone (rows are stored in UTC)."""

    country_code: str = ""
    trunk_prefix: str = "0"
    short_abandon_s: int = 5
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))

    @classmethod
    def from_clinic(
        cls, config: ClinicConfig, *, country_code: str | None = None
    ) -> TrackingConfig:
        """From the clinic config; the country code defaults to the first clinic number's."""
        code = (
            country_code if country_code is not None else country_code_of(config.numbers[0].number)
        )
        return cls(
            country_code=code,
            short_abandon_s=config.kpi.short_abandon_s,
            zone=config.clinic.zone,
        )


def country_code_of(e164: str) -> str:
    """The country calling code of an E.164 number if it is one of KNOWN_COUNTRY_CODES, else ""."""
    digits = e164.removeprefix("+")
    return next((code for code in KNOWN_COUNTRY_CODES if digits.startswith(code)), "")
