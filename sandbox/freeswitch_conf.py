"""One sandboxed FreeSWITCH's config: the build's vanilla ``conf/``, trimmed to loopback, plus
clinicall's generated files included the way an administrator includes them.

Trimmed (docs/engines/freeswitch.md, "Provisioning"): every address pinned to 127.0.0.1 before
anything reads ``$${local_ip_v4}``; no external or IPv6 SIP profile; no WebSocket bindings
(they listen on every interface); no STUN lookup; a tone as hold music (the build has no
sound files); ``default_password`` changed (the vanilla
dialplan sleeps 10 s on every call while it is 1234); the vanilla event socket moved off 8021
and ClueCon.  The generated files go to ``conf/clinicall/`` and each include line is inserted
next to its anchor in the vanilla file it names, so what the tests load is what the
administrator installs.
"""

from __future__ import annotations

import re
import secrets
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

#: Where the generated files live, relative to the instance's conf dir.
GENERATED_FOLDER = "clinicall"
LOOPBACK = "127.0.0.1"
#: The build has no sound files (the stock hold music folder is empty): a tone instead.
HOLD_TONE = "tone_stream://%(1000,4000,440);loops=-1"
_REMOVED_PROFILES = ("external.xml", "external-ipv6.xml", "internal-ipv6.xml")


class ConfInclude(Protocol):
    """One line an administrator adds to a file of their own (the generator's ``Include``)."""

    @property
    def file(self) -> str: ...  # relative to the conf dir, e.g. autoload_configs/acl.conf.xml
    @property
    def anchor(self) -> str: ...  # text found exactly once in that file
    @property
    def after(self) -> bool: ...  # the line goes after the anchor's line (else before it)
    @property
    def line(self) -> str: ...


class ConfError(Exception):
    """The vanilla config does not look as expected (a pattern or an anchor is missing)."""


def _sub(path: Path, pattern: str, replacement: str, *, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    new, found = re.subn(pattern, replacement, text, count=count)
    if found == 0:
        raise ConfError(f"{path}: pattern not found: {pattern}")
    path.write_text(new, encoding="utf-8")


def trim_vanilla(conf: Path, *, esl_port: int, sip_port: int) -> None:
    """Make the copied vanilla ``conf`` loopback-only with nothing on well-known ports."""
    vars_xml = conf / "vars.xml"
    _sub(vars_xml, r"<include>",
         f'<include>\n  <X-PRE-PROCESS cmd="set" data="local_ip_v4={LOOPBACK}"/>\n'
         '  <X-PRE-PROCESS cmd="set" data="local_ip_v6=::1"/>')
    _sub(vars_xml, r'cmd="set" data="default_password=1234"',
         f'cmd="set" data="default_password={secrets.token_hex(12)}"')
    _sub(vars_xml, r'cmd="(stun-)?set" data="external_rtp_ip=[^"]*"',
         f'cmd="set" data="external_rtp_ip={LOOPBACK}"')
    _sub(vars_xml, r'cmd="(stun-)?set" data="external_sip_ip=[^"]*"',
         f'cmd="set" data="external_sip_ip={LOOPBACK}"')
    _sub(vars_xml, r'data="internal_sip_port=\d+"', f'data="internal_sip_port={sip_port}"')
    _sub(vars_xml, r'data="hold_music=[^"]*"', f'data="hold_music={HOLD_TONE}"')
    profiles = conf / "sip_profiles"
    for name in _REMOVED_PROFILES:
        (profiles / name).unlink(missing_ok=True)
    for name in ("external", "external-ipv6"):
        shutil.rmtree(profiles / name, ignore_errors=True)
    _sub(profiles / "internal.xml", r'\s*<param name="wss?-binding"\s+value="[^"]*"/>', "",
         count=0)
    # The vanilla socket stays in place (the generated settings come after it and win), but
    # on loopback, on this instance's port, with a password nobody knows: if the generated
    # settings were not included, the controller's password would be refused.
    esl = conf / "autoload_configs" / "event_socket.conf.xml"
    _sub(esl, r'name="listen-ip" value="[^"]*"', f'name="listen-ip" value="{LOOPBACK}"')
    _sub(esl, r'name="listen-port" value="[^"]*"', f'name="listen-port" value="{esl_port}"')
    _sub(esl, r'name="password" value="[^"]*"',
         f'name="password" value="{secrets.token_hex(12)}"')


def add_include(conf: Path, include: ConfInclude) -> None:
    """Insert ``include.line`` next to its anchor, as the administrator is told to."""
    path = conf / include.file
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    hits = [i for i, text in enumerate(lines) if include.anchor in text]
    if len(hits) != 1:
        raise ConfError(f"{path}: expected the anchor {include.anchor!r} once, "
                        f"found it {len(hits)} times")
    at = hits[0] + 1 if include.after else hits[0]
    lines.insert(at, include.line.rstrip("\n") + "\n")
    path.write_text("".join(lines), encoding="utf-8")


def install(prefix: Path, conf: Path, generated: Mapping[str, str],
            includes: Sequence[ConfInclude], *, esl_port: int, sip_port: int) -> None:
    """Copy the build's vanilla config to ``conf``, trim it, add the generated files and
    their include lines."""
    shutil.copytree(prefix / "conf", conf)
    trim_vanilla(conf, esl_port=esl_port, sip_port=sip_port)
    folder = conf / GENERATED_FOLDER
    folder.mkdir()
    for name, text in generated.items():
        if "/" in name or name.startswith("."):
            raise ValueError(f"generated file names must be plain names, got {name!r}")
        (folder / name).write_text(text, encoding="utf-8")
    for include in includes:
        add_include(conf, include)
