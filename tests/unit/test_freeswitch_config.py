"""The generated FreeSWITCH config: what each file says, the strategy mapping, the values it
refuses, and the rules for writing it next to an administrator's own files."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from clinicall import generated_files as gen
from clinicall.agi_scripts import variables as v
from clinicall.cli import main
from clinicall.freeswitch_config import includes as inc
from clinicall.freeswitch_config import render_freeswitch_config
from clinicall.freeswitch_config.accounting import FIELDS
from clinicall.freeswitch_config.callcenter import queue_name
from clinicall.freeswitch_config.command import include_dir_for
from clinicall.freeswitch_config.xmlfile import MARK
from clinicall.settings import ClinicConfig, load_config
from clinicall.settings.loader import check_text
from clinicall.settings.models import FREESWITCH_STRATEGIES, EngineMismatch, Trunk

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
EXAMPLE = CONFIG_DIR / "clinic.freeswitch.example.yaml"


@pytest.fixture(scope="module")
def config() -> ClinicConfig:
    return load_config(EXAMPLE)


def parsed(text: str) -> ET.Element:
    """A generated file as XML: its root is the ``include`` the pre-processor unwraps."""
    root = ET.fromstring(text)
    assert root.tag == "include"
    return root


def test_every_file_is_marked_as_generated_and_is_well_formed_xml(config: ClinicConfig) -> None:
    generated = render_freeswitch_config(config)
    included = [i.line.removesuffix('"/>').rsplit("/", 1)[1] for i in generated.includes]
    assert sorted(included) == sorted(generated.files)  # each file included exactly once
    for name, text in generated.files.items():
        assert text.startswith(MARK), name
        parsed(text)


def test_the_numbers_go_into_clinicalls_context(config: ClinicConfig) -> None:
    root = parsed(render_freeswitch_config(config).files[inc.PUBLIC_NUMBERS])
    conditions = root.findall("extension/condition")
    assert [c.get("expression") for c in conditions] == [r"^\+?380441234567$",
                                                         r"^\+?380441234568$"]
    first = [(a.get("application"), a.get("data")) for a in conditions[0]]
    assert first == [("set", "CLINICALL_DIALLED=+380441234567"),
                     ("transfer", "+380441234567 XML clinicall")]


def test_the_call_is_answered_then_handed_to_the_outbound_socket(config: ClinicConfig) -> None:
    root = parsed(render_freeswitch_config(config).files[inc.CONTEXT])
    assert [c.get("name") for c in root.findall("context")] == ["clinicall",
                                                                "clinicall_originate",
                                                                "clinicall_callback"]
    context = root.findall("context")[0]
    call = context.find("extension[@name='clinicall_call']/condition")
    assert call is not None
    steps = [(a.get("application"), a.get("data")) for a in call]
    assert steps == [("set", "accountcode=clinicall"), ("set", "RECORD_STEREO=true"),
                     ("set", "socket_resume=true"), ("answer", None),
                     ("socket", "127.0.0.1:8084 async full"),
                     ("transfer", "clinicall_after_ivr XML clinicall")]


def test_after_the_ivr_the_call_ends_or_falls_back_to_the_default_queue(
        config: ClinicConfig) -> None:
    root = parsed(render_freeswitch_config(config).files[inc.CONTEXT])
    after = root.find("context/extension[@name='clinicall_after_ivr']")
    assert after is not None
    first, outcome = after.findall("condition")
    assert (first.get("field"), first.get("expression")) == ("destination_number",
                                                             "^clinicall_after_ivr$")
    assert outcome.get("field") == "${CLINICALL_OUTCOME}"
    assert outcome.get("expression") == "^(selfserved|afterhours|hangup|callback)$"
    assert [a.get("application") for a in outcome.findall("action")] == ["hangup"]
    fallback = [(a.get("application"), a.get("data")) for a in outcome.findall("anti-action")]
    assert fallback == [("set", f"{v.CLINICALL_OUTCOME}=fallback"),
                        ("set", f"{v.CLINICALL_ROUTE}=operator"),
                        ("set", f"{v.CLINICALL_QUEUE}=universal"),
                        ("callcenter", "universal@clinicall"), ("hangup", None)]


def test_after_the_ivr_the_chosen_queue_then_its_overflow_after_a_timeout(
        config: ClinicConfig) -> None:
    root = parsed(render_freeswitch_config(config).files[inc.CONTEXT])
    names = [e.get("name") for e in root.findall("context/extension")]
    assert names[:6] == ["clinicall_queue_timer", "clinicall_queue", "clinicall_overflow",
                         "clinicall_survey", "clinicall_queue_done",
                         "clinicall_after_ivr"]  # queue before fail-open
    queue = root.find("context/extension[@name='clinicall_queue']")
    assert queue is not None
    _, outcome = queue.findall("condition")
    assert (outcome.get("field"), outcome.get("expression")) == ("${CLINICALL_OUTCOME}",
                                                                 "^queue$")
    assert [(a.get("application"), a.get("data")) for a in outcome] == [
        ("callcenter", "${CLINICALL_QUEUE}@clinicall"),
        ("set", "clinicall_wait_timer=${sched_del(clinicall_wait_${uuid})}"),
        ("transfer", "clinicall_after_queue XML clinicall")]
    overflow = root.find("context/extension[@name='clinicall_overflow']")
    assert overflow is not None
    conditions = overflow.findall("condition")
    assert [(c.get("field"), c.get("expression")) for c in conditions] == [
        ("destination_number", "^clinicall_after_queue$"),
        ("${cc_cancel_reason}/${cc_exit_key}",
         "^(TIMEOUT|NO_AGENT_TIMEOUT)/|^EXIT_WITH_KEY/D$"),
        ("${CLINICALL_OVERFLOW}", "^.+$")]
    assert [(a.get("application"), a.get("data")) for a in conditions[-1]] == [
        ("set", "CLINICALL_QUEUE=${CLINICALL_OVERFLOW}"), ("set", "CLINICALL_OVERFLOW="),
        ("set", "CLINICALL_MAX_WAIT="), ("transfer", "clinicall_after_ivr XML clinicall")]
    originate = root.find("context[@name='clinicall_originate']/extension/condition")
    assert originate is not None  # no outbound route configured yet: refused, as on Asterisk
    assert [(a.get("application"), a.get("data")) for a in originate] == [
        ("hangup", "OUTGOING_CALL_BARRED")]


def test_the_routes_wait_is_a_timer_that_presses_the_exit_key(config: ClinicConfig) -> None:
    """mod_callcenter has no per-caller wait: the route's (CLINICALL_MAX_WAIT) is a sched_api
    task pressing ``D``, deleted by the operator's answer (controller/freeswitch/queue_wait.py)."""
    root = parsed(render_freeswitch_config(config).files[inc.CONTEXT])
    timer = root.find("context/extension[@name='clinicall_queue_timer']")
    assert timer is not None
    assert timer.get("continue") == "true"  # on to clinicall_queue, which joins the queue
    conditions = timer.findall("condition")
    assert [(c.get("field"), c.get("expression")) for c in conditions] == [
        ("destination_number", "^clinicall_after_ivr$"),
        ("${CLINICALL_OUTCOME}", "^queue$"),
        ("${CLINICALL_MAX_WAIT}", "^[1-9][0-9]{0,4}$")]
    assert [(a.get("application"), a.get("data")) for a in conditions[-1]] == [
        ("set", "cc_exit_keys=D"),
        ("set", "api_on_answer=sched_del clinicall_wait_${uuid}"),
        ("set", "cc_export_vars=api_on_answer"),
        ("set", "clinicall_wait_timer=${sched_api(+${CLINICALL_MAX_WAIT} "
                "clinicall_wait_${uuid} uuid_recv_dtmf ${uuid} D)}")]


