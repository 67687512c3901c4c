"""``clinicall user add`` / ``list`` on a real store."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from clinicall.cli import main
from clinicall.db import create_engine, session_factory
from clinicall.db.models import Role, User
from clinicall.web.passwords import token_digest, verify_password


async def _user(url: str, name: str) -> User | None:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            return await session.scalar(select(User).where(User.username == name))
    finally:
        await engine.dispose()


def test_add_with_env_password_and_token_then_list(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ANNA_PW", "s3cret pass")
    code = main(["user", "add", "anna", "--role", "manager", "--password-env", "ANNA_PW",
                 "--token", "--db", db_url])
    out = capsys.readouterr().out
    assert code == 0
    assert "added anna (manager)" in out
    token = out.split("API token (shown once, keep it secret): ")[1].strip()
    user = asyncio.run(_user(db_url, "anna"))
    assert user is not None
    assert user.role is Role.MANAGER
    assert verify_password("s3cret pass", user.password_hash)
    assert user.api_token_hash == token_digest(token)

    assert main(["user", "list", "--db", db_url]) == 0
    listing = capsys.readouterr().out
    assert listing == "anna\tmanager\t token\n"
    assert "s3cret" not in listing


def test_add_prompts_twice_without_env(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter(["pw-one", "pw-two"])
    monkeypatch.setattr("clinicall.cli_store.terminal_present", lambda: True)
    monkeypatch.setattr("getpass.getpass", lambda _prompt: next(answers))
    assert main(["user", "add", "boris", "--role", "operator", "--db", db_url]) == 1
    assert "the passwords differ" in capsys.readouterr().err
    assert asyncio.run(_user(db_url, "boris")) is None
    answers = iter(["pw-one", "pw-one"])
    assert main(["user", "add", "boris", "--role", "operator", "--db", db_url]) == 0
    assert "API token" not in capsys.readouterr().out


def test_duplicate_and_unmigrated(
    db_url: str, empty_db_url: str, tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PW", "x")
    assert main(["user", "add", "c", "--role", "admin", "--password-env", "PW",
                 "--db", db_url]) == 0
    assert main(["user", "add", "c", "--role", "admin", "--password-env", "PW",
                 "--db", db_url]) == 1
    assert "already exists" in capsys.readouterr().err
    missing = tmp_path_factory.mktemp("e") / "missing.db"
    assert main(["user", "list", "--db", f"sqlite+aiosqlite:///{missing}"]) == 1
    assert "no store at " in capsys.readouterr().err
    assert not missing.exists()  # looking did not create it
    if empty_db_url.startswith("sqlite"):  # a file with no tables: an empty database
        asyncio.run(_touch_sqlite(empty_db_url))
    assert main(["user", "list", "--db", empty_db_url]) == 1
    err = capsys.readouterr().err
    assert "is not migrated (it has no tables yet)" in err
    assert "run 'clinicall db upgrade'" in err


async def _touch_sqlite(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect():
            pass
    finally:
        await engine.dispose()
