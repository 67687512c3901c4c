"""Values YAML or the store would choke on are config problems with their line, not tracebacks:
dates that are not in the calendar, database URLs the store cannot use; and a relative SQLite
path is placed next to the config file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from clinicall.serve import web_secret
from clinicall.settings import check_config
from clinicall.settings.loader import check_text

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = (REPO / "config" / "clinic.example.yaml").read_text(encoding="utf-8")
HOLIDAY = "    - date: 2026-12-25\n"
DB_URL = "  url: sqlite+aiosqlite:///var/clinicall.db\n"


def _with(old: str, new: str) -> str:
    assert old in EXAMPLE
    return EXAMPLE.replace(old, new, 1)


def _line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


@pytest.mark.parametrize(("day", "why"), [("2026-02-30", "day is out of range for month"),
                                          ("2026-13-01", "month must be in 1..12"),
                                          ("2025-02-29", "day is out of range for month")])
def test_a_date_not_in_the_calendar_names_its_line(day: str, why: str) -> None:
    text = _with(HOLIDAY, f"    - date: {day}\n")
    (problem,) = check_text(text, "c.yaml").errors
    assert problem.key_path == "hours.holidays[0].date"
    assert problem.line == _line_of(text, f"date: {day}")
    assert problem.message == f"there is no date {day!r} ({why}); expected YYYY-MM-DD"


def test_a_real_leap_day_is_a_date() -> None:
    report = check_text(_with(HOLIDAY, "    - date: 2028-02-29\n"), "c.yaml")
    assert report.config is not None
    assert str(report.config.hours.holidays[0].date) == "2028-02-29"


@pytest.mark.parametrize(("url", "words"), [
    ("mysql://x", "unsupported database 'mysql' in 'mysql://x'"),
    ("oracle://u:hunter22@h/db", "unsupported database 'oracle' in 'oracle://u:***@h/db'"),
    ("sqlite+pysqlite:///x.db", "driver 'sqlite+pysqlite' is not supported: write "
                                "'sqlite+aiosqlite'"),
    ("postgresql+psycopg2://h/db", "write 'postgresql+asyncpg'"),
    ("://", "not a database URL"),
    ("var/clinicall.db", "not a database URL"),
])
def test_an_unusable_database_url_is_a_config_error(url: str, words: str) -> None:
    text = _with(DB_URL, f'  url: "{url}"\n')
    (problem,) = check_text(text, "c.yaml").errors
    assert (problem.key_path, problem.line) == ("database.url", _line_of(text, "  url: "))
    assert words in problem.message
    assert "hunter22" not in problem.message


def test_a_driver_that_is_not_installed_is_a_config_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "asyncpg" else real(name, *a))
    text = _with(DB_URL, "  url: postgresql://clinic@db.example/clinic\n")
    (problem,) = check_text(text, "c.yaml").errors
    assert problem.key_path == "database.url"
    assert "needs the Python package 'asyncpg', which is not installed" in problem.message


@pytest.mark.parametrize(("url", "placed"), [
    ("sqlite+aiosqlite:///var/clinicall.db", "sqlite+aiosqlite:///{dir}/var/clinicall.db"),
    ("sqlite:///store.db", "sqlite:///{dir}/store.db"),
    ("sqlite+aiosqlite:////srv/clinic.db", "sqlite+aiosqlite:////srv/clinic.db"),
    ("sqlite+aiosqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
    ("postgresql+asyncpg://u:pw@h/db", "postgresql+asyncpg://u:pw@h/db"),
])
def test_a_relative_sqlite_path_is_relative_to_the_config_file(
        tmp_path: Path, url: str, placed: str) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    (folder / "clinic.yaml").write_text(_with(DB_URL, f'  url: "{url}"\n'), encoding="utf-8")
    report = check_config(folder / "clinic.yaml")
    assert report.config is not None, [str(p) for p in report.problems]
    assert report.config.database.url == placed.format(dir=folder.resolve())


@pytest.mark.parametrize(("given", "placed"), [
    (None, "{dir}/var/web-secret"),
    ("secrets/web", "{dir}/secrets/web"),
    ("/var/lib/clinicall/web-secret", "/var/lib/clinicall/web-secret"),
])
def test_the_web_secret_file_is_placed_beside_the_config_too(
        tmp_path: Path, given: str | None, placed: str) -> None:
    folder = tmp_path / "etc"
    folder.mkdir()
    http = "http:\n  host: 127.0.0.1\n  port: 8080\n"
    text = EXAMPLE if given is None else _with(http, f"{http}  secret_file: {given}\n")
    (folder / "clinic.yaml").write_text(text, encoding="utf-8")
    report = check_config(folder / "clinic.yaml")
    assert report.config is not None, [str(p) for p in report.problems]
    assert report.config.http.secret_file == placed.format(dir=folder.resolve())


def test_the_web_secret_is_made_once_with_mode_0600(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLINICALL_SECRET", raising=False)
    path = tmp_path / "var" / "web-secret"
    first = web_secret(path)
    assert len(first) == 64
    assert path.stat().st_mode & 0o777 == 0o600
    assert web_secret(path) == first


def test_check_config_command_reports_a_bad_date_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "clinic.yaml"
    path.write_text(_with(HOLIDAY, "    - date: 2026-02-30\n"), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "clinicall", "check-config", str(path)],
                         capture_output=True, text=True, cwd=REPO, check=False)
    assert run.returncode == 1
    assert f"{path}:40: hours.holidays[0].date: there is no date '2026-02-30'" in run.stdout
    assert "Traceback" not in run.stdout + run.stderr
