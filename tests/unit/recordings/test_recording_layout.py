"""The recording layout: one name, built by the dialplan and in Python, read back from Asterisk."""

from __future__ import annotations

import typing
from datetime import date
from pathlib import Path, PurePosixPath

import pytest

from clinicall.asterisk_config import render_asterisk_config
from clinicall.controller.asterisk.recording_layout import (
    FORMATS,
    RecordingName,
    dialplan_filename,
    parse_recording_path,
    recording_path,
)
from clinicall.ivr.prompts import RECORDING_CONSENT, catalog
from clinicall.settings.loader import load_config
from clinicall.settings.models import ClinicConfig, Recordings

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "clinic.example.yaml"
DAY = date(2026, 3, 7)


@pytest.fixture(scope="module")
def config() -> ClinicConfig:
    return load_config(EXAMPLE)


def test_path_is_day_directories_and_linkedid() -> None:
    assert recording_path("1763900000.12", DAY, "ogg") == PurePosixPath(
        "2026/03/07/1763900000.12.ogg"
    )
    assert RecordingName(DAY, "sim-ab12", "wav").path == PurePosixPath("2026/03/07/sim-ab12.wav")


@pytest.mark.parametrize("linkedid", ["", "../etc/passwd", "a/b", ".hidden", "+380501112233 x",
                                      "x;rm -rf", "a" * 65])  # fmt: skip
def test_path_refuses_what_is_not_a_safe_linkedid(linkedid: str) -> None:
    with pytest.raises(ValueError, match="linkedid"):
        recording_path(linkedid, DAY, "ogg")


def test_path_refuses_unknown_format() -> None:
    with pytest.raises(ValueError, match="format"):
        recording_path("1.2", DAY, "mp3")  # type: ignore[arg-type]


def test_dialplan_filename_uses_only_the_clock_and_the_linkedid() -> None:
    assert dialplan_filename("opus", "Europe/Kyiv") == (
        "${STRFTIME(${EPOCH},Europe/Kyiv,%Y/%m/%d)}/${CHANNEL(linkedid)}.opus"
    )
    with pytest.raises(ValueError, match="time zone"):
        dialplan_filename("ogg", "UTC,%s)}${CALLERID(num)")


@pytest.mark.parametrize("fmt", FORMATS)
def test_what_asterisk_reports_reads_back_as_the_same_name(fmt: typing.Any) -> None:
    name = RecordingName(DAY, "1763900000.12", fmt)
    reported = f"/var/spool/asterisk/monitor/{name.path}"  # MIXMONITOR_FILENAME is absolute
    assert parse_recording_path(reported) == name
    assert parse_recording_path(str(name.path)) == name


@pytest.mark.parametrize("path", [
    "", "x.ogg", "07/1.2.ogg", "/spool/2026/03/1.2.ogg", "/spool/2026/13/07/1.2.ogg",
    "/spool/2026/02/30/1.2.ogg", "/spool/26/03/07/1.2.ogg", "/spool/2026/03/07/1.2.mp3",
    "/spool/2026/03/07/1.2", "/spool/2026/03/07/.ogg", "/spool/2026/03/07/+380501112233.ogg",
    "/spool/2026/03/07/a b.ogg",
])  # fmt: skip
def test_paths_off_the_layout_are_not_recordings(path: str) -> None:
    assert parse_recording_path(path) is None


def test_settings_offer_exactly_the_layout_formats() -> None:
    field = Recordings.model_fields["format"].annotation
    assert typing.get_args(field) == FORMATS
    assert Recordings().spool_dir == "/var/spool/asterisk/monitor"


def _call_context(config: ClinicConfig) -> list[str]:
    text = render_asterisk_config(config)["clinicall_extensions.conf"]
    section = text.split("[clinicall-call]", 1)[1].split("\n[", 1)[0]
    return section.split("exten => _+X.", 1)[0].splitlines()  # the first extension


