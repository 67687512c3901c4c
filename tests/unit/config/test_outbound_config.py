"""``outbound:`` (docs/outbound.md): how the calls the clinic places reach patients, checked at
its line like the rest of the config, and what both engines' generators write from it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from clinicall.asterisk_config import render_asterisk_config
from clinicall.freeswitch_config import includes as inc
from clinicall.freeswitch_config import render_freeswitch_config
from clinicall.settings import ClinicConfig, load_config
from clinicall.settings.loader import check_text
from clinicall.settings.models import DialRule, Outbound, Trunk

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = (ROOT / "config" / "clinic.example.yaml").read_text()
TRUNKS = """
trunks:
  - {id: provider, host: "192.0.2.5:5060", match: [192.0.2.5]}
  - {id: voip, host: sip.voip.example, username: clinic77, password: pw}
"""
CALLER_ID = "+380441112233"


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def _with(outbound: str, *, trunks: str = TRUNKS, callbacks_on: bool = False) -> str:
    text = EXAMPLE + trunks + outbound
    if callbacks_on:
        text = text.replace("\ncallbacks:\n", "\ncallbacks:\n  enabled: true\n", 1)
    return text


def test_without_the_section_no_route_is_configured() -> None:
    report = check_text(EXAMPLE, "c.yaml")
    assert report.config is not None
    assert report.config.outbound == Outbound()
    assert not report.config.outbound.configured
    assert report.config.outbound_caller_id() == report.config.numbers[0].number


@pytest.mark.parametrize(("outbound", "rules"), [
    ({}, [DialRule("+", 0, "")]),
    ({"number_format": "digits"}, [DialRule("+", 1, "")]),
    ({"number_format": "national", "country_code": "380"},
     [DialRule("+380", 4, "0"), DialRule("+", 1, "00")]),
    ({"number_format": "national", "country_code": "48", "national_prefix": "",
      "international_prefix": "810"}, [DialRule("+48", 3, ""), DialRule("+", 1, "810")]),
])  # fmt: skip
def test_each_number_format_is_its_rules_the_most_specific_first(
        outbound: dict[str, str], rules: list[DialRule]) -> None:  # fmt: skip
    assert Outbound.model_validate({"trunk": "provider", **outbound}).dial_rules() == rules


@pytest.mark.parametrize(("outbound", "key", "message"), [
    ("outbound:\n  trunk: provder\n", "outbound.trunk",
     "unknown trunk 'provder'; did you mean 'provider'?"),
    ("outbound:\n  trunk: provider\n  context: from-internal\n", "outbound",
     "give trunk or context, not both"),
    ("outbound:\n  trunk: provider\n  number_format: national\n", "outbound",
     "number_format national needs country_code"),
    ("outbound:\n  trunk: provider\n  number_format: local\n", "outbound.number_format",
     "expected one of 'e164', 'digits' or 'national', got 'local'"),
    ('outbound:\n  trunk: provider\n  caller_id: "0441112233"\n', "outbound.caller_id",
     "0441112233"),
])  # fmt: skip
def test_a_bad_value_is_named_at_its_line_and_key(outbound: str, key: str, message: str) -> None:
    text = _with(outbound)
    (problem,) = check_text(text, "c.yaml").errors
    assert problem.key_path == key
    assert message in problem.message
    assert problem.line >= line_of(text, "outbound:")


def test_callbacks_on_without_a_route_is_a_warning_and_with_one_is_not() -> None:
    report = check_text(_with("", callbacks_on=True), "c.yaml")
    assert report.config is not None
    (warning,) = report.warnings
    assert warning.key_path == "callbacks.enabled"
    assert "no outbound route" in warning.message
    assert check_text(_with("outbound:\n  trunk: provider\n", callbacks_on=True),
                      "c.yaml").warnings == []


def _config(example: str, **outbound: str) -> ClinicConfig:
    data = load_config(ROOT / "config" / example).model_dump(mode="json")
    data["trunks"] = [Trunk(id="provider", host="192.0.2.5:5060", match=["192.0.2.5"]),
                      Trunk(id="voip", host="sip.voip.example", username="clinic77",
                            password="pw", codecs=["g722", "alaw"])]  # fmt: skip
    data["outbound"] = {"caller_id": CALLER_ID, **outbound}
    return ClinicConfig.model_validate(data)


def _asterisk_originate(config: ClinicConfig) -> str:
    dialplan = render_asterisk_config(config)["clinicall_extensions.conf"]
    return dialplan.split("[clinicall-originate]\n", 1)[1].split("\n[", 1)[0]


def test_asterisk_dials_the_trunk_with_the_number_formatted_and_busy_told_on() -> None:
    config = _config("clinic.example.yaml", trunk="provider", number_format="national",
                     country_code="380")
    text = _asterisk_originate(config)
    assert "exten => _+380X.,1,Set(CLINICALL_DIAL_NUMBER=0${EXTEN:4})" in text
    assert "exten => _+X.,1,Set(CLINICALL_DIAL_NUMBER=00${EXTEN:1})" in text
    assert f"exten => dial,1,Set(CALLERID(num)={CALLER_ID})" in text
    assert " same => n,Dial(PJSIP/${CLINICALL_DIAL_NUMBER}@provider)" in text
    assert 'ExecIf($["${DIALSTATUS}" = "BUSY"]?Busy(3))' in text
    assert "exten => _X.,1,Hangup(66)" in text  # not E.164


def test_asterisk_hands_the_number_to_the_pbxs_own_context() -> None:
    text = _asterisk_originate(_config("clinic.example.yaml", context="from-internal",
                                       number_format="digits"))  # fmt: skip
    assert "exten => _+X.,1,Set(CLINICALL_DIAL_NUMBER=${EXTEN:1})" in text
    assert " same => n,Goto(from-internal,${CLINICALL_DIAL_NUMBER},1)" in text
    assert "Dial(" not in text


def test_asterisk_without_a_route_refuses_and_a_simulated_clinic_reaches_its_patient() -> None:
    config = load_config(ROOT / "config" / "clinic.example.yaml")
    assert "exten => _+X.,1,Hangup(66)" in _asterisk_originate(config)
    simulated = render_asterisk_config(config, simulated=True)["clinicall_extensions.conf"]
    assert "Goto(clinicall-sim-patient,s,1)" in simulated
    # a simulated clinic with a route configured dials the route (the trunk tests)
    routed = render_asterisk_config(_config("clinic.example.yaml", trunk="provider"),
                                    simulated=True)["clinicall_extensions.conf"]
    assert "Dial(PJSIP/${CLINICALL_DIAL_NUMBER}@provider)" in routed


def test_an_asterisk_trunk_with_an_account_presents_the_caller_id_in_pai() -> None:
    pjsip = render_asterisk_config(_config("clinic.example.yaml", trunk="voip"))[
        "clinicall_pjsip.conf"]
    voip = pjsip.split("[voip]\n", 1)[1].split("\n[", 1)[0]
    assert re.search(r"^from_user *= *clinic77$", voip, re.M)
    assert re.search(r"^send_pai *= *yes$", voip, re.M)


def _freeswitch_originate(config: ClinicConfig) -> list[ET.Element]:
    root = ET.fromstring(render_freeswitch_config(config).files[inc.CONTEXT])
    context = root.find("context[@name='clinicall_originate']")
    assert context is not None
    return context.findall("extension")


def _steps(extension: ET.Element) -> tuple[str, list[tuple[str | None, str | None]]]:
    condition = extension.find("condition")
    assert condition is not None
    return (condition.get("expression") or "",
            [(a.get("application"), a.get("data")) for a in condition.findall("action")])


def test_freeswitch_bridges_the_trunk_with_its_codecs_and_without_the_greetings_confirm() -> None:
    ip, gateway = (_freeswitch_originate(_config(
        "clinic.freeswitch.example.yaml", trunk=trunk, number_format="national",
        country_code="380")) for trunk in ("provider", "voip"))  # fmt: skip
    (home, home_steps), (abroad, abroad_steps) = (_steps(e) for e in ip)
    assert (home, abroad) == (r"^\+380([0-9]+)$", r"^\+([0-9]+)$")
    unset = [("unset", name) for name in ("group_confirm_key", "group_confirm_file",
                                          "group_confirm_cancel_timeout")]
    assert home_steps == [*unset, ("set", f"effective_caller_id_number={CALLER_ID}"),
                          ("bridge", "[absolute_codec_string='PCMA,PCMU']"
                                     "sofia/internal/0$1@192.0.2.5:5060")]
    assert abroad_steps[-1] == ("bridge", "[absolute_codec_string='PCMA,PCMU']"
                                          "sofia/internal/00$1@192.0.2.5:5060")
    # a trunk with an account goes through its gateway, in its own codecs
    assert _steps(gateway[0])[1][-1] == (
        "bridge", "[absolute_codec_string='G722,PCMA',sip_cid_type=pid]sofia/gateway/voip/0$1")


def test_freeswitch_hands_the_number_to_the_pbxs_own_context_or_refuses() -> None:
    [e164] = _freeswitch_originate(_config("clinic.freeswitch.example.yaml", context="default"))
    assert _steps(e164)[0] == r"^(\+[0-9]+)$"
    assert _steps(e164)[1][-1] == ("transfer", "$1 XML default")
    [refusal] = _freeswitch_originate(load_config(ROOT / "config" /
                                                  "clinic.freeswitch.example.yaml"))
    assert _steps(refusal)[1] == [("hangup", "OUTGOING_CALL_BARRED")]


def test_a_freeswitch_trunk_with_an_account_is_a_gateway_that_does_not_register() -> None:
    files = render_freeswitch_config(_config("clinic.freeswitch.example.yaml",
                                             trunk="voip")).files  # fmt: skip
    [gateway] = ET.fromstring(files[inc.SIP_GATEWAYS]).findall("gateway")
    params = {p.get("name"): p.get("value") for p in gateway.findall("param")}
    assert (gateway.get("name"), params["username"], params["register"]) == (
        "voip", "clinic77", "false")
