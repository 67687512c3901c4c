"""Provisioning FreeSWITCH without building it: the pinned sources and prefix, the checks on
tarballs and fetched commits, and the include lines put next to their anchors."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

from clinicall.sandbox import freeswitch_build as build
from clinicall.sandbox.errors import SandboxUnavailable
from clinicall.sandbox.freeswitch_conf import ConfError, add_include


def test_the_build_script_is_the_one_shipped_with_the_sources() -> None:
    assert build.sha256_of(build.BUILD_SCRIPT) == build.BUILD_SCRIPT_SHA256


def test_the_pinned_prefix_is_the_one_the_script_names_for_the_pinned_sources() -> None:
    sources = build.find_sources()
    if sources is None:
        pytest.skip("the pinned FreeSWITCH source tarballs are not on this machine")
    with tempfile.TemporaryDirectory() as work:
        named = build._script_prefix(build._stage(Path(work), sources))
    assert Path(named).name == build.PREFIX_NAME


def test_a_tarball_with_another_sha256_is_refused(tmp_path: Path) -> None:
    for source in build.SOURCES[:2]:
        (tmp_path / source.filename).write_bytes(b"not it")
    assert build.checked_sources(tmp_path) is False  # incomplete: not a candidate
    (tmp_path / build.SOURCES[2].filename).write_bytes(b"not it either")
    with pytest.raises(SandboxUnavailable, match="not the pinned"):
        build.checked_sources(tmp_path)


def test_without_git_it_says_in_one_line_what_it_needs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(SandboxUnavailable) as exc:
        build.fetch_sources(tmp_path, print)
    message = str(exc.value)
    assert "\n" not in message
    assert "git or xz is not installed" in message
    assert all(s.filename in message for s in build.SOURCES)
    assert "CLINICALL_SKIP_FREESWITCH=1" in message


def _git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture
def upstream(tmp_path: Path) -> tuple[Path, str]:
    """A local repository with a tag, standing in for an upstream one."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    repo = tmp_path / "upstream"
    (repo / "keep").mkdir(parents=True)
    (repo / "keep" / "a.c").write_text("int a;\n")
    (repo / "w32").mkdir()
    (repo / "w32" / "big.txt").write_text("left out\n")
    (repo / "manual.pdf").write_text("left out\n")
    _git("init", "-q", cwd=repo)
    _git("add", ".", cwd=repo)
    _git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "x", cwd=repo)
    _git("tag", "v1", cwd=repo)
    return repo, _git("rev-parse", "HEAD", cwd=repo)


def test_a_fetched_commit_is_checked_and_packed_like_the_shipped_tarballs(
        tmp_path: Path, upstream: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    repo, commit = upstream
    source = dataclasses.replace(build.SOURCES[0], repository=str(repo), ref="v1",
                                 commit=commit, excluded=("w32", "*.pdf"))
    monkeypatch.setattr(build, "SOURCES", (source,))
    out = build.fetch_sources(tmp_path / "src", lambda line: None)
    with tarfile.open(out / source.filename) as tar:
        names = sorted(m.name for m in tar.getmembers() if m.isfile())
    assert names == [f"{source.top_dir}/keep/a.c"]


def test_a_fetched_commit_other_than_the_pinned_one_is_refused(
        tmp_path: Path, upstream: tuple[Path, str], monkeypatch: pytest.MonkeyPatch) -> None:
    repo, _ = upstream
    source = dataclasses.replace(build.SOURCES[0], repository=str(repo), ref="v1",
                                 commit="0" * 40)
    monkeypatch.setattr(build, "SOURCES", (source,))
    with pytest.raises(SandboxUnavailable, match="not the pinned 0000"):
        build.fetch_sources(tmp_path / "src", lambda line: None)
    assert not (tmp_path / "src" / source.filename).exists()


@dataclasses.dataclass(frozen=True)
class Line:
    file: str
    anchor: str
    after: bool
    line: str


def test_an_include_goes_next_to_an_anchor_found_exactly_once(tmp_path: Path) -> None:
    conf = tmp_path / "queues.xml"
    conf.write_text("<queues>\n</queues>\n")
    add_include(tmp_path, Line("queues.xml", "<queues>", True, "<X/>"))
    add_include(tmp_path, Line("queues.xml", "</queues>", False, "<Y/>"))
    assert conf.read_text() == "<queues>\n<X/>\n<Y/>\n</queues>\n"
    with pytest.raises(ConfError, match="found it 0 times"):
        add_include(tmp_path, Line("queues.xml", "<agents>", True, "<Z/>"))
    conf.write_text("<queues>\n<queues>\n")
    with pytest.raises(ConfError, match="found it 2 times"):
        add_include(tmp_path, Line("queues.xml", "<queues>", True, "<Z/>"))