def test_dialplan_records_before_the_first_queue_on_every_path(config: ClinicConfig) -> None:
    lines = _call_context(config)
    record = [i for i, line in enumerate(lines) if "MixMonitor(" in line]
    queues = [i for i, line in enumerate(lines) if "Queue(" in line and "QueueLog" not in line]
    (label,) = [i for i, line in enumerate(lines) if "n(queue)," in line]  # fail-open jumps here
    assert len(record) == 1
    assert label < record[0] < min(queues)
    base = dialplan_filename("ogg", "Europe/Kyiv").removesuffix(".ogg")
    assert lines[record[0] - 1].split(",", 1)[1] == f"Set(CLINICALL_REC={base})"
    step = lines[record[0]].split(",", 1)[1]
    assert step == ("MixMonitor(${CLINICALL_REC}.ogg,"
                    "br(${CLINICALL_REC}-rx.ogg)t(${CLINICALL_REC}-tx.ogg))")


def test_dialplan_gives_mixmonitor_no_caller_data_and_no_command(config: ClinicConfig) -> None:
    text = render_asterisk_config(config)["clinicall_extensions.conf"]
    for line in (line for line in text.splitlines() if "MixMonitor(" in line):
        args = line.split("MixMonitor(", 1)[1].removesuffix(")")
        assert "CALLERID" not in args
        assert "CONNECTEDLINE" not in args
        # The file names and options b, r(), t() only: no post-command (Asterisk would run it
        # in a shell), and the names are the layout's (date and linkedid).
        assert args == ("${CLINICALL_REC}.ogg,"
                        "br(${CLINICALL_REC}-rx.ogg)t(${CLINICALL_REC}-tx.ogg)")
    sets = [line for line in text.splitlines() if "Set(CLINICALL_REC=" in line]
    assert sets
    for line in sets:
        base = dialplan_filename("ogg", "Europe/Kyiv").removesuffix(".ogg")
        assert line.endswith(f"Set(CLINICALL_REC={base})")


def test_consent_notice_plays_before_recording_in_the_callers_language(
    config: ClinicConfig,
) -> None:
    consent = {"uk": "Розмова може записуватися.", "en": "This call may be recorded."}
    with_notice = config.model_copy(
        update={"recordings": Recordings.model_validate({"consent": consent})})
    lines = _call_context(with_notice)
    (notice,) = [i for i, line in enumerate(lines) if "recording_consent" in line]
    (record,) = [i for i, line in enumerate(lines) if "MixMonitor(" in line]
    assert notice < record
    assert 'Playback(clinicall/${IF($["${CLINICALL_LANG}" = ""]?' in lines[notice]
    assert "recording_consent" not in render_asterisk_config(config)["clinicall_extensions.conf"]
    spoken = {(p.language, p.text) for p in catalog(with_notice) if p.key == RECORDING_CONSENT}
    assert spoken == set(consent.items())  # built like every prompt (prompt_build)


def test_mono_recording_is_one_file(config: ClinicConfig) -> None:
    mono = config.model_copy(update={"recordings": Recordings(stereo=False)})
    text = render_asterisk_config(mono)["clinicall_extensions.conf"]
    args = {line.split("MixMonitor(", 1)[1] for line in text.splitlines() if "MixMonitor(" in line}
    assert args == {dialplan_filename("ogg", "Europe/Kyiv") + ",b)"}


def test_recording_can_be_switched_off_or_change_format(config: ClinicConfig) -> None:
    off = config.model_copy(update={"recordings": Recordings(enabled=False)})
    assert "MixMonitor" not in render_asterisk_config(off)["clinicall_extensions.conf"]
    wav = config.model_copy(update={"recordings": Recordings(format="wav")})
    dialplan = render_asterisk_config(wav)["clinicall_extensions.conf"]
    assert "MixMonitor(${CLINICALL_REC}.wav,br(" in dialplan
