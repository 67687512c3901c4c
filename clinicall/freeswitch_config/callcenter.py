"""mod_callcenter's queues, agents and tiers, as three files included into the stock
``callcenter.conf.xml``.

A queue is ``<queue id>@clinicall``, an agent is the operator's id, and a tier puts an
operator in a queue at ``level = penalty + 1`` (mod_callcenter rings lower levels first, as
app_queue prefers lower penalties).  The agents start ``Available``, as the operators of the
Asterisk config are static queue members: when the controller is down the fallback queue must
still reach someone; the controller logs operators in and out through
``callcenter_config agent set status`` (docs/engines/freeswitch.md).  A phone that is not
registered is skipped for 5 s, not counted as a missed call.

Like the Asterisk queues (clinicall/asterisk_config/queues.py), a queue with an overflow gives
up on a caller when no agent is logged in (the controller moves the caller on), while a last
resort queue keeps its callers.  Member places follow the time the caller entered the system
(``time-base-score=system``), so a caller moved to an overflow queue keeps their place.
"""

from __future__ import annotations

from clinicall.asterisk_config.queues import last_resort_queues
from clinicall.freeswitch_config.xmlfile import element, fragment, param, raw, value
from clinicall.settings.models import FREESWITCH_STRATEGIES, ClinicConfig, Operator, Queue

#: The queues' domain part: ``ultrasound@clinicall``.
QUEUE_DOMAIN = "clinicall"
#: Seconds a queue with an overflow keeps a caller while no agent is logged in.
NO_AGENT_WAIT_S = 10
DISCARD_ABANDONED_AFTER_S = 60
#: Where a queue call is recorded: FreeSWITCH's own recordings dir, one folder per day of the
#: clinic's calendar, named by the caller's channel uuid (the call's id) only: no caller data
#: reaches a file name.  Stereo: the caller left, the operator right.
RECORD_DAY = "${strftime_tz(%s %%Y/%%m/%%d)}"


def queue_name(queue_id: str) -> str:
    """mod_callcenter's name of a clinic queue (the engine port uses the same)."""
    return f"{queue_id}@{QUEUE_DOMAIN}"


def strategy(queue: Queue) -> str:
    return FREESWITCH_STRATEGIES[queue.strategy]


def record_template(config: ClinicConfig) -> str:
    day = RECORD_DAY % config.clinic.timezone
    return f"$${{recordings_dir}}/{day}/${{uuid}}.wav"


def queues(config: ClinicConfig) -> str:
    last_resort = last_resort_queues(config)
    lines: list[str] = []
    for qid, queue in config.queues.items():
        keeps = qid in last_resort
        params = [
            ("strategy", value(strategy(queue))),
            ("moh-sound", raw("$${hold_music}")),
            ("time-base-score", raw("system")),
            ("max-wait-time", value(queue.max_wait_s)),
            ("max-wait-time-with-no-agent", value(0 if keeps else NO_AGENT_WAIT_S)),
            ("max-wait-time-with-no-agent-time-reached", value(5)),
            ("tier-rules-apply", raw("false")),
            ("discard-abandoned-after", value(DISCARD_ABANDONED_AFTER_S)),
            ("abandoned-resume-allowed", raw("false")),
        ]
        if config.recordings.enabled:
            params.append(("record-template", raw(record_template(config))))
        note = "last resort: keeps its callers" if keeps else "gives callers up to the overflow"
        lines.append(f"  <!-- {qid}: {note} -->")
        lines.append(f"  <queue name={value(queue_name(qid))}>")
        lines += [param(name, quoted, indent=4) for name, quoted in params]
        lines.append("  </queue>")
    return fragment(lines, note="mod_callcenter queues of the clinic")


def _operator_queues(config: ClinicConfig, op: Operator) -> list[Queue]:
    return [config.queues[qid] for qid in op.queues if qid in config.queues]


def agent_contact(op: Operator, ring_s: int) -> str:
    return f"[leg_timeout={ring_s}]user/{op.id}@$${{domain}}"


def agents(config: ClinicConfig) -> str:
    lines = []
    for op in config.operators:
        mine = _operator_queues(config, op) or list(config.queues.values())
        ring_s = max(q.ring_s for q in mine)
        wrapup_s = max(q.wrapup_s for q in mine)
        lines.append(element("agent", [
            ("name", value(op.id)), ("type", raw("callback")),
            ("contact", raw(agent_contact(op, ring_s))), ("status", raw("Available")),
            ("max-no-answer", raw("3")), ("wrap-up-time", value(wrapup_s)),
            ("reject-delay-time", raw("10")), ("busy-delay-time", raw("60")),
        ], indent=2))
    return fragment(lines, note="mod_callcenter agents: the clinic's operators")


def tiers(config: ClinicConfig) -> str:
    lines = []
    for position, op in enumerate(config.operators, start=1):
        for qid, penalty in op.queues.items():
            lines.append(element("tier", [
                ("agent", value(op.id)), ("queue", value(queue_name(qid))),
                ("level", value(penalty + 1)), ("position", value(position)),
            ], indent=2))
    return fragment(lines, note="mod_callcenter tiers: operator, queue, level = penalty + 1")
