"""The FreeSWITCH engine adapter: the Event Socket (inbound: events, ``api``/``bgapi``;
outbound: the per-call ``socket`` sessions) and the normalizer from its events to the neutral
facts (``esl_facts``).

Everything FreeSWITCH-specific that the controller needs lives in this package; the rest of
the controller sees only the engine port (``clinicall.controller.port``) and neutral facts
(``clinicall.controller.facts``).  What it relies on about FreeSWITCH is in
docs/engines/freeswitch.md.
"""
