"""The generated Asterisk config merges into the clinic's own: trunks into the inbound context,
SIP apart from AMI, NAT and RTP ports, operators' dialling, and a CLI that writes only its own
files (docs/engines/asterisk.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from clinicall.asterisk_config import installed_asterisk_config, render_asterisk_config
from clinicall.asterisk_config.includes import INCLUDED_FROM
from clinicall.cli import main
from clinicall.settings import ClinicConfig, load_config
from clinicall.settings.loader import check_text
from clinicall.settings.models import RtpPorts, Sip, Trunk

from .conf_reader import one, sections

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "clinic.example.yaml"

IP_TRUNK = Trunk(id="provider", host="198.51.100.7", match=["198.51.100.0/28", "203.0.113.9"])
REG_TRUNK = Trunk(id="voip", host="sip.voip.example:5080", registration=True,
                  username="clinic77", password="pw;77")


@pytest.fixture(scope="module")
def config() -> ClinicConfig:
    return load_config(EXAMPLE)


def with_sip(config: ClinicConfig, **sip: object) -> ClinicConfig:
    return config.model_copy(update={"sip": Sip.model_validate(sip),
                                     "trunks": [IP_TRUNK, REG_TRUNK]})


def test_an_ip_matched_trunk_is_an_endpoint_into_the_inbound_context(config: ClinicConfig) -> None:
    conf = sections(render_asterisk_config(with_sip(config))["clinicall_pjsip.conf"])
    trunk = conf["provider"]
    assert [v for k, v in trunk if k == "type"] == ["endpoint", "aor", "identify"]
    assert one(trunk, "context") == "clinicall-inbound"
    assert one(trunk, "dtmf_mode") == "rfc4733"
    assert one(trunk, "transport") == "clinicall-udp"
    assert [v for k, v in trunk if k == "match"] == ["198.51.100.0/28", "203.0.113.9"]
    assert one(trunk, "endpoint") == "provider"
    assert "outbound_auth" not in dict(trunk)


def test_a_registering_trunk_registers_and_its_calls_are_its_own(config: ClinicConfig) -> None:
    conf = sections(render_asterisk_config(with_sip(config))["clinicall_pjsip.conf"])
    trunk = conf["voip"]
    assert [v for k, v in trunk if k == "type"] == [
        "endpoint", "aor", "auth", "identify", "registration"]
    assert one(trunk, "server_uri") == "sip:sip.voip.example:5080"
    assert one(trunk, "client_uri") == "sip:clinic77@sip.voip.example:5080"
    assert one(trunk, "contact_user") == "380441234567"  # the first clinic number
    assert one(trunk, "line") == "yes"
    assert [v for k, v in trunk if k == "match"] == ["sip.voip.example"]
    assert [v for k, v in trunk if k == "password"] == [r"pw\;77"]
    assert [v for k, v in trunk if k == "outbound_auth"] == ["voip", "voip"]


def test_sip_listens_apart_from_ami_with_nat_and_an_rtp_range(config: ClinicConfig) -> None:
    clinic = with_sip(config, bind="192.0.2.10", external_address="203.0.113.50",
                      local_nets=["192.0.2.0/24", "10.0.0.0/8"],
                      rtp_ports=RtpPorts(start=12000, end=12100))
    files = render_asterisk_config(clinic)
    transport = sections(files["clinicall_pjsip.conf"])["clinicall-udp"]
    assert one(transport, "bind") == "192.0.2.10:5060"
    assert one(transport, "external_media_address") == "203.0.113.50"
    assert one(transport, "external_signaling_address") == "203.0.113.50"
    assert [v for k, v in transport if k == "local_net"] == ["192.0.2.0/24", "10.0.0.0/8"]
    assert one(sections(files["clinicall_manager.conf"])["general"], "bindaddr") == "127.0.0.1"
    rtp = files["clinicall_rtp.conf"]
    assert "[general](+)" in rtp
    assert (one(sections(rtp)["general"], "rtpstart"),
            one(sections(rtp)["general"], "rtpend")) == ("12000", "12100")


def test_the_administrators_own_transport_is_used_when_named(config: ClinicConfig) -> None:
    conf = sections(render_asterisk_config(with_sip(config, transport="transport-udp"))
                    ["clinicall_pjsip.conf"])
    assert "clinicall-udp" not in conf
    assert one(conf["provider"], "transport") == "transport-udp"


def test_phones_are_found_by_name_before_a_trunk_by_address(config: ClinicConfig) -> None:
    glob = sections(render_asterisk_config(config)["clinicall_pjsip_global.conf"])["global"]
    assert one(glob, "endpoint_identifier_order") == "username,ip,anonymous"


def test_operators_dial_colleagues_the_ivr_and_the_clinics_outside_line(
    config: ClinicConfig,
) -> None:
    clinic = with_sip(config, outside_context="from-internal", ivr_extension="777")
    text = render_asterisk_config(clinic)["clinicall_extensions.conf"]
    ops = sections(text)["clinicall-operators"]
    lines = [f"{k} => {v}" for k, v in ops]
    assert "exten => op102,1,Dial(PJSIP/op102,30)" in lines
    assert "exten => 777,1,Goto(clinicall-inbound,+380441234567,1)" in lines
    assert "exten => 380441234568,1,Goto(clinicall-inbound,380441234568,1)" in lines
    assert lines[-1] == "include => from-internal"
    assert "Hangup(21)" not in "\n".join(lines)  # nothing of ours shadows the include
    closed = sections(render_asterisk_config(config)["clinicall_extensions.conf"])
    assert "include" not in dict(closed["clinicall-operators"])
    assert "exten => _X.,1,Hangup(21)" in [f"{k} => {v}" for k, v in closed["clinicall-operators"]]


def test_only_clinicall_contexts_and_sections_extended_not_redefined(config: ClinicConfig) -> None:
    files = render_asterisk_config(with_sip(config))
    ext = sections(files["clinicall_extensions.conf"])
    assert all(name.startswith("clinicall-") for name in ext)  # no [globals] to shadow theirs
    for name, text in files.items():
        assert "[general]\n" not in text, name  # theirs is extended with (+), not redefined
        for needed in INCLUDED_FROM[name][1]:
            assert f"[{needed}](+)" in text


def test_a_fresh_install_includes_every_generated_file_once(config: ClinicConfig) -> None:
    files = installed_asterisk_config(config)
    for name, (target, needs) in INCLUDED_FROM.items():
        text = files[target]
        assert text.count(f"#include {name}\n") == 1
        for needed in needs:
            assert text.index(f"[{needed}]\n") < text.index(f"#include {name}")
        assert not text.startswith("; Generated")  # the administrator's file, not ours


@pytest.mark.parametrize(("yaml_tail", "key", "message"), [
    ("trunks:\n  - {id: voip, host: sip.example, registration: true}\n",
     "trunks[0]", "needs a username and a password"),
    ("trunks:\n  - {id: op101, host: sip.example}\n", "trunks[0].id", "already an operator's"),
    ("trunks:\n  - {id: t, host: 'sip example'}\n", "trunks[0].host", "expected text matching"),
    ("trunks:\n  - {id: t, host: h, match: [sip.example]}\n", "trunks[0].match[0]",
     "host names are not resolved"),
    ("sip:\n  rtp_ports: {start: 20000, end: 10000}\n", "sip.rtp_ports", "end must be above"),
    ("sip:\n  bind: everywhere\n", "sip", "expected an IP address"),
    ("sip:\n  outside_context: 'from internal'\n", "sip.outside_context", "expected text matching"),
])
def test_bad_sip_settings_are_file_line_errors(yaml_tail: str, key: str, message: str) -> None:
    report = check_text(EXAMPLE.read_text() + yaml_tail, "clinic.yaml")
    assert report.config is None
    (problem,) = report.errors
    assert problem.key_path == key
    assert message in problem.message
    assert problem.line > 250


# -- the command ----------------------------------------------------------------------------

def test_the_command_writes_only_its_files_and_says_what_to_include(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    etc = tmp_path / "asterisk"
    etc.mkdir()
    own = {"extensions.conf": "[from-trunk]\nexten => s,1,Hangup()\n",
           "modules.conf": "[modules]\nautoload = yes\n"}
    for name, text in own.items():
        (etc / name).write_text(text)
    assert main(["asterisk-config", str(EXAMPLE), "--out", str(etc)]) == 0
    out = capsys.readouterr().out
    written = {p.name for p in etc.iterdir()} - set(own)
    assert written == set(render_asterisk_config(load_config(EXAMPLE)))
    assert {name: (etc / name).read_text() for name in own} == own
    assert "extensions.conf:   #include clinicall_extensions.conf" in out
    assert "res_agi, app_queue" in out
    before = {p.name: p.stat().st_mtime_ns for p in etc.iterdir()}
    assert main(["asterisk-config", str(EXAMPLE), "--out", str(etc)]) == 0
    again = capsys.readouterr().out
    assert "wrote" not in again
    assert again.count("unchanged ") == len(written)
    assert {p.name: p.stat().st_mtime_ns for p in etc.iterdir()} == before
    assert main(["asterisk-config", str(EXAMPLE), "--out", str(etc), "--diff"]) == 0
    assert capsys.readouterr().out == f"no change in {etc}\n"


def test_a_file_of_the_administrators_is_never_overwritten_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    theirs = tmp_path / "clinicall_queues.conf"
    theirs.write_text("; hand-made\n[q]\n")
    assert main(["asterisk-config", str(EXAMPLE), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert ("not replacing files clinicall did not write (no generated-file header): "
            f"{theirs}") in err
    assert "--force" in err
    assert [p.name for p in tmp_path.iterdir()] == ["clinicall_queues.conf"]
    assert main(["asterisk-config", str(EXAMPLE), "--out", str(tmp_path), "--diff"]) == 0
    diff = capsys.readouterr().out
    assert f"--- {theirs}\n" in diff
    assert "-; hand-made\n" in diff
    assert theirs.read_text() == "; hand-made\n[q]\n"
    assert main(["asterisk-config", str(EXAMPLE), "--out", str(tmp_path), "--force"]) == 0
    assert (tmp_path / "clinicall_queues.conf.bak").read_text() == "; hand-made\n[q]\n"
    assert theirs.read_text().startswith("; Generated by 'clinicall asterisk-config'")


def test_a_hand_edit_of_a_generated_file_shows_in_the_diff(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["asterisk-config", str(EXAMPLE), "--out", str(tmp_path)]) == 0
    queues = tmp_path / "clinicall_queues.conf"
    queues.write_text(queues.read_text().replace("timeout = 15", "timeout = 99", 1))
    capsys.readouterr()
    assert main(["asterisk-config", str(EXAMPLE), "--out", str(tmp_path), "--diff"]) == 0
    assert "-timeout = 99\n+timeout = 15\n" in capsys.readouterr().out


def test_a_transport_of_the_administrators_is_pointed_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pjsip.conf").write_text("[global]\ntype=global\n\n[transport-udp] ; theirs\n"
                                         "type = transport\nprotocol=udp\n")
    assert main(["asterisk-config", str(EXAMPLE), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert (f"Note: {tmp_path / 'pjsip.conf'} has a transport of its own (transport-udp); two "
            "on one port fail to bind: set 'sip.transport: transport-udp'") in out
    (tmp_path / "pjsip.conf").write_text("[global]\ntype=global\n")
    assert main(["asterisk-config", str(EXAMPLE), "--out", str(tmp_path)]) == 0
    assert "Note:" not in capsys.readouterr().out