def queue_params(text: str) -> dict[str, dict[str, str]]:
    return {q.get("name", ""): {p.get("name", ""): p.get("value", "") for p in q}
            for q in parsed(text).findall("queue")}


@pytest.mark.parametrize(("neutral", "engine_name"), sorted(FREESWITCH_STRATEGIES.items()))
def test_each_neutral_strategy_is_written_in_mod_callcenters_name(
        config: ClinicConfig, neutral: str, engine_name: str) -> None:
    queue = config.queues["therapy"].model_copy(update={"strategy": neutral})
    changed = config.model_copy(update={"queues": {**config.queues, "therapy": queue}})
    params = queue_params(render_freeswitch_config(changed).files[inc.QUEUES])
    assert params["therapy@clinicall"]["strategy"] == engine_name


def test_queues_give_up_to_their_overflow_but_the_last_resort_keeps_callers(
        config: ClinicConfig) -> None:
    params = queue_params(render_freeswitch_config(config).files[inc.QUEUES])
    assert set(params) == {queue_name(q) for q in config.queues}
    assert params["ultrasound@clinicall"]["max-wait-time-with-no-agent"] == "10"
    assert params["universal@clinicall"]["max-wait-time-with-no-agent"] == "0"
    assert params["universal@clinicall"]["max-wait-time"] == "600"
    assert params["universal@clinicall"]["time-base-score"] == "system"
    assert params["universal@clinicall"]["record-template"] == (
        "$${recordings_dir}/${strftime_tz(Europe/Kyiv %Y/%m/%d)}/${uuid}.wav")


