"""A Report written as CSV, XLSX or JSON, to a file or a stream.

Columns keep the report's order (group keys first); headers carry units (``asa [s]``); times
are the clinic's local times with their offsets.  CSV holds one table, so it writes one
section (``queues`` by default); XLSX writes each section on its own sheet; JSON writes all.
"""

from __future__ import annotations

import csv
import io
import json
from typing import IO, Literal

from clinicall.reports.table import Report, Section

Format = Literal["csv", "xlsx", "json"]
FORMATS: tuple[Format, ...] = ("csv", "xlsx", "json")


def to_csv(section: Section, out: IO[str]) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.header for c in section.columns])
    for row in section.as_lists():
        writer.writerow(["" if v is None else v for v in row])


def to_json(report: Report, out: IO[str]) -> None:
    json.dump(report.to_dict(), out, ensure_ascii=False, indent=1)
    out.write("\n")


def to_xlsx(report: Report, out: IO[bytes]) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook(write_only=False)
    first = True
    for name, section in report.sections.items():
        sheet = book.active if first else book.create_sheet()
        first = False
        sheet.title = name
        sheet.append([c.header for c in section.columns])
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in section.as_lists():
            sheet.append(row)
        sheet.freeze_panes = "A2"
    about = book.create_sheet("about")
    for line in (("from", report.start.isoformat()), ("to (exclusive)", report.end.isoformat()),
                 ("time zone", report.timezone), ("grouped by", ",".join(report.by) or "-")):
        about.append(list(line))
    book.save(out)


def write(report: Report, fmt: Format, out: IO[bytes], section: str = "queues") -> None:
    """Render ``report`` as ``fmt`` onto the binary stream ``out`` (UTF-8 for text formats)."""
    if fmt == "xlsx":
        to_xlsx(report, out)
        return
    text = io.StringIO()
    if fmt == "csv":
        to_csv(report.section(section), text)
    else:
        to_json(report, text)
    out.write(text.getvalue().encode("utf-8"))
