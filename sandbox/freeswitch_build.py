"""A real FreeSWITCH 1.10.12, built once from pinned sources and cached outside the clone.

``freeswitch_build.sh`` beside this module is the offline build script shipped with the
FreeSWITCH sources this project pins (FreeSWITCH v1.10.12, sofia-sip v1.13.17, spandsp commit
0d2e6ac), kept byte for byte: it names its install prefix after the SHA-256 of the three
source tarballs and of itself, so an unchanged script finds the build it made before (about
260 s on 2 cores the first time, 0.1 s afterwards), and it serialises concurrent builders with
``flock`` on ``<prefix>.lock``.  Because the tarballs are pinned here by SHA-256, that prefix
is known in advance (:data:`PREFIX_NAME`): a machine that has the build needs no sources.

Where the sources come from, in order:

1. ``$CLINICALL_FREESWITCH_SOURCES``: a folder holding the three tarballs;
2. a ``shared/freeswitch/src`` folder beside the repository's folder or one of its parents
   (how the project's test machines ship them; a git worktree may sit deeper);
3. fetched with git from the upstream repositories at the pinned tags and commits, each
   checked against its pinned commit id, and packed the way the shipped tarballs were
   (``git archive``) into ``$CLINICALL_CACHE/freeswitch-src`` (default
   ``/var/cache/clinicall``), where later runs find them.  A tarball found in one of the first
   two folders must match its pinned SHA-256.

This module blocks (it runs the build); from async code call it with ``asyncio.to_thread``.
docs/engines/freeswitch.md, "Provisioning", says the same for a person.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from clinicall.sandbox.errors import SandboxUnavailable
from clinicall.sandbox.rootfs import default_cache_dir

BUILD_SCRIPT = Path(__file__).with_name("freeswitch_build.sh")
REPO_ROOT = Path(__file__).resolve().parents[1]
SHIPPED = Path("shared/freeswitch/src")
SOURCES_ENV = "CLINICALL_FREESWITCH_SOURCES"
PREFIX_ENV = "CLINICALL_FREESWITCH_PREFIX"
PREFIX_NAME = "freeswitch-1.10.12-d386785746f4"
"""``freeswitch_build.sh --print-prefix``'s name for the pinned tarballs and this script."""
BUILD_SCRIPT_SHA256 = "5359bd027c7dc3386be0918923d245279f211b68550afee96340e60a0eb7f942"
"""The script as shipped with the sources: an edited copy would build under another prefix."""
DEFAULT_PREFIX = Path("/var/cache") / PREFIX_NAME
STAMP = ".freeswitch-build-complete"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Source:
    """One pinned source tarball, and where upstream keeps the commit it was made from."""

    filename: str
    sha256: str
    repository: str
    ref: str  # the tag (or, for spandsp, the commit) fetched
    commit: str
    top_dir: str
    excluded: tuple[str, ...] = ()


SOURCES: tuple[Source, ...] = (
    Source("freeswitch-1.10.12.tar.xz",
           "a846ad1fe060a87a109e5db9f66449b3ecb9ffc126578d203d32e79e3bf08f6e",
           "https://github.com/signalwire/freeswitch.git", "v1.10.12",
           "a88d069d6ffb74df797bcaf001f7e63181c07a09", "freeswitch-1.10.12",
           ("libs/libvpx", "libs/libyuv", "libs/win32", "w32", "htdocs", "fonts", "clients",
            "fscomm", "web", "yum", "docs/phrase", "docs/man", "*.sln", "*.yuv", "*.pdf")),
    Source("sofia-sip-1.13.17.tar.xz",
           "b5c77adabe15da423993222e2af828b6a6aab8f673acf7fb5730deef62a86b07",
           "https://github.com/freeswitch/sofia-sip.git", "v1.13.17",
           "6198851a610b7889c17e2d98fb84617bc1dd7aec", "sofia-sip-1.13.17"),
    Source("spandsp-3.0.0-0d2e6ac.tar.xz",
           "2712dd893a9e4993c58082036869779da6063a7124994dcb502765eaf4bfe35b",
           "https://github.com/freeswitch/spandsp.git",
           "0d2e6ac65e0e8f53d652665a743015a88bf048d4",
           "0d2e6ac65e0e8f53d652665a743015a88bf048d4", "spandsp-3.0.0-0d2e6ac",
           ("test-data", "src/msvc")),
)


