"""The Asterisk engine adapter: AMI (control and live events), queue_log (the durable record),
the CLINICALL mark the generated dialplan writes, and the recording file layout of MixMonitor.

Everything Asterisk-specific that the controller needs lives in this package; the rest of the
controller sees only the engine port (``clinicall.controller.port``) and neutral facts
(``clinicall.controller.facts``).  What it relies on about Asterisk is in
docs/engines/asterisk.md.
"""
