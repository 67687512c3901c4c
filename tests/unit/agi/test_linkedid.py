"""The linkedid read from the environment: the plain "seconds.sequence" shortcut reads what
the full pattern reads."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from clinicall.agi_scripts.asterisk_port import _LINKEDID, linkedid_from_env
from clinicall.agi_scripts.protocol import EnvironmentParser

PIECES = st.sampled_from(["1712345678", "0", "42", ".", "..", "-", "pbx-", "a", "١٢", "²", " ", ""])


@settings(max_examples=500, derandomize=True, database=None, deadline=None)
@given(st.lists(PIECES, max_size=5).map("".join))
def test_the_shortcut_reads_what_the_pattern_reads(candidate: str) -> None:
    env = EnvironmentParser().feed(
        f"agi_request: a\nagi_uniqueid: 1.1\nagi_arg_1: {candidate}\n\n".encode())
    assert env is not None
    value = env.args[0]
    assert linkedid_from_env(env) == (value if _LINKEDID.fullmatch(value) else None)