def default_prefix() -> Path:
    """``$CLINICALL_FREESWITCH_PREFIX`` when set, else the build script's own default."""
    return Path(os.environ.get(PREFIX_ENV) or DEFAULT_PREFIX)


def is_built(prefix: Path) -> bool:
    """True when the build script finished in ``prefix`` (it writes its stamp last)."""
    return (prefix / STAMP).is_file()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def checked_sources(folder: Path) -> bool:
    """True when ``folder`` holds every pinned tarball; a tarball with another SHA-256 is an
    error (a truncated or tampered file must not be built and cached as FreeSWITCH)."""
    present = [folder / s.filename for s in SOURCES if (folder / s.filename).is_file()]
    if len(present) < len(SOURCES):
        return False
    for source in SOURCES:
        actual = sha256_of(folder / source.filename)
        if actual != source.sha256:
            raise SandboxUnavailable(
                f"{folder / source.filename} has SHA-256 {actual}, not the pinned "
                f"{source.sha256}; remove it and provide the pinned tarball")
    return True


def fetched_sources_dir() -> Path:
    return default_cache_dir() / "freeswitch-src"


def find_sources() -> Path | None:
    """The first folder that holds the pinned tarballs (``$CLINICALL_FREESWITCH_SOURCES``,
    then the sources shipped beside the repository, then those fetched before), or None."""
    given = os.environ.get(SOURCES_ENV)
    shipped = [parent / SHIPPED for parent in REPO_ROOT.parents]
    for folder in ([Path(given)] if given else []) + shipped:
        if folder.is_dir() and checked_sources(folder):
            return folder
    fetched = fetched_sources_dir()
    if all((fetched / s.filename).is_file() for s in SOURCES):
        return fetched  # checked by commit id when fetched
    return None


def fetch_sources(dest: Path, progress: Progress) -> Path:
    """Fetch the pinned commits with git and pack them as the shipped tarballs were.

    Raises SandboxUnavailable, in one line saying what is needed, when git or the network is
    missing or a fetched commit is not the pinned one.
    """
    if shutil.which("git") is None or shutil.which("xz") is None:
        raise SandboxUnavailable(_needs("git or xz is not installed"))
    dest.mkdir(parents=True, exist_ok=True)
    for source in SOURCES:
        target = dest / source.filename
        if target.is_file():
            continue
        progress(f"sandbox: fetching {source.repository} at {source.ref}")
        with tempfile.TemporaryDirectory(prefix="clinicall-fs-src-") as work:
            repo = Path(work) / "repo"
            _git(["init", "-q", str(repo)])
            _git(["-C", str(repo), "fetch", "-q", "--depth", "1", source.repository,
                  source.ref])
            commit = _git(["-C", str(repo), "rev-parse", "FETCH_HEAD"]).strip()
            if commit != source.commit:
                raise SandboxUnavailable(
                    f"{source.repository} {source.ref} is commit {commit}, not the pinned "
                    f"{source.commit}; refusing to build it")
            spec = ["."] + [f":(exclude,glob)**/{p}" if p.startswith("*") else f":(exclude){p}"
                            for p in source.excluded]
            tar = Path(work) / "src.tar"
            _git(["-C", str(repo), "archive", "--format=tar", f"--prefix={source.top_dir}/",
                  "-o", str(tar), "FETCH_HEAD", "--", *spec])
            subprocess.run(["xz", "-T1", "-6", str(tar)], check=True)
            shutil.move(f"{tar}.xz", target.with_name(target.name + ".part"))
            os.replace(target.with_name(target.name + ".part"), target)  # whole files only
    return dest


def _git(args: list[str]) -> str:
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, check=True,
                              timeout=1800)
    except subprocess.CalledProcessError as exc:
        reason = (exc.stderr or "").strip().splitlines()[-1:] or ["no output"]
        raise SandboxUnavailable(_needs(f"git {args[0]} failed: {reason[0]}")) from None
    except subprocess.TimeoutExpired:
        raise SandboxUnavailable(_needs("git took over 30 minutes")) from None
    return done.stdout


