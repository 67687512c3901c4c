"""The recordings importer's health on ``/metrics`` (recordings.import_loop):

- ``clinicall_recordings_last_import_pass_timestamp_seconds``: when the last pass ended (0:
  none yet); an alert on its age finds a stuck or stopped importer;
- ``clinicall_recordings_last_imported_timestamp_seconds``: the last pass that imported a file;
- ``clinicall_recordings_import_pending``: rows whose file is not imported yet;
- ``clinicall_recordings_import_failures_total{what="file|pass"}``: files the importer could not
  take (they stay in the spool), passes that could not run (store down, lock held).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from aiohttp import web
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from clinicall.recordings.import_loop import ImportHealth
from clinicall.web.reports_api import METRICS_EXTRA


def add_import_health(app: web.Application, health: ImportHealth) -> None:
    """Before the app starts (its collectors are registered then)."""
    app[METRICS_EXTRA] = [*app.get(METRICS_EXTRA, []), ImportHealthCollector(health)]


class ImportHealthCollector:
    """Reads the loop's :class:`ImportHealth` at each scrape (no store query of its own)."""

    def __init__(self, health: ImportHealth) -> None:
        self.health = health

    async def refresh(self, now: datetime) -> None:
        return None  # the loop keeps the health current

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        health = self.health
        for name, at, doc in (
            ("clinicall_recordings_last_import_pass_timestamp_seconds", health.last_pass_at,
             "When the recordings importer's last pass ended (0: none yet)"),
            ("clinicall_recordings_last_imported_timestamp_seconds", health.last_imported_at,
             "When the importer last imported a recording (0: none yet)"),
        ):
            yield GaugeMetricFamily(name, doc, value=at.timestamp() if at else 0.0)
        yield GaugeMetricFamily("clinicall_recordings_import_pending",
                                "Recordings whose file is not imported yet",
                                value=health.pending)
        failures = CounterMetricFamily("clinicall_recordings_import_failures",
                                       "Recording files the importer could not take, and "
                                       "passes that could not run", labels=["what"])
        failures.add_metric(["file"], health.failed_files)
        failures.add_metric(["pass"], health.failed_passes)
        yield failures