def test_without_recording_no_queue_records(config: ClinicConfig) -> None:
    off = config.model_copy(update={"recordings": config.recordings.model_copy(
        update={"enabled": False})})
    params = queue_params(render_freeswitch_config(off).files[inc.QUEUES])
    assert all("record-template" not in p for p in params.values())


def test_agents_and_tiers_follow_the_operators(config: ClinicConfig) -> None:
    files = render_freeswitch_config(config).files
    agents = {a.get("name"): a.attrib for a in parsed(files[inc.AGENTS]).findall("agent")}
    assert agents["op102"]["contact"] == "[leg_timeout=20]user/op102@$${domain}"
    assert agents["op102"]["status"] == "Available"
    tiers = {(t.get("agent"), t.get("queue"), t.get("level"))
             for t in parsed(files[inc.TIERS]).findall("tier")}
    assert ("op101", "ultrasound@clinicall", "1") in tiers
    assert ("op101", "universal@clinicall", "2") in tiers
    assert len(tiers) == sum(len(op.queues) for op in config.operators)


def test_the_event_socket_listens_where_configured_for_the_controller_only(
        config: ClinicConfig) -> None:
    files = render_freeswitch_config(config).files
    params = {p.get("name"): p.get("value")
              for p in parsed(files[inc.EVENT_SOCKET]).findall("param")}
    assert params == {"listen-ip": "127.0.0.1", "listen-port": "8021",
                      "password": "change-me-esl", "apply-inbound-acl": "clinicall_esl"}
    (acl,) = parsed(files[inc.ACL]).findall("list")
    assert (acl.get("name"), acl.get("default")) == ("clinicall_esl", "deny")
    assert [(n.get("type"), n.get("cidr")) for n in acl] == [("allow", "127.0.0.1/32"),
                                                           ("allow", "::1/128")]


def test_ip_matched_trunks_are_let_into_the_internal_profile_without_a_login(
        config: ClinicConfig) -> None:
    trunks = [Trunk(id="a", host="192.0.2.1:5060", match=["198.51.100.0/24", "203.0.113.9"]),
              Trunk(id="b", host="192.0.2.2"), Trunk(id="c", host="[2001:db8::5]:5060"),
              Trunk(id="d", host="sip.example.net")]  # a name: sofia's ACLs need ``match``
    files = render_freeswitch_config(config.model_copy(update={"trunks": trunks})).files
    (acl,) = parsed(files[inc.TRUNK_ACL]).findall("list")
    assert (acl.get("name"), acl.get("default")) == ("clinicall_trunks", "deny")
    assert [(n.get("type"), n.get("cidr")) for n in acl] == [
        ("allow", "198.51.100.0/24"), ("allow", "203.0.113.9/32"), ("allow", "192.0.2.2/32"),
        ("allow", "2001:db8::5/128")]
    (setting,) = parsed(files[inc.SIP_PROFILE]).findall("param")
    assert (setting.get("name"), setting.get("value")) == ("apply-inbound-acl",
                                                           "clinicall_trunks")
    # without trunks the list is empty: it denies, and the stock lists decide as before
    (empty,) = parsed(render_freeswitch_config(config).files[inc.TRUNK_ACL]).findall("list")
    assert list(empty) == []


