"""Logging and call accounting, added to the administrator's ``logger.conf``, ``cdr.conf``,
``cdr_manager.conf`` and ``cel.conf`` (each extends their ``[general]``; their log files stay).

The controller rebuilds what it missed while it was down from ``queue_log`` and the CDRs
(docs/architecture.md, fail open), and follows CDR and CEL live over AMI; cdr_manager and
cel_manager load but stay silent until enabled here (docs/engines/asterisk.md).
"""

from __future__ import annotations

from clinicall.asterisk_config.conffile import document, section


def logger() -> str:
    return document(section("general", [
        ("queue_log", "yes"), ("queue_log_to_file", "yes"),
        ("queue_log_name", "queue_log"), ("queue_log_realtime_use_gmt", "yes"),
    ], extend=True))


def cdr() -> str:
    return document(section("general", [
        ("enable", "yes"), ("unanswered", "yes"), ("congestion", "yes"),
        ("endbeforehexten", "yes"), ("initiatedseconds", "yes"),
    ], extend=True), section("csv", [("usegmtime", "yes"), ("loguniqueid", "yes"),
                                     ("loguserfield", "yes"), ("accountlogs", "no")],
                             extend=True))


def cdr_manager() -> str:
    return document(section("general", [("enabled", "yes")], extend=True))


def cel() -> str:
    return document(section("general", [("enable", "yes"), ("apps", "all"), ("events", "ALL")],
                            extend=True),
                    section("manager", [("enabled", "yes")], extend=True))
