"""``clinicall_manager.conf``: AMI on loopback, one user with only the rights the controller uses.

Included at the end of the administrator's ``manager.conf``: its ``[general](+)`` turns AMI on
at the configured address and port (other AMI users of theirs keep working).

Rights (Asterisk 22 class names), read = events the controller follows:
``call`` (Newchannel, Hangup, CEL), ``agent`` (queue caller/member events), ``agi``
(AGIExecStart/End: which prompts Asterisk played, for tests and the live view), ``user``
(UserEvent), ``system`` (FullyBooted, Reload), ``dialplan`` (VarSet: QUEUESTATUS,
MIXMONITOR_FILENAME), ``cdr`` (cdr_manager), ``reporting`` (replies to status actions).
write = actions it sends: ``originate`` (Originate; also ``clinicall doctor``'s probe),
``agent`` (QueueAdd/Remove/Pause), ``call`` (Setvar, Getvar, Hangup, Redirect), ``system`` +
``reporting`` (CoreShowChannels; QueueStatus, QueueSummary and Ping need no right).  Never
``command`` or ``config``.
"""

from __future__ import annotations

from clinicall.asterisk_config.conffile import document, section
from clinicall.settings.models import ClinicConfig

READ = ("system", "call", "agent", "agi", "user", "dialplan", "cdr", "reporting")
WRITE = ("system", "call", "agent", "originate", "reporting")


def render(config: ClinicConfig, *, bind: str) -> str:
    ami = config.asterisk_engine()
    general = section("general", [
        ("enabled", "yes"), ("port", ami.ami_port), ("bindaddr", bind),
        ("timestampevents", "yes"), ("allowmultiplelogin", "yes"),
    ], extend=True)
    user = section(ami.ami_user, [
        ("secret", ami.ami_secret), ("deny", "0.0.0.0/0.0.0.0"),
        ("permit", "127.0.0.1/255.255.255.255"), ("read", ",".join(READ)),
        ("write", ",".join(WRITE)), ("writetimeout", 5000),
    ], comment="the controller (clinicall)")
    return document(general, user)
