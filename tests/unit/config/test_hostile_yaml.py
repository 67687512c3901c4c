"""Hostile or careless YAML gets one clear file:line message, in time and memory bounded by the
file's size (a clinic config never needs anchors, aliases or deep nesting; pytest-timeout
bounds each case)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from clinicall.settings import yamlmarks
from clinicall.settings.loader import MAX_BYTES, check_config, check_text
from clinicall.settings.yamlmarks import MAX_NODES

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = (ROOT / "config" / "clinic.example.yaml").read_text(encoding="utf-8")
BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join(['*' + p] * 9)}]\n"
    for p, n in zip("abcdefgh", "bcdefghi", strict=True))


def only_error(text: str) -> tuple[int, int, str]:
    report = check_text(text, "c.yaml")
    assert report.config is None
    (problem,) = report.errors
    return problem.line, problem.column, problem.message


@pytest.mark.timeout(10)
def test_deep_nesting_is_refused_at_its_line() -> None:
    line, _, message = only_error("clinic:\n  name: " + "[" * 500 + "]" * 500 + "\n")
    assert line == 2
    assert message == "nested more than 32 levels deep"


@pytest.mark.timeout(10)
@pytest.mark.parametrize("text", [BILLION_LAUGHS, "rec: &r [*r]\n", EXAMPLE.replace(
    "kpi:\n", "kpi: &k\n", 1)])  # fmt: skip
def test_anchors_and_aliases_are_refused(text: str) -> None:
    line, column, message = only_error(text)
    assert line >= 1
    assert column >= 1
    assert message == ("anchors and aliases (&name, *name) are not accepted in a clinic config: "
                       "write the values out")


def test_a_file_past_the_size_cap_is_refused_unread(tmp_path: Path) -> None:
    big = tmp_path / "clinic.yaml"
    big.write_text(EXAMPLE + "#" * (MAX_BYTES + 1), encoding="utf-8")
    report = check_config(big)
    assert [str(p) for p in report.errors] == [f"{big}: larger than 1 MB: not a clinic config"]


def test_a_byte_order_mark_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "clinic.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + EXAMPLE.encode())
    assert check_config(path).errors == []


def test_utf16_and_invalid_bytes_are_named_by_line_and_column(tmp_path: Path) -> None:
    utf16 = tmp_path / "utf16.yaml"
    utf16.write_text(EXAMPLE, encoding="utf-16")
    (problem,) = check_config(utf16).errors
    assert (problem.line, problem.column) == (1, 1)
    assert problem.message == ("UTF-16 text (a UTF-16 byte-order mark, or a zero byte in every "
                               "other place); save the file as UTF-8")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(EXAMPLE.encode().replace(b"database:", b"data\xe9base:", 1))
    (problem,) = check_config(latin).errors
    assert problem.line == EXAMPLE[: EXAMPLE.index("database:")].count("\n") + 1
    assert problem.column == 5


def test_a_nul_character_is_named_by_line_and_column() -> None:
    text = EXAMPLE.replace("database:", "data\x00base:", 1)
    line, column, message = only_error(text)
    assert line == EXAMPLE[: EXAMPLE.index("database:")].count("\n") + 1
    assert column == 5
    assert message == "character '\\x00' is not allowed in YAML; remove it"


def test_a_tab_for_indentation_is_a_syntax_error_at_its_line() -> None:
    text = EXAMPLE.replace("\n  url: sqlite", "\n\turl: sqlite", 1)
    line, _, message = only_error(text)
    assert line == text[: text.index("\turl")].count("\n") + 1
    assert message.startswith("YAML syntax error:")


@pytest.fixture(params=["libyaml", "python"])
def yaml_loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both loaders PyYAML may have: libyaml's (used when present) and the pure-Python one."""
    if request.param == "python":
        monkeypatch.setattr(yamlmarks, "_Loader", yaml.SafeLoader)
    elif yamlmarks._Loader is yaml.SafeLoader:
        pytest.skip("PyYAML was built without libyaml")
    return str(request.param)


@pytest.mark.timeout(10)
def test_both_loaders_place_refusals_and_bad_characters_alike(yaml_loader: str) -> None:
    report = check_text("clinic:\n  name: " + "[" * 500 + "]" * 500 + "\n", "c.yaml")
    assert [str(p) for p in report.errors] == [
        "c.yaml:2: clinic.name[0]: nested more than 32 levels deep"]
    report = check_text("queues:\n  q: {ring_s: &r 5}\n", "c.yaml")
    (problem,) = report.errors
    assert (problem.line, problem.column, problem.key_path) == (2, 15, "queues.q.ring_s")
    # A NUL after Cyrillic text: libyaml counts UTF-8 bytes, the message counts characters.
    text = EXAMPLE.replace("database:", "база\x00:", 1)
    line, column, _ = only_error(text)
    assert (line, column) == (EXAMPLE[: EXAMPLE.index("database:")].count("\n") + 1, 5)


@pytest.mark.timeout(10)
def test_too_many_values_are_refused_where_the_cap_is_passed(yaml_loader: str) -> None:
    text = "".join(f"k{n}: {n}\n" for n in range(MAX_NODES))
    line, _, message = only_error(text)
    assert line == MAX_NODES // 2  # the top mapping, then a key and a value per line
    assert message == "more than 20,000 values: not a clinic config"
