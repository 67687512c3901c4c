"""Where each generated file is included from, and the administrator's files of a fresh install.

clinicall never writes the administrator's ``extensions.conf``, ``pjsip.conf`` and the rest:
each generated ``clinicall_<file>`` is pulled in by one ``#include`` line at the end of the
file it extends (:data:`INCLUDED_FROM`), after that file's ``[general]`` (a generated
``[general](+)`` adds to it).  :func:`instructions` is what ``clinicall asterisk-config``
prints; :func:`fresh_install` is what a freshly installed ``/etc/asterisk`` holds once those
lines are added, which the sandbox and the tests boot, so what is tested is what is installed.
"""

from __future__ import annotations

from collections.abc import Mapping

from clinicall.asterisk_config import modules, quiet
from clinicall.asterisk_config.conffile import document, section

#: Generated file → (the administrator's file that includes it, the sections it must already
#: have before the ``#include``: the ones the generated file extends).
INCLUDED_FROM: dict[str, tuple[str, tuple[str, ...]]] = {
    "clinicall_extensions.conf": ("extensions.conf", ()),
    "clinicall_queues.conf": ("queues.conf", ("general",)),
    "clinicall_pjsip.conf": ("pjsip.conf", ()),
    "clinicall_pjsip_global.conf": ("pjsip.conf", ()),
    "clinicall_manager.conf": ("manager.conf", ("general",)),
    "clinicall_rtp.conf": ("rtp.conf", ("general",)),
    "clinicall_logger.conf": ("logger.conf", ("general",)),
    "clinicall_cdr.conf": ("cdr.conf", ("general", "csv")),
    "clinicall_cdr_manager.conf": ("cdr_manager.conf", ("general",)),
    "clinicall_cel.conf": ("cel.conf", ("general", "manager")),
}
#: Only for a pjsip.conf without a ``type=global`` section of its own.
OPTIONAL = {"clinicall_pjsip_global.conf"}
#: What a fresh install's file holds besides the sections and includes (Debian's logger.conf
#: logs to the console and messages.log).
FRESH_TEXT = {"logger.conf": "[logfiles]\nconsole => notice,warning,error\n"
                             "messages.log => notice,warning,error,verbose(1)\n"}


def include_line(generated: str) -> str:
    return f"#include {generated}"


def instructions(files: Mapping[str, str]) -> str:
    """The lines the administrator adds, file by file, and the modules that must be loaded."""
    out = ["Add at the end of each of your files (after its own sections), once:"]
    for name in sorted(files):
        target, needs = INCLUDED_FROM[name]
        note = ""
        if name in OPTIONAL:
            note = "   (only if it has no type=global section; else add " \
                   "endpoint_identifier_order = username,ip,anonymous to yours)"
        elif needs:
            note = "   (after its " + ", ".join(f"[{s}]" for s in needs) + ")"
        out.append(f"  {target + ':':<18} {include_line(name)}{note}")
    out.append("Then: asterisk -rx 'core reload'.  Modules it needs loaded (autoload loads them; "
               "a noload line must not name one):")
    out.append("  " + ", ".join(modules.names()))
    return "\n".join(out) + "\n"


def _base(target: str, files: Mapping[str, str]) -> str:
    """A fresh install's ``target``: the sections the generated files extend, then includes."""
    names = [n for n in sorted(files) if INCLUDED_FROM[n][0] == target]
    sections = sorted({s for n in names for s in INCLUDED_FROM[n][1]})
    text = "".join(f"[{s}]\n" for s in sections) + FRESH_TEXT.get(target, "")
    return text + "".join(include_line(n) + "\n" for n in names)


def fresh_install(files: Mapping[str, str]) -> dict[str, str]:
    """``/etc/asterisk`` of a fresh install with the include lines added: the generated
    ``files`` plus the administrator's files that include them and the small files core
    modules read at boot (:mod:`.quiet`)."""
    targets = {INCLUDED_FROM[name][0] for name in files}
    out = {**quiet.render(),
           "musiconhold.conf": document(section("default", [("mode", "files"),
                                                            ("directory", "moh")]))}
    out.update({target: _base(target, files) for target in sorted(targets)})
    out.update(files)
    return out
