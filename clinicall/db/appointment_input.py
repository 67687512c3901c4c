"""Appointments as the clinic hands them over (a CSV file, the HTTP API), checked field by field.

Both ways in share these checks, so a row the API refuses is refused by the import too, with the
same words.  Every problem names its field and what is expected; the CSV reader adds the line
and column (docs/reminders.md, "Import").  Nothing here touches the store: values in, a checked
``AppointmentInput`` or the list of problems out.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from clinicall.settings.models import ClinicConfig

#: The CSV's columns, in this order in the header (extra columns are refused: a typo in a
#: header must not silently drop a field).
FIELDS = ("external_id", "phone", "language", "doctor", "specialty", "starts_at")
EXTERNAL_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}")
E164 = re.compile(r"\+[1-9][0-9]{7,14}")
#: Rows beyond this are refused: one import is a day's or a week's list, not a data dump.
MAX_ROWS = 20000


@dataclass(frozen=True, slots=True)
class AppointmentInput:
    external_id: str
    phone: str  # E.164
    language: str
    doctor: str
    specialty: str
    starts_at: datetime  # UTC


@dataclass(frozen=True, slots=True)
class FieldProblem:
    """One field's problem; ``line`` and ``column`` are the CSV's (1-based), 0 for the API."""

    field: str
    expected: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        where = (f"line {self.line}, column {self.column} ({self.field})" if self.line
                 else self.field)
        return f"{where}: {self.expected}"


@dataclass(frozen=True, slots=True)
class CsvRead:
    rows: list[tuple[int, AppointmentInput]]  # (line, row) of each good row
    problems: list[FieldProblem]


def parse_starts_at(text: str, zone: ZoneInfo) -> datetime | None:
    """``YYYY-MM-DD HH:MM`` (or ISO 8601 with ``T`` and seconds) in the clinic's zone, or with
    an explicit offset; the UTC instant, or None when it is not such a time."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def check_fields(values: Mapping[str, object], config: ClinicConfig,
                 ) -> AppointmentInput | list[FieldProblem]:  # fmt: skip
    """The appointment ``values`` describe, or every problem with them."""
    problems: list[FieldProblem] = []

    def text(name: str) -> str:
        value = values.get(name)
        return value.strip() if isinstance(value, str) else ""

    external_id, phone = text("external_id"), text("phone").replace(" ", "").replace("-", "")
    language, doctor, specialty = text("language"), text("doctor"), text("specialty")
    if not EXTERNAL_ID.fullmatch(external_id):
        problems.append(FieldProblem("external_id", "1 to 64 letters, digits or ._:/- "
                                     "(the clinic's own id of the appointment)"))
    if not E164.fullmatch(phone):
        problems.append(FieldProblem("phone", "the patient's number in E.164, e.g. "
                                     f"+380501234567; got {text('phone')!r}"))
    if language not in config.languages:
        problems.append(FieldProblem("language", f"one of {', '.join(config.languages)}; "
                                     f"got {language!r}"))
    if doctor not in config.doctors:
        problems.append(FieldProblem("doctor", "a doctor id of the config ("
                                     f"{', '.join(config.doctors) or 'none configured'}); "
                                     f"got {doctor!r}"))
    if specialty not in config.routes:
        problems.append(FieldProblem("specialty", "a route id of the config ("
                                     f"{', '.join(config.routes)}); got {specialty!r}"))
    raw_start = values.get("starts_at")
    starts_at = (parse_starts_at(raw_start, config.clinic.zone) if isinstance(raw_start, str)
                 else None)
    if starts_at is None:
        problems.append(FieldProblem("starts_at", "a date and time such as 2026-12-05 09:30 "
                                     f"(the clinic's zone, {config.clinic.timezone}) or with an "
                                     f"offset; got {raw_start!r}"))
    if problems or starts_at is None:
        return problems
    return AppointmentInput(external_id, phone, language, doctor, specialty, starts_at)


def read_csv(content: str, config: ClinicConfig) -> CsvRead:
    """Every good row of ``content`` and every problem, with its line and column.

    The first line is the header: exactly the :data:`FIELDS`, in any order.  A row with a
    wrong number of cells, or an external id that appears twice in the file, is a problem of
    that row; the good rows are kept either way (the caller imports them)."""
    reader = csv.reader(io.StringIO(content, newline=""))
    try:
        header = [cell.strip() for cell in next(reader)]
    except StopIteration:
        return CsvRead([], [FieldProblem("header", f"a header line: {','.join(FIELDS)}", 1, 1)])
    except csv.Error as error:
        return CsvRead([], [FieldProblem("header", f"a CSV line ({error})", 1, 1)])
    unknown = [(i, name) for i, name in enumerate(header, 1) if name not in FIELDS]
    missing = [name for name in FIELDS if name not in header]
    if unknown or missing or len(set(header)) != len(header):
        problems = [FieldProblem(name or "header", f"a column named one of {', '.join(FIELDS)}",
                                 1, i) for i, name in unknown]  # fmt: skip
        if missing:
            problems.append(FieldProblem("header", f"the columns {', '.join(missing)} too", 1,
                                         len(header) + 1))
        if not problems:
            problems.append(FieldProblem("header", "each column once", 1, 1))
        return CsvRead([], problems)
    column = {name: header.index(name) + 1 for name in FIELDS}
    rows: list[tuple[int, AppointmentInput]] = []
    problems = []
    seen: dict[str, int] = {}
    try:
        for cells in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            if len(rows) + len(problems) >= MAX_ROWS:
                problems.append(FieldProblem("row", f"at most {MAX_ROWS} rows per file", line, 1))
                break
            if len(cells) != len(header):
                problems.append(FieldProblem("row", f"{len(header)} cells, got {len(cells)}",
                                             line, min(len(cells), len(header)) + 1))
                continue
            checked = check_fields(dict(zip(header, cells, strict=True)), config)
            if isinstance(checked, list):
                problems += [FieldProblem(p.field, p.expected, line, column[p.field])
                             for p in checked]  # fmt: skip
                continue
            if checked.external_id in seen:
                problems.append(FieldProblem("external_id", "an id not used before in the file "
                                             f"(also on line {seen[checked.external_id]})",
                                             line, column["external_id"]))
                continue
            seen[checked.external_id] = line
            rows.append((line, checked))
    except csv.Error as error:
        problems.append(FieldProblem("row", f"a CSV line ({error})", reader.line_num, 1))
    return CsvRead(rows, problems)
