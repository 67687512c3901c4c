"""``engine:``, a tagged union (asterisk | freeswitch); old configs (a top-level ``asterisk:``,
Asterisk's strategy names) still load with a warning that says what to change."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinicall.cli import main
from clinicall.settings.loader import check_config, check_text
from clinicall.settings.models import AsteriskEngine, EngineMismatch, FreeswitchEngine

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = (ROOT / "config" / "clinic.example.yaml").read_text()
OLD = ROOT / "tests" / "data" / "config" / "old_asterisk_section.yaml"
ASTERISK_KEYS = ("  ami_host: 127.0.0.1\n  ami_port: 5038\n  ami_user: clinicall\n"
                 "  ami_secret: change-me-ami\n"
                 "  agi_host: 127.0.0.1\n  agi_port: 4573\n")  # fmt: skip
ALLOW_LINE = '  agi_allow: ["127.0.0.1/32", "::1/128"]\n'
#: The example's agi_allow with the comment lines above it (Asterisk only).
ALLOW_BLOCK = EXAMPLE[EXAMPLE.rindex("\n", 0, EXAMPLE.index("  # The addresses")) + 1:
                      EXAMPLE.index(ALLOW_LINE) + len(ALLOW_LINE)]  # fmt: skip


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def freeswitch_text() -> str:
    return (EXAMPLE.replace("engine:\n  type: asterisk\n",
                            "engine:\n  type: freeswitch\n  esl_password: ClueCon-2026\n")
            .replace(ALLOW_BLOCK, "").replace(ASTERISK_KEYS, "")
            .replace("  queue_log: /var/log/asterisk/queue_log\n", ""))


def test_the_example_runs_asterisk() -> None:
    report = check_text(EXAMPLE, "clinic.yaml")
    assert report.config is not None
    assert isinstance(report.config.engine, AsteriskEngine)
    assert report.config.asterisk_engine().ami_port == 5038
    assert report.config.queues["ultrasound"].strategy == "round_robin"


def test_a_freeswitch_engine_is_read_with_its_defaults() -> None:
    report = check_text(freeswitch_text(), "clinic.yaml")
    assert report.errors == []
    assert report.config is not None
    engine = report.config.engine
    assert isinstance(engine, FreeswitchEngine)
    assert (engine.esl_port, engine.outbound_port, engine.esl_password) == (8021, 8084,
                                                                             "ClueCon-2026")
    with pytest.raises(EngineMismatch, match="needs engine type asterisk; the config says "
                                             "freeswitch"):  # fmt: skip
        report.config.asterisk_engine()


def test_an_unknown_or_missing_type_is_named_at_its_line() -> None:
    typo = check_text(EXAMPLE.replace("type: asterisk", "type: asterix"), "c.yaml")
    (problem,) = typo.errors
    assert (problem.line, problem.key_path) == (line_of(EXAMPLE, "engine:"), "engine")
    assert problem.message == ("unknown type 'asterix': expected one of asterisk, freeswitch; "
                               "did you mean 'asterisk'?")  # fmt: skip
    missing = check_text(EXAMPLE.replace("  type: asterisk\n", ""), "c.yaml")
    assert [p.message for p in missing.errors] == [
        "missing 'type:' (one of asterisk, freeswitch)"]


def test_a_missing_key_of_the_engine_points_into_its_section() -> None:
    report = check_text(EXAMPLE.replace("  ami_secret: change-me-ami\n", ""), "c.yaml")
    (problem,) = report.errors
    assert (problem.key_path, problem.message) == (
        "engine.ami_secret", "missing key 'ami_secret' under 'engine'")  # fmt: skip


def test_an_old_asterisk_section_loads_with_advice_at_its_line() -> None:
    text = OLD.read_text()
    report = check_config(OLD)
    assert report.errors == []
    assert report.config is not None
    assert report.config.engine == check_text(EXAMPLE, "x").config.engine  # type: ignore[union-attr]
    section = next(w for w in report.warnings if w.key_path == "asterisk")
    assert section.line == line_of(text, "\nasterisk:") + 1
    assert str(section) == (
        f"{OLD}:{section.line}: warning: asterisk: the 'asterisk:' section is now 'engine:': "
        "rename it and add 'type: asterisk' as its first key (read that way for now)")


def test_errors_inside_an_old_section_name_the_old_keys() -> None:
    text = OLD.read_text().replace("  ami_port: 5038\n", "  ami_port: lots\n")
    (problem,) = check_text(text, "old.yaml").errors
    assert (problem.key_path, problem.line) == ("asterisk.ami_port",
                                                line_of(text, "ami_port: lots"))  # fmt: skip


def test_both_sections_are_an_error_naming_both_lines() -> None:
    text = EXAMPLE + "asterisk:\n  ami_secret: something-long\n"
    (problem,) = check_text(text, "c.yaml").errors
    assert problem.line == line_of(text, "\nasterisk:") + 1
    assert problem.message == (f"both 'asterisk:' and 'engine:' (line {line_of(text, 'engine:')})"
                               " are given; keep 'engine:' only")


def test_strategies_are_neutral_and_asterisk_names_still_read() -> None:
    report = check_config(OLD)
    assert report.config is not None
    assert {q.strategy for q in report.config.queues.values()} == {"round_robin", "ring_all"}
    warned = {w.key_path: w.message for w in report.warnings if w.key_path.endswith("strategy")}
    assert warned["queues.ultrasound.strategy"] == (
        "'rrmemory' is Asterisk's name; write 'round_robin' (read that way for now)")
    assert len(warned) == len(report.config.queues)
    bad = check_text(EXAMPLE.replace("strategy: round_robin", "strategy: fastest", 1), "c.yaml")
    (problem,) = bad.errors
    assert problem.key_path == "queues.ultrasound.strategy"


def test_asterisk_config_refuses_a_freeswitch_clinic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "clinic.yaml"
    config.write_text(freeswitch_text())
    assert main(["asterisk-config", str(config), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "needs engine type asterisk; the config says freeswitch" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_the_fastagi_allow_list_defaults_to_loopback_and_reads_networks() -> None:
    default = check_text(EXAMPLE.replace(ALLOW_LINE, ""), "c.yaml").config
    assert default is not None
    assert default.asterisk_engine().agi_allow == ["127.0.0.1/32", "::1/128"]
    text = EXAMPLE.replace(ALLOW_LINE, '  agi_allow: [192.0.2.0/24, "2001:db8::7"]\n')
    config = check_text(text, "c.yaml").config
    assert config is not None
    assert config.asterisk_engine().agi_allow == ["192.0.2.0/24", "2001:db8::7"]


@pytest.mark.parametrize(("entries", "key", "message"), [
    ("[pbx.example.org]", "engine.agi_allow[0]", "expected an IP address or a network such as "
     "'192.0.2.10' or '192.0.2.0/24' (host names are not resolved), got 'pbx.example.org'"),
    ("[127.0.0.1, 10.1.2.3/8]", "engine.agi_allow[1]",
     "'10.1.2.3/8' has bits set past the prefix; write '10.0.0.0/8'"),
    ("[256.0.0.1]", "engine.agi_allow[0]", "expected an IP address or a network such as "
     "'192.0.2.10' or '192.0.2.0/24' (host names are not resolved), got '256.0.0.1'"),
    ("[]", "engine.agi_allow", "expected at least 1 item(s), got none"),
    ("127.0.0.1", "engine.agi_allow", "expected a list, got '127.0.0.1'"),
])  # fmt: skip
def test_a_bad_allow_list_entry_is_named_at_its_line(entries: str, key: str, message: str) -> None:
    text = EXAMPLE.replace(ALLOW_LINE, f"  agi_allow: {entries}\n")
    (problem,) = check_text(text, "c.yaml").errors
    assert str(problem) == f"c.yaml:{line_of(EXAMPLE, ALLOW_LINE)}: {key}: {message}"
