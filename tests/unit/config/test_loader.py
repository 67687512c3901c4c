"""The loader reports every problem with the file, line and key, in words a person can act on."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from clinicall.settings import ConfigError, check_config, load_config
from clinicall.settings.loader import check_text

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "config" / "clinic.example.yaml"
BAD = REPO / "tests" / "data" / "config" / "bad"

#: fixture -> (line, key path, words the message must contain)
EXPECTED = {
    "wrong_type.yaml": (77, "queues.universal.ring_s",
                        "expected a whole number of seconds, got 'abc'"),
    "unknown_queue_in_route.yaml": (105, "routes.gynecology.queue",
                                    "unknown queue 'gynaecology'; did you mean 'gynecology'?"),
    "bad_time.yaml": (37, "hours.weekly.sat[0]", "'25:00-26:00'"),
    "unknown_key_typo.yaml": (65, "queues.pediatrics.ringtime",
                              "unknown key 'ringtime'; did you mean 'ring_s'?"),
    "yaml_syntax.yaml": (58, "", "YAML syntax error"),
    "missing_language.yaml": (188, "ivr.menus.information.prompt", "missing text in en"),
}


def test_example_config_is_valid() -> None:
    report = check_config(EXAMPLE)
    assert report.config is not None, [str(p) for p in report.problems]
    assert report.problems == []
    assert report.config.ivr.fallback_route == "operator"


def test_every_bad_fixture_is_covered() -> None:
    assert sorted(p.name for p in BAD.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_fixture_names_line_and_key(name: str) -> None:
    line, key, words = EXPECTED[name]
    with pytest.raises(ConfigError) as caught:
        load_config(BAD / name)
    problems = caught.value.errors
    assert len(problems) == 1, [str(p) for p in problems]
    problem = problems[0]
    assert (problem.line, problem.key_path) == (line, key)
    assert words in problem.message
    prefix = f"{BAD / name}:{line}: " + (f"{key}: " if key else "")
    assert str(problem).startswith(prefix)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_check_config_command_prints_problem_and_fails(name: str) -> None:
    line, key, words = EXPECTED[name]
    path = BAD / name
    run = subprocess.run([sys.executable, "-m", "clinicall", "check-config", str(path)],
                         capture_output=True, text=True, cwd=REPO, check=False)
    assert run.returncode == 1
    assert f"{path}:{line}: " + (f"{key}: " if key else "") in run.stdout + run.stderr
    assert words in run.stdout + run.stderr


def test_check_config_command_accepts_example() -> None:
    run = subprocess.run([sys.executable, "-m", "clinicall", "check-config", str(EXAMPLE)],
                         capture_output=True, text=True, cwd=REPO, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.startswith("OK: ")
    assert "5 queues, 4 operators, 4 menus, 3 services" in run.stdout


def _example_with(old: str, new: str) -> str:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


def test_many_problems_are_reported_at_once_in_file_order() -> None:
    text = _example_with("    ring_s: 20\n", "    ring_s: abc\n")
    text = text.replace("  ami_port: 5038\n", "  ami_port: 99999\n")
    text = text.replace("  timezone: Europe/Kyiv\n", "  timezone: Mars/Olympus\n")
    report = check_text(text, "clinic.yaml")
    keys = [p.key_path for p in report.errors]
    assert keys == ["clinic.timezone", "queues.universal.ring_s", "engine.ami_port"]
    assert "expected at most 65535, got 99999" in report.errors[2].message


def test_missing_key_points_at_parent() -> None:
    text = _example_with("  ami_secret: change-me-ami\n", "")
    (problem,) = check_text(text, "c.yaml").errors
    assert problem.message == "missing key 'ami_secret' under 'engine'"
    assert problem.key_path == "engine.ami_secret"
    assert text.splitlines()[problem.line - 1] == "engine:"


def test_duplicate_key_is_an_error() -> None:
    text = _example_with("    ring_s: 20\n", "    ring_s: 20\n    ring_s: 25\n")
    (problem,) = check_text(text, "c.yaml").errors
    assert problem.key_path == "queues.universal.ring_s"
    assert "twice" in problem.message


def test_unquoted_digit_key_asks_for_quotes() -> None:
    text = _example_with('        "3": {route: test_results}', "        3: {route: test_results}")
    (problem,) = check_text(text, "c.yaml").errors
    assert "put it in quotes" in problem.message
    assert text.splitlines()[problem.line - 1].strip().startswith("3:")


@pytest.mark.parametrize(
    ("old", "new", "key", "words"),
    [
        ("    queues: {gynecology: 0, universal: 1}", "    queues: {gyn: 0, universal: 1}",
         "operators[1].queues.gyn", "unknown queue 'gyn'"),
        ("    doctors: [lysenko]", "    doctors: [lysenk]",
         "services.pediatrician_visit.doctors[0]", "did you mean 'lysenko'"),
        ('        "3": {menu: services}', '        "3": {menu: servicez}',
         "ivr.menus.information.options.3.menu", "unknown menu 'servicez'"),
        ('"service:pediatrician_visit"', '"service:dentist"',
         "ivr.menus.services.options.3.say", "unknown service 'dentist'"),
        ("  fallback_route: operator ", "  fallback_route: nobody ", "ivr.fallback_route",
         "unknown route 'nobody'"),
        ("  main_menu: main\n", "  main_menu: start\n", "ivr.main_menu", "unknown menu 'start'"),
        ("default_language: uk", "default_language: ru\nlanguages_x: 1", "languages_x",
         "unknown key 'languages_x'"),
        ("  - id: op102", "  - id: op101", "operators[1].id", "used twice"),
        ("languages: [uk, ru, en]", "languages: [uk, ru]", "numbers[1].language",
         "'en' is not one of languages"),
        ("  therapy: {queue: therapy, priority: 0, overflow_to: universal",
         "  therapy: {queue: therapy, priority: 0, overflow_to: univers",
         "routes.therapy.overflow_to", "did you mean 'universal'"),
    ],
)
def test_cross_reference_errors(old: str, new: str, key: str, words: str) -> None:
    text = _example_with(old, new)
    report = check_text(text, "c.yaml")
    assert report.config is None
    assert any(p.key_path == key and words in p.message for p in report.errors), [
        str(p) for p in report.problems]
    line = next(p.line for p in report.errors if p.key_path == key)
    assert line > 0


def test_unreachable_menu_is_only_a_warning() -> None:
    text = _example_with('        "3": {menu: services}', '        "3": {say: hours}')
    report = check_text(text, "c.yaml")
    assert report.config is not None
    (warning,) = report.warnings
    assert warning.key_path == "ivr.menus.services"
    assert str(warning).startswith("c.yaml:")
    assert ": warning: " in str(warning)


def test_menu_cycles_are_allowed() -> None:
    text = _example_with('        "3": {say: "service:pediatrician_visit"}',
                         '        "3": {say: "service:pediatrician_visit"}\n'
                         '        "9": {menu: main}')
    assert check_text(text, "c.yaml").problems == []


def test_not_a_mapping_and_unreadable_file(tmp_path: Path) -> None:
    assert "expected a mapping" in check_text("- a\n- b\n", "c.yaml").errors[0].message
    report = check_config(tmp_path / "absent.yaml")
    assert report.config is None
    assert "cannot read" in report.errors[0].message
