"""The patient's own time zone, guessed from the country code of their number.

A callback must not wake a patient, and a displaced patient may live zones away from the
clinic.  The number is the only hint at call time, so the zone comes from its country code
by a small table.  Assumptions (docs/callbacks.md, "The patient's night"): a mobile number
travels with its owner, so the guess is where the number was issued, not where the patient
is; a country code that spans several zones (``1``, ``7``) or is not in the table gives the
clinic's own zone, the best guess for a patient who called a local clinic.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

#: Country calling code → the zone of (nearly) the whole country.  Only single-zone countries.
COUNTRY_ZONES: dict[str, str] = {
    "380": "Europe/Kyiv", "373": "Europe/Chisinau", "48": "Europe/Warsaw",
    "40": "Europe/Bucharest", "36": "Europe/Budapest", "420": "Europe/Prague",
    "421": "Europe/Bratislava", "49": "Europe/Berlin", "43": "Europe/Vienna",
    "39": "Europe/Rome", "33": "Europe/Paris", "34": "Europe/Madrid", "44": "Europe/London",
    "353": "Europe/Dublin", "31": "Europe/Amsterdam", "32": "Europe/Brussels",
    "41": "Europe/Zurich", "45": "Europe/Copenhagen", "46": "Europe/Stockholm",
    "47": "Europe/Oslo", "358": "Europe/Helsinki", "370": "Europe/Vilnius",
    "371": "Europe/Riga", "372": "Europe/Tallinn", "359": "Europe/Sofia", "30": "Europe/Athens",
    "90": "Europe/Istanbul", "995": "Asia/Tbilisi", "374": "Asia/Yerevan", "994": "Asia/Baku",
    "972": "Asia/Jerusalem", "375": "Europe/Minsk", "351": "Europe/Lisbon",
}  # fmt: skip


def patient_zone(e164: str, clinic_zone: ZoneInfo) -> ZoneInfo:
    """The zone of the country of ``e164`` (``+380...``), else ``clinic_zone``."""
    digits = e164.removeprefix("+")
    for length in (3, 2, 1):  # country codes are prefix-free: at most one length matches
        name = COUNTRY_ZONES.get(digits[:length])
        if name is not None:
            return ZoneInfo(name)
    return clinic_zone
