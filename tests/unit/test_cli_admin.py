"""The command line as a clinic's administrator meets it: every command with no config, a
mistyped store URL, an empty store and no terminal ends with exit 1 and one clear line (and a
hint), never a traceback, and creates no file; the store commands; the config rule; the last-
resort handler."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from clinicall.cli import COMMANDS, EXIT_CRASH, main, prompt_cache_dir
from clinicall.db import create_engine
from clinicall.settings.location import ENV, NoConfigFound, find_config

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config" / "clinic.example.yaml"
PERIOD = ("--from", "2026-11-01", "--to", "2026-11-02")


def cli(cwd: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """``python -m clinicall ARGS`` in ``cwd``, with no terminal (a new session, stdin closed)
    and no $CLINICALL_CONFIG unless ``env`` gives one."""
    environ = {k: v for k, v in os.environ.items() if k != ENV}
    environ |= {"PYTHONPATH": str(REPO), **(env or {})}
    done = subprocess.run([sys.executable, "-m", "clinicall", *args], cwd=cwd, env=environ,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          start_new_session=True, timeout=60, check=False)
    return done.returncode, done.stdout, done.stderr


def files_in(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


def assert_one_clear_error(code: int, out: str, err: str, words: str) -> None:
    assert "Traceback" not in out + err
    assert code == 1, (out, err)
    lines = err.splitlines()
    assert lines[-2].startswith("clinicall "), err
    assert ": error: " in lines[-2], err
    assert words in lines[-2], err
    assert lines[-1].startswith("  -> "), err


NEEDS_CONFIG = {
    "check-config": ["check-config"],
    "asterisk-config": ["asterisk-config", "--out", "etc-asterisk"],
    "freeswitch-config": ["freeswitch-config", "--out", "etc-freeswitch"],
    "prompts": ["prompts", "--out", "sounds"],
    "run": ["run", "--no-web"],
    "report": ["report", *PERIOD],
    "staffing": ["staffing", "--weeks", "4"],
    "simulate": ["simulate", "--day", "--db", "sqlite:///sim.db"],
    "user list": ["user", "list"],
    "user add": ["user", "add", "maria", "--role", "manager", "--password-env", "PW"],
    "db upgrade": ["db", "upgrade"],
    "db current": ["db", "current"],
    "callbacks list": ["callbacks", "list"],
    "appointments list": ["appointments", "list"],
    "appointments import": ["appointments", "import", "day.csv"],
    "doctor": ["doctor", "--timeout", "1"],
    "recordings import": ["recordings", "import"],
    "recordings retention": ["recordings", "retention"],
    "recordings holds": ["recordings", "holds"],
    "audit verify": ["audit", "verify"],
}


def test_the_walk_covers_every_command() -> None:
    """A new command joins the walk (demo brings its own example config)."""
    assert {args[0] for args in NEEDS_CONFIG.values()} == {c.name for c in COMMANDS} - {"demo"}


@pytest.mark.skipif(Path("/etc/clinicall/clinic.yaml").exists(),
                    reason="this machine has a clinic config where the rule looks")
@pytest.mark.parametrize("command", sorted(NEEDS_CONFIG))
def test_every_command_without_a_config_says_so_and_creates_nothing(
        command: str, tmp_path: Path) -> None:
    code, out, err = cli(tmp_path, *NEEDS_CONFIG[command], env={"PW": "secret pw"})
    assert_one_clear_error(code, out, err, "no clinic config: none given, $CLINICALL_CONFIG "
                           "is not set, and neither /etc/clinicall/clinic.yaml nor "
                           "./clinic.yaml exists")
    assert files_in(tmp_path) == []


STORE_COMMANDS = {
    "report": ["report", *PERIOD],
    "staffing": ["staffing", "--weeks", "4"],
    "simulate": ["simulate", "--day", "--db", "sqlite:///sim.db"],
    "user list": ["user", "list"],
    "user add": ["user", "add", "maria", "--role", "manager", "--password-env", "PW"],
    "db current": ["db", "current"],
    "callbacks list": ["callbacks", "list"],
    "appointments list": ["appointments", "list"],
    "appointments import": ["appointments", "import", "day.csv"],
}


@pytest.mark.parametrize("command", sorted(STORE_COMMANDS))
@pytest.mark.parametrize("where", ["typo.db", "no-such-folder/clinicall.db"])
def test_a_mistyped_store_is_named_and_not_created(command: str, where: str,
                                                   tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / where}"
    code, out, err = cli(tmp_path, *STORE_COMMANDS[command], "--config", str(EXAMPLE),
                         "--db", url, env={"PW": "secret pw"})
    assert_one_clear_error(code, out, err, f"no store at {url}")
    assert "clinicall db upgrade" in err
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("command", sorted({**STORE_COMMANDS, "db upgrade": ["db", "upgrade"],
                                            "run": ["run", "--allow-example-secrets"]}))
def test_a_database_the_store_cannot_use_is_refused_before_anything_opens(
        command: str, tmp_path: Path) -> None:
    args = {**STORE_COMMANDS, "db upgrade": ["db", "upgrade"],
            "run": ["run", "--allow-example-secrets"]}[command]
    code, out, err = cli(tmp_path, *args, "--config", str(EXAMPLE), "--db", "mysql://u:pw@x/db",
                         env={"PW": "secret pw"})
    assert_one_clear_error(code, out, err, "--db: unsupported database 'mysql' in "
                           "'mysql://u:***@x/db'")
    assert files_in(tmp_path) == []


@pytest.mark.parametrize("command", sorted(STORE_COMMANDS))
def test_an_empty_store_is_not_migrated_and_says_which_command_to_run(
        command: str, tmp_path: Path) -> None:
    path = tmp_path / "empty.db"
    path.touch()  # SQLite reads an empty file as a database with no tables
    code, out, err = cli(tmp_path, *STORE_COMMANDS[command], "--config", str(EXAMPLE),
                         "--db", f"sqlite:///{path}", env={"PW": "secret pw"})
    if command == "db current":  # the answer to the question, not an error
        assert (code, err) == (1, "")
        assert out.splitlines()[0].endswith("is not migrated; this version needs "
                                            + _head())
        return
    assert_one_clear_error(code, out, err, "is not migrated (it has no tables yet)")
    assert "run 'clinicall db upgrade' (with the same --config or --db)" in err
    assert path.stat().st_size == 0


def _head() -> str:
    from clinicall.db.status import head_revision

    return head_revision()


def test_doctor_on_a_mistyped_store_names_it_and_creates_nothing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'typo.db'}"
    code, out, err = cli(tmp_path, "doctor", "--config", str(EXAMPLE), "--db", url,
                         "--timeout", "1", "--asterisk-etc", str(tmp_path / "etc"),
                         "--sounds", str(tmp_path / "sounds"))
    assert code == 1
    assert "Traceback" not in out + err
    (store,) = [line for line in out.splitlines() if line.startswith("FAIL  store")]
    assert f"no store at {url}" in store
    assert "clinicall db upgrade" in store
    assert files_in(tmp_path) == []


def test_user_add_without_a_terminal_asks_for_a_password_option(tmp_path: Path) -> None:
    code, out, err = cli(tmp_path, "user", "add", "maria", "--role", "manager", "--db",
                         f"sqlite:///{tmp_path / 'x.db'}")
    assert_one_clear_error(code, out, err, "no terminal to ask for the password")
    assert "--password-file FILE" in err
    assert "--password-env VAR" in err


def test_the_store_is_made_next_to_the_config_and_used_by_every_command(tmp_path: Path) -> None:
    """db upgrade, db current, user add (password from a file and from stdin), user list and
    report on the store the config names, found through $CLINICALL_CONFIG from elsewhere."""
    etc = tmp_path / "etc"
    etc.mkdir()
    config = etc / "clinic.yaml"
    config.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {ENV: str(config)}
    store = etc / "var" / "clinicall.db"

    code, out, err = cli(elsewhere, "db", "current", env=env)
    assert code == 1
    assert f"no store at sqlite+aiosqlite:///{store}" in err
    code, out, err = cli(elsewhere, "db", "upgrade", env=env)
    assert (code, err) == (0, ""), err
    assert out == f"the store sqlite+aiosqlite:///{store} is at revision {_head()} (current)\n"
    assert store.is_file()
    assert cli(elsewhere, "db", "upgrade", env=env)[:2] == (0, out)  # nothing to do
    assert cli(elsewhere, "db", "current", env=env)[:2] == (0, out)

    password = tmp_path / "pw"
    password.write_text("correct horse\nignored\n", encoding="utf-8")
    code, out, err = cli(elsewhere, "user", "add", "maria", "--role", "manager",
                         "--password-file", str(password), env=env)
    assert (code, out) == (0, "added maria (manager)\n"), err
    code, out, err = cli(elsewhere, "user", "list", env=env)
    assert (code, out) == (0, "maria\tmanager\t\n"), err
    code, out, err = cli(elsewhere, "report", *PERIOD, "--by", "", env=env)
    assert code == 0, err
    assert out.startswith("offered [count],")
    assert files_in(elsewhere) == []


def test_password_file_problems_are_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n", encoding="utf-8")
    for path, words in ((tmp_path / "absent", "cannot read the password from"),
                        (empty, "is empty")):
        code, out, err = cli(tmp_path, "user", "add", "maria", "--role", "manager",
                             "--password-file", str(path), "--db",
                             f"sqlite:///{tmp_path / 'x.db'}")
        assert_one_clear_error(code, out, err, words)
    assert not (tmp_path / "x.db").exists()


SECRET_KEYS = ["operators[0].secret", "operators[1].secret", "operators[2].secret",
               "operators[3].secret", "engine.ami_secret"]  # in file order


def _secret_warnings() -> list[str]:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    numbers = [i for i, line in enumerate(lines, 1) if "change-me" in line]
    assert len(numbers) == len(SECRET_KEYS)
    return [f"{EXAMPLE}:{n}: warning: {key}: still the example's 'change-me' secret, which "
            "'clinicall run' refuses; set your own" for n, key in zip(numbers, SECRET_KEYS,
                                                                       strict=True)]


def test_run_refuses_the_example_secrets_each_with_its_line(tmp_path: Path) -> None:
    code, out, err = cli(tmp_path, "run", str(EXAMPLE), "--no-web")
    assert_one_clear_error(code, out, err, "the example's 'change-me' secrets are still set: "
                           + ", ".join(SECRET_KEYS))
    assert err.splitlines()[:-2] == _secret_warnings()
    assert "--allow-example-secrets" in err


def test_run_on_uvloop_without_it_says_what_to_do(tmp_path: Path) -> None:
    hidden = tmp_path / "no-uvloop" / "uvloop"  # uvloop as a machine without it has it
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text('raise ImportError("no module named uvloop")\n')
    code, out, err = cli(tmp_path, "run", str(EXAMPLE), "--no-web", "--loop", "uvloop",
                         env={"PYTHONPATH": f"{hidden.parent}{os.pathsep}{REPO}"})
    assert_one_clear_error(code, out, err, "--loop uvloop: uvloop is not installed")
    assert "pip install uvloop" in err.splitlines()[-1]



def test_check_config_points_at_the_example_secrets(tmp_path: Path) -> None:
    code, out, err = cli(tmp_path, "check-config", str(EXAMPLE))
    assert (code, err) == (0, "")
    first, *rest = out.splitlines()
    assert first.endswith(", 5 warning(s))")
    assert rest == _secret_warnings()


def test_a_changed_config_passes_but_an_example_web_secret_does_not(
        tmp_path: Path) -> None:
    config = tmp_path / "clinic.yaml"
    config.write_text(EXAMPLE.read_text(encoding="utf-8").replace("change-me", "Kx9-own"),
                      encoding="utf-8")
    code, out, err = cli(tmp_path, "run", "--no-web", env={ENV: str(config),
                                                           "CLINICALL_SECRET": "change-me"})
    assert_one_clear_error(code, out, err, "secrets are still set: $CLINICALL_SECRET")


def test_two_different_configs_are_a_usage_error(tmp_path: Path) -> None:
    code, out, err = cli(tmp_path, "check-config", str(EXAMPLE), "--config", "other.yaml")
    assert_one_clear_error(code, out, err, f"two configs given: {EXAMPLE} and --config "
                           "other.yaml")
    assert cli(tmp_path, "check-config", "--config", str(EXAMPLE))[0] == 0


def test_the_rule_is_said_in_help(tmp_path: Path) -> None:
    defaults = "$CLINICALL_CONFIG, else /etc/clinicall/clinic.yaml, else ./clinic.yaml"
    code, out, _ = cli(tmp_path, "--help")
    assert code == 0
    assert f"The clinic config: --config FILE, else {defaults}." in out
    for args in (["run"], ["report"], ["db", "upgrade"], ["user", "add"], ["check-config"]):
        code, out, _ = cli(tmp_path, *args, "--help")
        assert code == 0
        assert f"when none is given: {defaults}" in " ".join(out.split()), args


def test_find_config_follows_the_rule(tmp_path: Path) -> None:
    system, local = tmp_path / "etc.yaml", tmp_path / "local.yaml"
    given = tmp_path / "given.yaml"
    defaults = (system, local)
    with pytest.raises(NoConfigFound):
        find_config(None, {}, defaults=defaults)
    local.touch()
    assert find_config(None, {}, defaults=defaults) == local
    system.touch()
    assert find_config(None, {}, defaults=defaults) == system
    assert find_config(None, {ENV: "/x/named.yaml"}, defaults=defaults) == Path("/x/named.yaml")
    assert find_config(given, {ENV: "/x/named.yaml"}, defaults=defaults) == given


def test_an_unexpected_error_is_one_line_and_a_crash_log(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    import tempfile

    import clinicall.settings

    def broken(path: object) -> object:
        raise RuntimeError("the disk\nfell off")

    monkeypatch.setattr(clinicall.settings, "check_config", broken)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert main(["check-config", str(EXAMPLE)]) == EXIT_CRASH
    err = capsys.readouterr().err.splitlines()
    (log,) = tmp_path.glob("clinicall-crash-*.log")
    assert err == ["clinicall check-config: unexpected error: RuntimeError: the disk fell off",
                   f"  -> the traceback is in {log}; please report it with that file"]
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text
    assert "RuntimeError: the disk" in text
    assert log.stat().st_mode & 0o077 == 0  # the owner's only


def test_the_store_status_of_a_store_from_another_version(tmp_path: Path) -> None:
    """A store migrated by a newer clinicall: said, and not 'run db upgrade'."""
    from clinicall.db.status import StoreNotReady, require_current

    url = f"sqlite+aiosqlite:///{tmp_path / 'newer.db'}"

    async def stamp() -> None:
        from sqlalchemy import text

        engine = create_engine(url)
        try:
            async with engine.begin() as connection:
                await connection.execute(text("CREATE TABLE alembic_version "
                                              "(version_num VARCHAR(32) PRIMARY KEY)"))
                await connection.execute(text("INSERT INTO alembic_version VALUES ('9999')"))
        finally:
            await engine.dispose()

    asyncio.run(stamp())
    with pytest.raises(StoreNotReady) as caught:
        asyncio.run(require_current(url))
    assert "at revision 9999, which this version does not know" in str(caught.value)
    assert caught.value.hint == "run the clinicall version that migrated it"


def test_a_file_that_is_not_a_database_is_named_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"these are not the tables you are looking for\n" * 100)
    before = path.read_bytes()
    code, out, err = cli(tmp_path, "user", "list", "--db", f"sqlite:///{path}")
    assert_one_clear_error(code, out, err, f"cannot open the store sqlite:///{path}: file is "
                           "not a database")
    assert path.read_bytes() == before


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_run_says_what_it_started_without_v_and_stops_on_sigterm(tmp_path: Path) -> None:
    """One line per part on stderr, the web URL, the hint to add a user; exit 0 on SIGTERM."""
    import signal

    agi, http, ami = _free_port(), _free_port(), _free_port()
    text = (EXAMPLE.read_text(encoding="utf-8").replace("change-me", "Kx9-own")
            .replace("  agi_port: 4573\n", f"  agi_port: {agi}\n")
            .replace("  ami_port: 5038\n", f"  ami_port: {ami}\n")  # nobody listens there
            .replace("  port: 8080\n", f"  port: {http}\n"))
    config = tmp_path / "clinic.yaml"
    config.write_text(text, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in (ENV, "CLINICALL_SECRET")}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "clinicall", "run", str(config), cwd=tmp_path,
        env={**env, "PYTHONPATH": str(REPO)}, stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert process.stderr is not None
    said: list[str] = []
    hint = "clinicall run: web console: no user yet; add one with 'clinicall user add NAME " \
           "--role admin'"
    try:
        while hint not in said:
            line = await asyncio.wait_for(process.stderr.readline(), 30)
            assert line, f"run ended early: {said}"
            said.append(line.decode().rstrip("\n"))
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), 30)
    store = f"sqlite+aiosqlite:///{tmp_path}/var/clinicall.db"
    started = [line for line in said if line.startswith("clinicall run: ")]
    # the importer starts only where this host has the PBX's spool (docs/recordings.md)
    spool = Path("/var/spool/asterisk/monitor")
    here = await asyncio.to_thread(spool.is_dir)
    recordings = [f"clinicall run: recordings: imported from {spool} into "
                  "/var/lib/clinicall/recordings every 60 s"] if here else []
    assert started == [
        "clinicall run: event loop uvloop",  # uvloop is a dependency: --loop auto takes it
        f"clinicall run: store: {store} (at revision {_head()})",
        f"clinicall run: engine: Asterisk AMI 127.0.0.1:{ami} as clinicall (connecting in the "
        "background; a failure is logged)",
        f"clinicall run: engine: FastAGI IVR on 127.0.0.1:{agi}, serving 127.0.0.1/32, ::1/128",
        "clinicall run: engine: queue_log /var/log/asterisk/queue_log",
        "clinicall run: keeper: the reports' hourly sums, brought up to date every minute",
        *recordings,
        f"clinicall run: web console: http://127.0.0.1:{http}/",
        hint,
    ]
    assert code == 0


@pytest.mark.parametrize(("args", "words"), [
    (["db", "current"], "cannot open the store postgresql+asyncpg://clinic:***@127.0.0.1:9/x: "),
    (["db", "upgrade"], "cannot migrate the store postgresql+asyncpg://clinic:***@127.0.0.1:9/x: "),
    (["user", "list"], "cannot open the store postgresql+asyncpg://clinic:***@127.0.0.1:9/x: "),
])
def test_a_database_server_that_does_not_answer_is_one_line(
        args: list[str], words: str, tmp_path: Path) -> None:
    url = "postgresql+asyncpg://clinic:hunter22@127.0.0.1:9/x"  # the discard port: refused
    code, out, err = cli(tmp_path, *args, "--db", url)
    assert_one_clear_error(code, out, err, words)
    assert "hunter22" not in out + err


def test_a_reader_that_leaves_early_is_not_a_crash(tmp_path: Path) -> None:
    """``clinicall check-config | head -1``: the pipe closes under the command."""
    command = [sys.executable, "-m", "clinicall", "check-config", str(EXAMPLE)]
    environ = {**os.environ, "PYTHONPATH": str(REPO)}
    with subprocess.Popen(command, cwd=tmp_path, env=environ, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        process.stdout.close()  # before the command writes a byte
        err = process.stderr.read().decode()
        code = process.wait(timeout=60)
    assert err == ""
    assert code == 1
    assert list(tmp_path.iterdir()) == []


def test_prompts_are_cached_outside_the_working_directory(tmp_path: Path) -> None:
    """Run from /, a cache under the working directory would have been /var/cache/prompts."""
    work, cache = tmp_path / "work", tmp_path / "cache"
    work.mkdir()
    code, out, err = cli(work, "prompts", "--config", str(EXAMPLE), "--out", "sounds",
                         env={"CLINICALL_CACHE": str(cache)})
    assert (code, err) == (0, "")
    assert out.endswith(" prompt(s) in sounds\n")
    assert [p.name for p in work.iterdir()] == ["sounds"]
    assert len(list((cache / "prompts").glob("*.wav"))) == int(out.split()[-4])


def test_the_prompt_cache_is_the_demos_as_root_else_the_users(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CLINICALL_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert prompt_cache_dir() == Path("/var/cache/clinicall/prompts")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert prompt_cache_dir() == tmp_path / "clinicall" / "prompts"