def test_a_registering_trunk_is_a_sofia_gateway_with_the_clinic_number_as_contact(
        config: ClinicConfig) -> None:  # fmt: skip
    trunks = [Trunk(id="voip", host="192.0.2.7:5060", registration=True, username="clinic77",
                    password="pw-77"),
              Trunk(id="ip", host="192.0.2.8"),  # IP-matched: no gateway
              Trunk(id="own", host="192.0.2.9", registration=True, username="u", password="p",
                    contact_user="2345")]  # fmt: skip
    files = render_freeswitch_config(config.model_copy(update={"trunks": trunks})).files
    gateways = parsed(files[inc.SIP_GATEWAYS]).findall("gateway")
    assert [g.get("name") for g in gateways] == ["voip", "own"]
    params = {p.get("name"): p.get("value") for p in gateways[0].findall("param")}
    assert params == {
        "proxy": "192.0.2.7:5060", "realm": "192.0.2.7:5060", "username": "clinic77",
        "password": "pw-77", "register": "true",
        "extension": config.numbers[0].number.removeprefix("+"),
        "extension-in-contact": "true", "context": "public", "expire-seconds": "3600"}
    assert {p.get("name"): p.get("value") for p in gateways[1].findall("param")}[
        "extension"] == "2345"
    # without registering trunks the file holds no gateway
    assert parsed(render_freeswitch_config(config).files[inc.SIP_GATEWAYS]).findall(
        "gateway") == []


def test_the_cdr_template_carries_the_ivr_and_callcenter_variables(
        config: ClinicConfig) -> None:
    (template,) = parsed(render_freeswitch_config(config).files[inc.CDR_TEMPLATE])
    assert template.get("name") == "clinicall"
    assert template.text == ",".join(f'"${{{name}}}"' for name in FIELDS)
    for name in ("uuid", v.CLINICALL_OUTCOME, "cc_queue", "cc_queue_joined_epoch",
                 "cc_queue_answered_epoch", "cc_cause", "cc_cancel_reason", "cc_agent"):
        assert name in FIELDS


def test_operators_get_phones_in_the_default_domain(config: ClinicConfig) -> None:
    users = parsed(render_freeswitch_config(config).files[inc.OPERATORS]).findall("user")
    assert [u.get("id") for u in users] == [op.id for op in config.operators]
    password = users[0].find("params/param[@name='password']")
    assert password is not None
    assert password.get("value") == config.operators[0].secret


def test_values_freeswitch_would_read_as_syntax_are_refused(config: ClinicConfig) -> None:
    for name in ("Ivan ${hangup}", "Ivan $${domain}", "two\nlines"):
        op = config.operators[0].model_copy(update={"name": name})
        hostile = config.model_copy(update={"operators": [op, *config.operators[1:]]})
        with pytest.raises(ValueError, match="cannot contain"):
            render_freeswitch_config(hostile)
    quoted = config.operators[0].model_copy(update={"name": 'O"Neil & <Co>'})
    fine = config.model_copy(update={"operators": [quoted]})
    users = parsed(render_freeswitch_config(fine).files[inc.OPERATORS]).findall("user")
    names = [x.get("value") for x in users[0].findall("variables/variable")]
    assert 'O"Neil & <Co>' in names


def test_an_asterisk_clinic_is_refused() -> None:
    with pytest.raises(EngineMismatch):
        render_freeswitch_config(load_config(CONFIG_DIR / "clinic.example.yaml"))


def test_the_two_example_clinics_differ_only_in_engine_and_recordings() -> None:
    asterisk = load_config(CONFIG_DIR / "clinic.example.yaml")
    freeswitch = load_config(EXAMPLE)
    same = set(ClinicConfig.model_fields) - {"engine", "recordings"}
    assert {k: getattr(asterisk, k) for k in same} == {k: getattr(freeswitch, k) for k in same}


def test_include_lines_name_the_conf_dir_when_the_folder_is_inside_it(tmp_path: Path) -> None:
    (tmp_path / "freeswitch.xml").write_text("<document/>")
    assert include_dir_for(tmp_path / "clinicall") == "$${conf_dir}/clinicall"
    assert include_dir_for(tmp_path / "x" / "y") == str((tmp_path / "x" / "y").resolve())


# -- writing next to the administrator's files ----------------------------------------------

