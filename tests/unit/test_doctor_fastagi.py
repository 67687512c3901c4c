"""The doctor's FastAGI probe, on bytes: the report Asterisk sends (``UserEvent`` from the
``clinicall-doctor`` context) read by the real AMI parser, and each verdict with its fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinicall.asterisk_config import render_asterisk_config
from clinicall.controller.asterisk.ami.message import Message
from clinicall.controller.asterisk.ami.protocol import AMIParser
from clinicall.doctor.fastagi import Target, is_report_of, probe_id, probe_verdict
from clinicall.settings import load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "config" / "clinic.example.yaml"
TARGET = Target("127.0.0.1", 4573)


def report(probe: str, status: str, answer: str, *, event: str = "ClinicallDoctor") -> bytes:
    """The frame Asterisk 22 sends for the probe context's ``UserEvent`` (empty ``Answer``
    when the script set nothing: ``Answer: `` with nothing after it)."""
    return ("Event: UserEvent\r\nPrivilege: user,all\r\nTimestamp: 1764864000.123456\r\n"
            f"Channel: Local/{probe}@clinicall-doctor-0000002a;2\r\nChannelState: 6\r\n"
            f"Context: clinicall-doctor\r\nExten: h\r\nUniqueid: doctor-{probe}-2\r\n"
            f"Linkedid: doctor-{probe}\r\nUserEvent: {event}\r\nProbe: {probe}\r\n"
            f"Status: {status}\r\nAnswer: {answer}\r\n\r\n").encode()


def parsed(data: bytes) -> Message:
    (message,) = AMIParser(expect_banner=False).feed(data)
    return message


def test_only_the_report_of_this_probe_is_taken() -> None:
    ours = parsed(report("000000000042", "SUCCESS", "clinicall"))
    assert is_report_of("000000000042", ours)
    assert not is_report_of("000000000043", ours)
    assert not is_report_of("000000000042", parsed(report("000000000042", "SUCCESS", "clinicall",
                                                           event="ClinicallCallback")))


def test_asterisk_reaching_clinicall_passes() -> None:
    check = probe_verdict(parsed(report("1", "SUCCESS", "clinicall")), TARGET, waited_s=5)
    assert check.ok
    assert check.detail == "Asterisk reached FastAGI at 127.0.0.1:4573 (AGISTATUS SUCCESS)"


def test_nothing_answering_fails_with_the_fix_and_this_hosts_view() -> None:
    check = probe_verdict(parsed(report("1", "FAILURE", "")), TARGET, waited_s=5,
                          from_here="from this host, 127.0.0.1:4573 accepts connections")
    assert not check.ok
    assert check.detail == ("Asterisk found no FastAGI answering at 127.0.0.1:4573 (AGISTATUS "
                            "FAILURE); from this host, 127.0.0.1:4573 accepts connections")
    assert check.fix.startswith("start 'clinicall run'")


@pytest.mark.parametrize("status", ["SUCCESS", "HANGUP"])
def test_another_server_on_the_port_is_named(status: str) -> None:
    check = probe_verdict(parsed(report("1", status, "")), TARGET, waited_s=5)
    assert not check.ok
    assert check.detail == ("something at 127.0.0.1:4573 took Asterisk's connection but did "
                            f"not answer as clinicall (AGISTATUS {status})")
    assert "engine.agi_allow" in check.fix
    assert "another engine.agi_port" in check.fix


def test_no_report_points_at_the_probe_context() -> None:
    check = probe_verdict(None, TARGET, waited_s=2.5)
    assert not check.ok
    assert check.detail == "Asterisk did not report the probe within 2.5 s"
    assert "[clinicall-doctor]" in check.fix
    assert "dialplan reload" in check.fix


def test_the_target_is_the_dialplans_url() -> None:
    config = load_config(EXAMPLE)
    agi = config.asterisk_engine()
    assert Target.of(config, None) == Target(agi.agi_host, agi.agi_port)
    assert str(Target.of(config, "agi://10.0.0.5:4999/ivr")) == "10.0.0.5:4999"


def test_a_probe_id_is_an_extension_of_the_probe_context() -> None:
    probe = probe_id()
    assert len(probe) == 12
    assert probe.isdigit()


def test_the_probe_context_runs_the_clinics_agi_url_and_reports_from_h() -> None:
    config = load_config(EXAMPLE)
    text = render_asterisk_config(config, agi_url="agi://10.0.0.5:4999/ivr")[
        "clinicall_extensions.conf"]
    context = text[text.index("[clinicall-doctor]"):].splitlines()
    assert context[1:7] == [
        "exten => _X.,1,Set(CLINICALL_PROBE=${EXTEN})",
        " same => n,Set(TIMEOUT(absolute)=30)",
        " same => n,Answer()",
        " same => n,AGI(agi://10.0.0.5:4999/doctor)",
        " same => n,Hangup()",
        "exten => h,1,UserEvent(ClinicallDoctor,Probe: ${CLINICALL_PROBE},"
        "Status: ${AGISTATUS},Answer: ${CLINICALL_DOCTOR})",
    ]
