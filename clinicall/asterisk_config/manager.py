"""``clinicall_manager.conf``: AMI on loopback, one user with only the rights the controller uses.

Included at the end of the administrator's ``manager.conf``: its ``[general](+)`` turns AMI on
at the configured address and port (other AMI users of theirs keep working).

Rights (Asterisk 22 class names), read = events the controller follows:
``call`` (Newchannel, Hangup, CEL), ``agent`` (queue caller/member events), ``agi``
(AGIExecStart/End: which prompts Asterisk played; the filter below keeps them from the
controller, the simulation's observer reads them), ``user``
(UserEvent), ``system`` (FullyBooted, Reload), ``dialplan`` (VarSet: QUEUESTATUS,
MIXMONITOR_FILENAME), ``cdr`` (cdr_manager), ``reporting`` (replies to status actions).
write = actions it sends: ``originate`` (Originate; also ``clinicall doctor``'s probe),
``agent`` (QueueAdd/Remove/Pause), ``call`` (Setvar, Getvar, Hangup, Redirect), ``system`` +
``reporting`` (CoreShowChannels; QueueStatus, QueueSummary and Ping need no right).  Never
``command`` or ``config``.

Within those classes the user gets only the events the controller reads: one ``eventfilter``
line per event (``controller.asterisk.ami_subscription``; docs/engines/asterisk.md, "What the
controller subscribes to").  A simulated clinic (demo, tests) adds an observer user with the
same rights and no filter: the tests' witness of what Asterisk did sees every event.
"""

from __future__ import annotations

from clinicall.asterisk_config.conffile import document, section
from clinicall.controller.asterisk.ami_subscription import controller_filters
from clinicall.settings.models import ClinicConfig

READ = ("system", "call", "agent", "agi", "user", "dialplan", "cdr", "reporting")
WRITE = ("system", "call", "agent", "originate", "reporting")
#: The simulated clinic's observer (demo, tests): every event of the same classes.
OBSERVER_USER = "clinicall-observer"


def render(config: ClinicConfig, *, bind: str, simulated: bool = False) -> str:
    ami = config.asterisk_engine()
    general = section("general", [
        ("enabled", "yes"), ("port", ami.ami_port), ("bindaddr", bind),
        ("timestampevents", "yes"), ("allowmultiplelogin", "yes"),
    ], extend=True)
    rights = [
        ("secret", ami.ami_secret), ("deny", "0.0.0.0/0.0.0.0"),
        ("permit", "127.0.0.1/255.255.255.255"), ("read", ",".join(READ)),
        ("write", ",".join(WRITE)), ("writetimeout", 5000),
    ]
    filters = [f.setting() for f in controller_filters()]
    user = section(ami.ami_user, [*rights, *filters], comment="the controller (clinicall)")
    if not simulated:
        return document(general, user)
    observer = section(OBSERVER_USER, rights, comment="the simulation's observer (every event)")
    return document(general, user, observer)
