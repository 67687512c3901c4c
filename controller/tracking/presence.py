"""Operators' presence in the store: log-in sessions and pauses, from the durable member facts.

The staffing report compares the operators it advises with those who were there
(``agent_sessions``, docs/kpi.md), so every log-in to a queue becomes one session row, closed
by the log-out, and every pause one ``agent_pauses`` row.  Only durable facts count (Asterisk's
queue_log ``ADDMEMBER``, ``REMOVEMEMBER``, ``PAUSE``, ``UNPAUSE``, ``PAUSEALL``,
``UNPAUSEALL``; docs/engines/asterisk.md): the live events say the same again and are lost
while the controller is away, the record is read to its end after every absence.

Written in the reconcile transaction, from the facts themselves, so applying a batch twice (a
cursor read again after a failed commit, a rebuild) changes nothing: a log-in whose session
already exists (same operator, queue and time) and a log-out whose session is already closed
at that time are skipped.  A log-out with no open session (the log-in before the record's
start) and a second log-in while a session is open (the record lost a log-out) keep the
earliest open session; nothing is invented.  An engine restart does not end sessions: members
are persistent across it (``persistentmembers``) and the record logs no new log-in for them.

An operator is an ``agents`` row found by ``interface``, the member's id as the engine's
record names it (with ``log_membername_as_agent=yes``: the operator's id in the config);
created on first sight.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from clinicall.controller.facts import Fact, MemberJoined, MemberLeft, MemberPaused
from clinicall.db.models import Agent, AgentPause, AgentSession

MEMBER_FACTS = (MemberJoined, MemberLeft, MemberPaused)
REASON_LEN = 64


async def write_presence(session: AsyncSession, facts: Iterable[Fact]) -> int:
    """Apply the durable member facts among ``facts`` in order (in the caller's transaction);
    returns how many rows were added or closed."""
    changed = 0
    agents: dict[str, int] = {}
    for fact in facts:
        if not (isinstance(fact, MEMBER_FACTS) and fact.durable and fact.member):
            continue
        agent_id = agents.get(fact.member)
        if agent_id is None:
            agent_id = agents[fact.member] = await _agent_id(session, fact.member)
        if isinstance(fact, MemberJoined):
            changed += await _login(session, agent_id, fact.queue, fact.at)
        elif isinstance(fact, MemberLeft):
            changed += await _logout(session, agent_id, fact.queue, fact.at)
        else:
            changed += await _pause(session, agent_id, fact)
    if changed:
        await session.flush()
    return changed


async def _agent_id(session: AsyncSession, member: str) -> int:
    agent_id = await session.scalar(select(Agent.id).where(Agent.interface == member[:128]))
    if agent_id is None:
        agent = Agent(interface=member[:128], name=member[:128])
        session.add(agent)
        await session.flush()
        agent_id = agent.id
    return agent_id


async def _login(session: AsyncSession, agent_id: int, queue: str, at: datetime) -> int:
    same = select(AgentSession.id).where(AgentSession.agent_id == agent_id,
                                         AgentSession.queue == queue[:64])  # fmt: skip
    if await session.scalar(same.where(AgentSession.login_at == at).limit(1)) is not None:
        return 0  # applied before
    if await session.scalar(same.where(AgentSession.logout_at.is_(None)).limit(1)) is not None:
        return 0  # already logged in: the record lost a log-out; the earliest log-in stands
    session.add(AgentSession(agent_id=agent_id, queue=queue[:64], login_at=at))
    return 1


async def _logout(session: AsyncSession, agent_id: int, queue: str, at: datetime) -> int:
    open_ = await session.scalar(
        select(AgentSession).where(AgentSession.agent_id == agent_id,
                                   AgentSession.queue == queue[:64],
                                   AgentSession.logout_at.is_(None), AgentSession.login_at <= at)
        .order_by(AgentSession.login_at).limit(1)
    )  # fmt: skip
    if open_ is None:
        return 0  # applied before, or logged in before the record began
    open_.logout_at = at
    return 1


async def _pause(session: AsyncSession, agent_id: int, fact: MemberPaused) -> int:
    """A pause opens a row (queue None: every queue); a resume closes the open one of the
    same scope."""
    queue = fact.queue[:64] or None
    scope = AgentPause.queue.is_(None) if queue is None else AgentPause.queue == queue
    mine = select(AgentPause).where(AgentPause.agent_id == agent_id, scope)
    if fact.paused:
        if await session.scalar(mine.where(AgentPause.paused_at == fact.at).limit(1)):
            return 0
        if await session.scalar(mine.where(AgentPause.unpaused_at.is_(None)).limit(1)):
            return 0
        session.add(AgentPause(agent_id=agent_id, queue=queue, paused_at=fact.at,
                               reason=fact.reason[:REASON_LEN]))  # fmt: skip
        return 1
    open_ = await session.scalar(mine.where(AgentPause.unpaused_at.is_(None),
                                            AgentPause.paused_at <= fact.at)
                                 .order_by(AgentPause.paused_at).limit(1))  # fmt: skip
    if open_ is None:
        return 0
    open_.unpaused_at = fact.at
    return 1
