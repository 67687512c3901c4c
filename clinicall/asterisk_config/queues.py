"""``clinicall_queues.conf``: one queue per configured queue, and no members.

Operators are dynamic members (``QueueAdd``): a member the config listed would be static, and
Asterisk refuses to ``QueueRemove`` a static member, so nobody could log out of a queue.  The
controller logs operators in to their configured queues at start (``controller/shift_logins``);
``persistentmembers`` keeps who is logged in where across Asterisk restarts
(docs/engines/asterisk.md, "Queue members").

A specialty queue that has somewhere to overflow refuses callers when nobody can take them
(``joinempty``/``leavewhenempty``), so the dialplan moves the caller on at once; a queue that is
anyone's last resort (the fallback route's queue, overflow targets, queues of routes without
overflow) always takes the caller: nobody is hung up on because no operator is logged in.
"""

from __future__ import annotations

from clinicall.asterisk_config.conffile import document, section, yes
from clinicall.settings.models import ASTERISK_STRATEGIES, ClinicConfig, Queue

#: Caller refused/removed when every member is one of these (no one can answer soon).
STRICT_EMPTY = "penalty,paused,invalid,unavailable"
SIM_OPERATORS = "clinicall-sim-operators"


def last_resort_queues(config: ClinicConfig) -> set[str]:
    """Queues that must always accept callers."""
    out = {r.overflow_to for r in config.routes.values() if r.overflow_to}
    out |= {r.queue for r in config.routes.values() if not r.overflow_to}
    fallback = config.routes.get(config.ivr.fallback_route)
    if fallback is not None:
        out.add(fallback.queue)
    return out


def member_interface(operator_id: str, *, simulated: bool) -> str:
    if simulated:
        return f"Local/{operator_id}@{SIM_OPERATORS}/n"
    return f"PJSIP/{operator_id}"


#: The settings Asterisk reads only from queues.conf's ``[general]``, which clinicall needs; they
#: replace the administrator's values there, for their queues too (README, "Asterisk: your
#: config and clinicall's").  Everything a queue can set itself is set per queue instead.
GENERAL_ONLY = (
    ("persistentmembers", "yes"),  # dynamic members (added live) survive an Asterisk restart
    ("shared_lastcall", "yes"),  # an operator in two queues gets their wrap-up in both
    ("log_membername_as_agent", "yes"),  # queue_log's agent field is the operator id
)


def render(config: ClinicConfig, *, simulated: bool) -> str:
    """``simulated`` changes nothing here any more (members are added live, with
    :func:`member_interface`'s interface); kept so every renderer takes the same arguments."""
    general = section("general", GENERAL_ONLY, extend=True,
                      comment="global-only settings clinicall needs: they replace yours, for "
                              "every queue (the rest is set per queue below)")
    last_resort = last_resort_queues(config)
    from clinicall.asterisk_config.dialplan import OFFER_CONTEXT, offers

    exit_context = OFFER_CONTEXT if offers(config) else None
    queues = [_queue(qid, queue, qid in last_resort, exit_context)
              for qid, queue in config.queues.items()]
    return document(general, *queues)


def _queue(qid: str, queue: Queue, last_resort: bool, exit_context: str | None) -> str:
    empty = "no" if last_resort else STRICT_EMPTY
    settings: list[tuple[str, object]] = [
        ("strategy", ASTERISK_STRATEGIES[queue.strategy]), ("timeout", queue.ring_s),
        ("retry", 2),
        ("timeoutpriority", "app"),  # Queue()'s timeout argument (max wait) wins
        ("wrapuptime", queue.wrapup_s), ("servicelevel", queue.service_level_s),
        ("announce-position", yes(queue.announce_position)),
        ("announce-frequency", 60 if queue.announce_position else 0),
        ("announce-holdtime", "no"),
        ("joinempty", "yes" if last_resort else STRICT_EMPTY),
        ("leavewhenempty", empty),
        ("musicclass", "default"), ("autofill", "yes"), ("ringinuse", "no"),
        ("setinterfacevar", "yes"), ("setqueuevar", "yes"), ("setqueueentryvar", "yes"),
        ("reportholdtime", "no"), ("timeoutrestart", "no"),
    ]
    if exit_context:  # a one-digit key with an extension there ends Queue() into it
        settings.append(("context", exit_context))
    note = "last resort: always takes callers" if last_resort else "overflows if nobody answers"
    return section(qid, settings, comment=note)
