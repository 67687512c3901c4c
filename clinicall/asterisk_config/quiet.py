"""Small files that core modules read at boot: with them present Asterisk boots without errors.

``indications.conf`` matters for callers (ring-back and busy tones); the others only hold
defaults, written out so that a missing file is never mistaken for a real boot problem.
"""

from __future__ import annotations

from clinicall.asterisk_config.conffile import document, section

#: European tones (ETSI, 425 Hz), as Ukraine and most of Europe use.
_TONES = [
    ("description", "Europe (425 Hz)"), ("ringcadence", "1000,4000"), ("dial", "425"),
    ("busy", "425/500,0/500"), ("ring", "425/1000,0/4000"), ("congestion", "425/200,0/200"),
    ("callwaiting", "425/200,0/200,425/200,0/4000"), ("dialrecall", "425/100,0/100"),
    ("record", "1400/500,0/15000"), ("info", "950/330,1400/330,1800/330,0/1000"),
]


def render() -> dict[str, str]:
    general = section("general", [])
    return {
        "indications.conf": document(section("general", [("country", "eu")]),
                                     section("eu", _TONES)),
        "features.conf": document(general),
        "acl.conf": document(),
        "udptl.conf": document(general),
        "ccss.conf": document(general),
        "pjproject.conf": document(),
    }