def test_writing_again_changes_nothing_and_a_change_is_rewritten(
        config: ClinicConfig, tmp_path: Path) -> None:
    files = render_freeswitch_config(config).files
    first = gen.apply(gen.plan(tmp_path, files), force=False)
    assert all(line.startswith("wrote ") for line in first)
    again = gen.plan(tmp_path, files)
    assert {p.state for p in again} == {gen.State.SAME}
    assert gen.unified_diff(again) == ""
    changed = {**files, inc.ACL: files[inc.ACL].replace("::1/128", "192.0.2.7/32")}
    planned = gen.plan(tmp_path, changed)
    assert [p.path.name for p in planned if p.state is gen.State.CHANGED] == [inc.ACL]
    shown = gen.unified_diff(planned)
    assert '-    <node type="allow" cidr="::1/128"/>' in shown
    assert '+    <node type="allow" cidr="192.0.2.7/32"/>' in shown
    gen.apply(planned, force=False)
    assert (tmp_path / inc.ACL).read_text() == changed[inc.ACL]
    assert not list(tmp_path.glob("*.bak*"))


def test_a_file_clinicall_did_not_write_is_kept_unless_forced_then_backed_up(
        config: ClinicConfig, tmp_path: Path) -> None:
    files = render_freeswitch_config(config).files
    own = tmp_path / inc.QUEUES
    own.write_text("<include><!-- the administrator's queues --></include>\n")
    with pytest.raises(gen.ForeignFiles) as refused:
        gen.apply(gen.plan(tmp_path, files), force=False)
    assert refused.value.paths == [own]
    assert sorted(p.name for p in tmp_path.iterdir()) == [inc.QUEUES]  # nothing written
    done = gen.apply(gen.plan(tmp_path, files), force=True)
    assert f"wrote {own} (the file that was there is kept as {own}.bak)" in done
    assert (tmp_path / f"{inc.QUEUES}.bak").read_text().startswith("<include><!-- the admin")
    assert own.read_text() == files[inc.QUEUES]
    own.write_text("<include><!-- edited again by hand --></include>\n")
    gen.apply(gen.plan(tmp_path, files), force=True)
    assert (tmp_path / f"{inc.QUEUES}.bak.1").read_text().startswith("<include><!-- edited")
    assert (tmp_path / f"{inc.QUEUES}.bak").read_text().startswith("<include><!-- the admin")


def test_the_command_refuses_in_one_line_and_diff_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "clinicall"
    assert main(["freeswitch-config", str(EXAMPLE), "--out", str(out), "--diff"]) == 0
    assert not out.exists()
    assert f"--- /dev/null\n+++ {out / inc.ACL}\n" in capsys.readouterr().out
    out.mkdir()
    (out / inc.TIERS).write_text("mine\n")
    assert main(["freeswitch-config", str(EXAMPLE), "--out", str(out)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [f"clinicall freeswitch-config: error: not replacing files clinicall did "
                   f"not write (no generated-file header): {out / inc.TIERS}",
                   "  -> move them away, or pass --force (each is kept as NAME.bak)"]
    assert (out / inc.TIERS).read_text() == "mine\n"
    assert main(["freeswitch-config", str(EXAMPLE), "--out", str(out), "--force"]) == 0
    printed = capsys.readouterr().out
    assert f'data="{out.resolve()}/{inc.TIERS}"' in printed  # not in a conf dir: absolute
    assert (out / f"{inc.TIERS}.bak").read_text() == "mine\n"


def test_run_takes_a_freeswitch_clinic_and_refuses_only_the_examples_secrets(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(EXAMPLE)]) == 1
    err = capsys.readouterr().err
    assert "the example's 'change-me' secrets are still set" in err
    assert "engine.esl_password" in err
    assert "then run 'clinicall freeswitch-config' again" in err
    assert "not wired" not in err
    assert "Traceback" not in err


def test_check_config_refuses_freeswitchs_default_password_at_its_line() -> None:
    text = EXAMPLE.read_text(encoding="utf-8").replace("esl_password: change-me-esl",
                                                       "esl_password: ClueCon")
    (problem,) = check_text(text, "clinic.yaml").errors
    line = text.splitlines().index("  esl_password: ClueCon") + 1
    assert (problem.line, problem.key_path) == (line, "engine.esl_password")
    assert "'ClueCon' is FreeSWITCH's default event socket password" in problem.message


def test_the_demo_refuses_an_engine_its_config_is_not_on(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", str(EXAMPLE), "--engine", "asterisk", "--exit"]) == 1
    err = capsys.readouterr().err
    assert f"{EXAMPLE} is a clinic on freeswitch, not asterisk" in err
    assert "leave out --engine" in err
    assert "Traceback" not in err