def _needs(reason: str) -> str:
    names = ", ".join(s.filename for s in SOURCES)
    return (f"FreeSWITCH cannot be built here ({reason}): put {names} (SHA-256 pinned in "
            f"clinicall/sandbox/freeswitch_build.py) in a folder named by ${SOURCES_ENV}, or "
            "allow git to reach github.com, or set CLINICALL_SKIP_FREESWITCH=1 to skip the "
            "real-FreeSWITCH tests")


def ensure_freeswitch(prefix: Path | None = None, *, progress: Progress = print) -> Path:
    """Return a finished FreeSWITCH build, building it on first use.

    A build already in progress (another test run, ``scripts/setup``) is waited for by the
    script's own lock, never started twice.  Raises SandboxUnavailable with what is needed.
    """
    explicit = prefix or (Path(os.environ[PREFIX_ENV]) if os.environ.get(PREFIX_ENV) else None)
    target = explicit or DEFAULT_PREFIX
    if is_built(target):
        return target
    if os.geteuid() != 0:
        raise SandboxUnavailable(
            f"FreeSWITCH is not built in {target}, and building it needs root (its Debian "
            "build dependencies); run scripts/setup as root, or set CLINICALL_SKIP_FREESWITCH=1")
    # Fetched sources are checked by commit id; a pack whose bytes differ from the pinned
    # tarballs (another git or xz version) builds under a prefix of its own.
    sources = find_sources() or fetch_sources(fetched_sources_dir(), progress)
    with tempfile.TemporaryDirectory(prefix="clinicall-fs-build-") as work:
        stage = _stage(Path(work), sources)
        chosen = str(explicit) if explicit is not None else _script_prefix(stage)
        built = Path(chosen)
        if is_built(built):
            return built
        progress(f"sandbox: building FreeSWITCH into {built} (about 5 minutes on 2 cores, "
                 "once; cached afterwards)")
        started = time.monotonic()
        _run_script(stage, [chosen], progress=progress)
        progress(f"sandbox: FreeSWITCH ready in {time.monotonic() - started:.0f} s")
    if not is_built(built):
        raise SandboxUnavailable(f"the FreeSWITCH build finished without its stamp in {built}")
    return built


def find_built() -> Path | None:
    """A finished build for the sources at hand, without building or fetching anything."""
    if is_built(default_prefix()):
        return default_prefix()
    sources = find_sources()
    if sources is None:
        return None
    with tempfile.TemporaryDirectory(prefix="clinicall-fs-build-") as work:
        built = Path(_script_prefix(_stage(Path(work), sources)))
    return built if is_built(built) else None


def _stage(work: Path, sources: Path) -> Path:
    """The script beside a ``src`` link to the sources: where it looks for them."""
    shutil.copyfile(BUILD_SCRIPT, work / "build.sh")
    (work / "src").symlink_to(sources.resolve())
    return work


def _script_prefix(stage: Path) -> str:
    return _run_script(stage, ["--print-prefix"]).strip()


def _run_script(stage: Path, args: list[str], progress: Progress | None = None) -> str:
    lines: list[str] = []
    with subprocess.Popen(["bash", str(stage / "build.sh"), *args], stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                          errors="replace") as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip())
            if progress is not None:
                progress(f"sandbox: {line.rstrip()}")
        rc = proc.wait()
    if rc != 0:
        tail = "\n".join(lines[-30:])
        raise SandboxUnavailable(f"the FreeSWITCH build script failed (exit {rc}):\n{tail}")
    return "\n".join(lines)


def main() -> int:
    """``python -m clinicall.sandbox.freeswitch_build``: provision (scripts/setup runs it)."""
    import sys

    try:
        prefix = ensure_freeswitch(progress=lambda line: print(line, flush=True))
    except SandboxUnavailable as exc:
        print(f"setup: {exc}", file=sys.stderr)
        return 1
    print(f"setup: FreeSWITCH 1.10.12 is built in {prefix}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
