"""The private run directory of one sandboxed Asterisk inside a shared root.

Several instances run from the same cached root at once, so everything an instance writes
(config, logs, spool, control socket, astdb, cache) lives in its own directory under
``ROOT/srv/clinicall/``. The package's modules, AGI dir and MoH stay shared. The data dir is
private too so that ``sounds/`` can be extended with generated prompts without touching the
cached root: each core language directory becomes a real directory of symlinks, into which a
``clinicall/`` folder can be dropped, so ``Playback(clinicall/greeting)`` honours
``CHANNEL(language)``.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from clinicall.sandbox.mounts import mounts_under

RUN_BASE = PurePosixPath("/srv/clinicall")
PACKAGE_DATA = PurePosixPath("/usr/share/asterisk")
SUBDIRS = ("etc", "log", "spool", "run", "lib", "cache", "data")
LANGUAGE_ALIASES = {"ru": "ru_RU_f_IvrvoiceRU"}
"""Debian installs the Russian core sounds under this name; Asterisk looks for ``sounds/ru``."""
PROMPT_FOLDER = "clinicall"
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(_[A-Z]{2})?$")
"""A language directory (``en``, ``en_US``), as opposed to a voice name or ``custom``."""


@dataclass(frozen=True)
class RunLayout:
    """Paths of one instance: ``host(...)`` as seen from here, ``inner(...)`` inside the chroot."""

    root: Path
    inner_dir: PurePosixPath

    @property
    def run_dir(self) -> Path:
        return self.host(self.inner_dir)

    def host(self, inner: PurePosixPath) -> Path:
        """The host path of a path as Asterisk sees it inside the chroot."""
        return self.root / inner.relative_to("/")

    def inner(self, host_path: Path) -> PurePosixPath:
        """The path Asterisk sees for a host path inside the root."""
        return PurePosixPath("/") / host_path.relative_to(self.root).as_posix()

    def dir(self, name: str) -> PurePosixPath:
        return self.inner_dir / name

    @property
    def conf_path(self) -> PurePosixPath:
        return self.dir("etc") / "asterisk.conf"

    @property
    def sounds_dir(self) -> Path:
        return self.host(self.dir("data") / "sounds")


def module_dir(root: Path) -> PurePosixPath:
    """Where the package put Asterisk's modules (multiarch path), as seen inside the chroot."""
    found = sorted(root.glob("usr/lib/*/asterisk/modules"))
    if not found:
        return PurePosixPath("/usr/lib/asterisk/modules")
    return PurePosixPath("/") / found[0].relative_to(root).as_posix()


def asterisk_conf(layout: RunLayout, moddir: PurePosixPath) -> str:
    """The instance's asterisk.conf: private writable dirs, the package's modules and MoH."""
    d = layout.dir
    return f"""[directories]
astetcdir => {d("etc")}
astmoddir => {moddir}
astvarlibdir => /var/lib/asterisk
astdbdir => {d("lib")}
astkeydir => /var/lib/asterisk
astdatadir => {d("data")}
astagidir => {PACKAGE_DATA}/agi-bin
astspooldir => {d("spool")}
astrundir => {d("run")}
astlogdir => {d("log")}
astsbindir => /usr/sbin
astcachedir => {d("cache")}

[options]
verbose = 3
hideconnect = yes
"""


def resolve_in_root(root: Path, inner: PurePosixPath) -> Path:
    """Follow symlinks of ``inner`` as the chroot would (absolute targets stay inside root)."""
    path = inner
    for _ in range(40):
        host = root / path.relative_to("/")
        if not host.is_symlink():
            return host
        target = PurePosixPath(os.readlink(host))
        path = target if target.is_absolute() else path.parent / target
    raise OSError(f"too many symlinks resolving {inner} in {root}")


def _mirror_dir(root: Path, source: PurePosixPath, dest: Path) -> None:
    """Make ``dest`` a real directory holding one symlink per entry of ``source``."""
    dest.mkdir(exist_ok=True)
    for entry in sorted(resolve_in_root(root, source).iterdir()):
        link = dest / entry.name
        if not link.exists() and not link.is_symlink():
            link.symlink_to(source / entry.name)


def build_data_dir(layout: RunLayout) -> None:
    """Populate the private astdatadir: shared package data linked, ``sounds/`` made extensible."""
    root = layout.root
    data = layout.host(layout.dir("data"))
    for entry in sorted(resolve_in_root(root, PACKAGE_DATA).iterdir()):
        if entry.name != "sounds":
            (data / entry.name).symlink_to(PACKAGE_DATA / entry.name)
    sounds_inner = PACKAGE_DATA / "sounds"
    sounds = layout.sounds_dir
    sounds.mkdir()
    for entry in sorted(resolve_in_root(root, sounds_inner).iterdir()):
        inner = sounds_inner / entry.name
        if LANGUAGE_CODE.match(entry.name) and resolve_in_root(root, inner).is_dir():
            _mirror_dir(root, inner, sounds / entry.name)
        else:
            (sounds / entry.name).symlink_to(inner)  # custom/, voice-named dirs: shared as is
    for alias, real in LANGUAGE_ALIASES.items():
        if (root / sounds_inner.relative_to("/") / real).is_dir():
            _mirror_dir(root, sounds_inner / real, sounds / alias)
    (sounds / PROMPT_FOLDER).mkdir(exist_ok=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def prune_stale(base: Path) -> None:
    """Remove run dirs left by processes that died without stopping their sandbox."""
    for entry in base.iterdir():
        parts = entry.name.rsplit("-", 2)
        dead = len(parts) == 3 and parts[1].isdigit() and not _pid_alive(int(parts[1]))
        if dead and not mounts_under(entry):
            shutil.rmtree(entry, ignore_errors=True)


def create_layout(root: Path, name: str) -> RunLayout:
    """Create a fresh run directory ``ROOT/srv/clinicall/<name>-<pid>-<n>`` with its subdirs."""
    base = root / RUN_BASE.relative_to("/")
    base.mkdir(parents=True, exist_ok=True)
    prune_stale(base)
    prefix = f"{name}-{os.getpid()}-"
    n = 0
    while True:
        candidate = base / f"{prefix}{n}"
        try:
            candidate.mkdir()
            break
        except FileExistsError:
            n += 1
    layout = RunLayout(root, RUN_BASE / candidate.name)
    for sub in SUBDIRS:
        (candidate / sub).mkdir()
    build_data_dir(layout)
    return layout
