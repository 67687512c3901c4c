"""The status colours of the wallboard and the feed mark meet WCAG AA contrast (4.5:1) for
their text: a supervisor reads them across a room."""

from __future__ import annotations

import re

import pytest

from clinicall.web.console_assets import CSS

RULE = re.compile(r"\.(st-[a-z_]+|feed\.[a-z]+) \{ background: (#[0-9a-f]{6}); "
                  r"color: (#[0-9a-f]{6}); \}")


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    light, dark = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


RULES = RULE.findall(CSS)


def test_every_status_has_its_colours() -> None:
    names = {name for name, _, _ in RULES}
    assert {"st-available", "st-ringing", "st-on_call", "st-wrap_up", "st-paused",
            "st-offline", "feed.live", "feed.stale"} <= names


@pytest.mark.parametrize(("name", "background", "colour"), RULES)
def test_status_text_contrast_is_at_least_aa(name: str, background: str, colour: str) -> None:
    assert contrast(background, colour) >= 4.5, name
