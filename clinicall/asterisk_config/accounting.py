"""Logging and call accounting: ``logger.conf``, ``cdr.conf``, ``cdr_manager.conf``, ``cel.conf``.

The controller rebuilds what it missed while it was down from ``queue_log`` and the CDRs
(docs/architecture.md, fail open), and follows CDR and CEL live over AMI; cdr_manager and
cel_manager load but stay silent until enabled here (docs/engines/asterisk.md).
"""

from __future__ import annotations

from clinicall.asterisk_config.conffile import document, section


def logger() -> str:
    general = section("general", [
        ("dateformat", "%F %T.%3q"), ("queue_log", "yes"), ("queue_log_to_file", "yes"),
        ("queue_log_name", "queue_log"), ("queue_log_realtime_use_gmt", "yes"),
    ])
    files = section("logfiles", [
        ("console", "notice,warning,error"),
        ("messages.log", "notice,warning,error,verbose(1)"),
    ], op="=>")
    return document(general, files)


def cdr() -> str:
    return document(section("general", [
        ("enable", "yes"), ("unanswered", "yes"), ("congestion", "yes"),
        ("endbeforehexten", "yes"), ("initiatedseconds", "yes"),
    ]), section("csv", [("usegmtime", "yes"), ("loguniqueid", "yes"), ("loguserfield", "yes"),
                        ("accountlogs", "no")]))


def cdr_manager() -> str:
    return document(section("general", [("enabled", "yes")]))


def cel() -> str:
    return document(section("general", [("enable", "yes"), ("apps", "all"), ("events", "ALL")]),
                    section("manager", [("enabled", "yes")]))
