"""The appointments CSV: every bad row reported with its line, column and what is expected;
the good rows kept."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from clinicall.db.appointment_input import AppointmentInput, check_fields, read_csv
from clinicall.settings.loader import load_config
from clinicall.settings.models import ClinicConfig

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "clinic.example.yaml"
HEADER = "external_id,phone,language,doctor,specialty,starts_at\n"


@pytest.fixture(scope="module")
def config() -> ClinicConfig:
    return load_config(EXAMPLE)


def test_good_rows_are_read_in_the_clinics_zone(config: ClinicConfig) -> None:
    read = read_csv(HEADER + "A-1,+380501112233,uk,petrenko,ultrasound,2026-12-05 09:30\n"
                    "A-2,+48 600-100-200,en,lysenko,pediatrics,2026-12-05T08:00:00+00:00\n",
                    config)
    assert read.problems == []
    assert read.rows == [
        (2, AppointmentInput("A-1", "+380501112233", "uk", "petrenko", "ultrasound",
                             datetime(2026, 12, 5, 7, 30, tzinfo=UTC))),  # Kyiv is UTC+2
        (3, AppointmentInput("A-2", "+48600100200", "en", "lysenko", "pediatrics",
                             datetime(2026, 12, 5, 8, 0, tzinfo=UTC))),
    ]


def test_each_bad_field_names_its_line_and_column(config: ClinicConfig) -> None:
    read = read_csv(HEADER
                    + "A-1,+380501112233,uk,petrenko,ultrasound,2026-12-05 09:30\n"
                    + "A-2,0501112233,de,petrenko,ultrasound,tomorrow\n"
                    + "\n"
                    + "A-3,+380501112233,uk,house,dentistry,2026-12-05 10:00\n"
                    + "A-4,+380501112233,uk\n"
                    + "A-1,+380501112233,uk,petrenko,ultrasound,2026-12-05 11:00\n", config)
    assert [r.external_id for _, r in read.rows] == ["A-1"]
    where = [(p.line, p.column, p.field) for p in read.problems]
    assert where == [(3, 2, "phone"), (3, 3, "language"), (3, 6, "starts_at"),
                     (5, 4, "doctor"), (5, 5, "specialty"), (6, 4, "row"),
                     (7, 1, "external_id")]
    text = [str(p) for p in read.problems]
    assert text[0].startswith("line 3, column 2 (phone): the patient's number in E.164")
    assert "one of uk, ru, en; got 'de'" in text[1]
    assert "2026-12-05 09:30" in text[2]
    assert "Europe/Kyiv" in text[2]
    assert "6 cells, got 3" in text[5]
    assert "also on line 2" in text[6]


def test_a_wrong_header_is_one_problem_per_column(config: ClinicConfig) -> None:
    read = read_csv("external_id,phone,lang,doctor,specialty,starts_at\nA,+380501112233\n",
                    config)
    assert read.rows == []
    assert [(p.line, p.column, p.field) for p in read.problems] == [
        (1, 3, "lang"), (1, 7, "header")]
    assert "language" in str(read.problems[1])
    assert read_csv("", config).problems[0].field == "header"


def test_columns_in_any_order(config: ClinicConfig) -> None:
    read = read_csv("starts_at,external_id,specialty,doctor,language,phone\n"
                    "2026-12-05 09:30,B,therapy,lysenko,ru,+380671234567\n", config)
    assert read.problems == []
    assert read.rows[0][1].specialty == "therapy"
    bad = read_csv("starts_at,external_id,specialty,doctor,language,phone\n"
                   "2026-13-05 09:30,B,therapy,lysenko,ru,+380671234567\n", config)
    assert [(p.line, p.column) for p in bad.problems] == [(2, 1)]


def test_the_api_gets_the_same_checks_without_a_line(config: ClinicConfig) -> None:
    problems = check_fields({"external_id": "", "phone": 5}, config)
    assert isinstance(problems, list)
    assert [p.field for p in problems] == ["external_id", "phone", "language", "doctor",
                                           "specialty", "starts_at"]
    assert str(problems[0]).startswith("external_id: 1 to 64 letters")
