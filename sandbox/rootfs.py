"""A cached Debian-unstable root holding a real Asterisk 22, built with mmdebstrap.

Debian stable ships no Asterisk; unstable ships 22.x. Building a root takes one to two minutes
(94 s measured on 2 cores) and ~400 MB, so it is cached OUTSIDE the clone
(``$CLINICALL_CACHE`` or ``/var/cache/clinicall``) under a key derived from the package list
and suite. A build goes into a temporary directory, gets its readiness marker, and is then
renamed into place in one step; a lock file serialises concurrent builders of the same key. A
root without its marker is never returned.

This module blocks (it runs a build tool); from async code call it with ``asyncio.to_thread``.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from clinicall.sandbox.errors import SandboxUnavailable
from clinicall.sandbox.mirror import MIRROR_ENV, host_mirror
from clinicall.sandbox.mounts import mounts_under

DEFAULT_PACKAGES: tuple[str, ...] = (
    "asterisk",
    "asterisk-core-sounds-en-gsm",
    "asterisk-core-sounds-ru-gsm",
    "sip-tester",
)
SUITE = "sid"
CACHE_ENV = "CLINICALL_CACHE"
DEFAULT_CACHE = Path("/var/cache/clinicall")
KEYRING = Path("/usr/share/keyrings/debian-archive-keyring.gpg")
MARKER = ".clinicall-root-ready"
LAYOUT_VERSION = 1
"""Bump when the way a root is built changes, so old cached roots are not reused."""

_UNREACHABLE_HINTS = (
    "Failed to fetch",
    "Could not resolve",
    "Temporary failure resolving",
    "Connection failed",
    "Could not connect",
    "Unable to connect",
    "Connection timed out",
    "No route to host",
)

Progress = Callable[[str], None]


def cache_key(packages: Sequence[str], suite: str = SUITE) -> str:
    """A short stable key for a root: same packages and suite, same cached root."""
    blob = json.dumps(
        {"packages": sorted(set(packages)), "suite": suite, "layout": LAYOUT_VERSION},
        sort_keys=True,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def default_cache_dir() -> Path:
    """``$CLINICALL_CACHE`` when set, else ``/var/cache/clinicall``."""
    return Path(os.environ.get(CACHE_ENV) or DEFAULT_CACHE)


def is_ready(root: Path) -> bool:
    """True when ``root`` was completely built (its marker is written last)."""
    return (root / MARKER).is_file()


def mmdebstrap_command(
    packages: Sequence[str], target: Path, mirror: str, suite: str = SUITE
) -> list[str]:
    """The mmdebstrap invocation (kept apart from running it, so it can be read and tested)."""
    source = f"deb [signed-by={KEYRING}] {mirror} {suite} main"
    return [
        "mmdebstrap",
        "--variant=minbase",
        "--mode=root",
        '--aptopt=Acquire::Check-Valid-Until "false"',
        f"--include={','.join(packages)}",
        suite,
        str(target),
        source,
    ]


def _check_prerequisites() -> None:
    """Raise SandboxUnavailable, with the next step to take, when a build cannot work here."""
    if os.geteuid() != 0:
        raise SandboxUnavailable(
            "The Asterisk sandbox needs root (mmdebstrap --mode=root, chroot, bind mounts). "
            "Run the tests as root (e.g. in a container), or set CLINICALL_SKIP_ASTERISK=1 "
            "to skip the real-Asterisk tests."
        )
    if shutil.which("mmdebstrap") is None:
        raise SandboxUnavailable(
            "mmdebstrap is not installed; install it with: apt-get install mmdebstrap"
        )
    if not KEYRING.is_file():
        raise SandboxUnavailable(
            f"The Debian archive keyring {KEYRING} is missing; install it with: "
            "apt-get install debian-archive-keyring"
        )


@contextmanager
def _locked(lock_path: Path, progress: Progress) -> Iterator[None]:
    """Hold an exclusive flock on ``lock_path``; say so when another builder holds it."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress(f"sandbox: another process is building this root; waiting for {lock_path}")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_tree(path: Path) -> None:
    """Delete a half-built root, refusing if anything is still mounted inside it."""
    if not path.exists():
        return
    mounted = mounts_under(path)
    if mounted:
        raise SandboxUnavailable(
            f"Cannot remove {path}: still mounted inside it: {', '.join(mounted)}. "
            "Unmount them (umount -R <path>) and retry."
        )
    shutil.rmtree(path)


def _run_build(command: list[str], progress: Progress) -> tuple[int, list[str]]:
    """Run mmdebstrap, forwarding its ``I:``/``E:``/``W:`` lines as progress; keep all output."""
    lines: list[str] = []
    started = time.monotonic()
    with subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip()
            lines.append(line)
            if line[:2] in ("I:", "E:", "W:"):
                progress(f"sandbox: [{time.monotonic() - started:5.1f}s] {line}")
        return proc.wait(), lines


def _explain_failure(rc: int, lines: list[str], mirror: str) -> SandboxUnavailable:
    tail = "\n".join(lines[-25:])
    if any(hint in line for line in lines for hint in _UNREACHABLE_HINTS):
        return SandboxUnavailable(
            f"The Debian archive at {mirror} is unreachable (mmdebstrap exit {rc}). Check the "
            f"network or apt proxy, or point {MIRROR_ENV} at a reachable Debian mirror.\n{tail}"
        )
    return SandboxUnavailable(f"mmdebstrap failed (exit {rc}) building the Asterisk root:\n{tail}")


def _build(
    packages: Sequence[str], suite: str, building: Path, mirror: str, progress: Progress
) -> None:
    progress(
        f"sandbox: building a Debian {suite} root with {', '.join(packages)} from {mirror} "
        "(one to two minutes, once; cached afterwards)"
    )
    rc, lines = _run_build(mmdebstrap_command(packages, building, mirror, suite), progress)
    if rc != 0:
        raise _explain_failure(rc, lines, mirror)
    if not (building / "usr/sbin/asterisk").is_file():
        raise SandboxUnavailable(f"The built root at {building} has no usr/sbin/asterisk")
    info = {"packages": list(packages), "suite": suite, "mirror": mirror, "built": time.time()}
    (building / MARKER).write_text(json.dumps(info, indent=1) + "\n", encoding="utf-8")


def ensure_root(
    packages: Sequence[str] = DEFAULT_PACKAGES,
    *,
    cache_dir: Path | None = None,
    suite: str = SUITE,
    progress: Progress = print,
) -> Path:
    """Return a ready Debian root with ``packages`` installed, building it on first use.

    Raises SandboxUnavailable (with the next step to take) when not root, when mmdebstrap or the
    archive keyring is missing, or when the Debian archive cannot be reached.
    """
    roots = (cache_dir or default_cache_dir()) / "roots"
    key = cache_key(packages, suite)
    final = roots / f"{suite}-{key}"
    if is_ready(final):
        return final
    _check_prerequisites()
    with _locked(roots / f"{suite}-{key}.lock", progress):
        if is_ready(final):  # another builder finished while we waited
            return final
        for stale in roots.glob(f".build-{suite}-{key}-*"):
            _remove_tree(stale)
        _remove_tree(final)  # a root without its marker is unusable
        building = roots / f".build-{suite}-{key}-{os.getpid()}"
        started = time.monotonic()
        try:
            _build(packages, suite, building, host_mirror(), progress)
            building.rename(final)
        finally:
            _remove_tree(building)  # nothing left there after a successful rename
        progress(f"sandbox: root ready at {final} in {time.monotonic() - started:.1f} s")
    return final
