"""Erlang C and Erlang A: how many operators a queue needs, as pure functions.

Both models take Poisson arrivals (``rate`` calls per second), exponential handle times (mean
``aht`` seconds) and ``agents`` identical operators serving first come, first served.

- **Erlang C** (M/M/N) assumes nobody hangs up: every caller waits until answered.  With the
  offered load A = rate · aht, the probability of waiting is C(N, A) (via Erlang B), the
  service level SL(t) = 1 − C · e^(−(N − A)·t/aht) and the mean wait ASA = C · aht/(N − A);
  with N ≤ A the queue grows without bound (SL 0).
- **Erlang A** (M/M/N+M, Palm) adds exponential patience (mean ``patience`` seconds): a waiting
  caller hangs up at rate θ = 1/patience.  The number in the system is a birth-death chain
  (birth rate λ; death rate min(n, N)·μ + max(n − N, 0)·θ), solved here exactly up to a
  truncation where its probabilities fall below 1e-15.  By PASTA an arriving caller finds the
  stationary state; a caller finding all N busy with j − 1 others waiting moves up at rate
  N·μ + (j − 1)·θ and gives up at rate θ, and the probability that it is *answered within t*
  is the absorption probability of that small chain by time t, computed by uniformization.

Service level here, as in docs/kpi.md, is answered within t / all callers offered (the model
has no short abandons or cut calls).  Small centres see many abandons, which Erlang C ignores:
it then asks for more operators than the calls need (the literature's reason for Erlang A).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Truncation of the birth-death chain and of the uniformization sums.
EPSILON = 1e-15
MAX_STATES = 100_000


class ModelError(ValueError):
    """Parameters a queueing model cannot take (negative rates, no operators, ...)."""


def _check(rate: float, aht: float, agents: int) -> None:
    if rate < 0 or aht <= 0 or agents < 0 or not math.isfinite(rate * aht):
        raise ModelError(f"need rate >= 0, aht > 0, agents >= 0 (got {rate}, {aht}, {agents})")


def erlang_b(agents: int, load: float) -> float:
    """Blocking probability B(N, A) of an M/M/N/N system (the stable recursion)."""
    b = 1.0
    for n in range(1, agents + 1):
        b = load * b / (n + load * b)
    return b


def erlang_c(agents: int, load: float) -> float:
    """Probability that a caller waits, C(N, A); 1 when N ≤ A (the queue is unstable)."""
    if agents <= load:
        return 1.0
    b = erlang_b(agents, load)
    return agents * b / (agents - load * (1.0 - b))


@dataclass(frozen=True, slots=True)
class Performance:
    """What a model predicts for one queue and one number of operators."""

    agents: int
    service_level: float  # answered within t / offered
    wait_probability: float  # a caller finds every operator busy
    abandon_probability: float  # 0 under Erlang C
    asa_s: float  # mean wait of answered callers (inf when unstable)


def erlang_c_performance(rate: float, aht: float, agents: int, t: float) -> Performance:
    """Erlang C's service level, wait probability and ASA (see the module docstring)."""
    _check(rate, aht, agents)
    load = rate * aht
    if agents <= load:
        return Performance(agents, 0.0 if load > 0 else 1.0, 1.0 if load > 0 else 0.0, 0.0,
                           math.inf if load > 0 else 0.0)  # fmt: skip
    c = erlang_c(agents, load)
    sl = 1.0 - c * math.exp(-(agents - load) * t / aht)
    return Performance(agents, sl, c, 0.0, c * aht / (agents - load))


def _stationary(rate: float, mu: float, theta: float, agents: int) -> list[float]:
    """p_n of the M/M/N+M chain, n = 0.. until the tail is negligible (normalized)."""
    weights = [1.0]
    n = 0
    total = 1.0
    while n < MAX_STATES:
        n += 1
        death = min(n, agents) * mu + max(n - agents, 0) * theta  # > 0: θ > 0
        weights.append(weights[-1] * rate / death)
        total += weights[-1]
        if n > agents and weights[-1] < EPSILON * total:
            break
    return [w / total for w in weights]


def _answered_within(first: list[float], mu: float, theta: float, agents: int,
                     t: float) -> tuple[float, float]:  # fmt: skip
    """For waiting callers starting at queue position j (``first[j - 1]`` of them): the
    probability answered within ``t`` and answered at all (uniformization)."""
    k = len(first)
    if k == 0:
        return 0.0, 0.0
    advance = [agents * mu + j * theta for j in range(k)]  # position j + 1 moves up
    uniform = advance[-1] + theta
    ever = 0.0
    prob = 1.0  # answered at all from position j + 1: every step up before giving up
    for j in range(k):
        prob *= advance[j] / (advance[j] + theta)
        ever += first[j] * prob
    if t <= 0:
        return 0.0, ever
    mean = uniform * t
    steps = int(mean + 12 * math.sqrt(mean) + 30)
    position = list(first)  # mass still waiting at each position after m uniformized steps
    served = 0.0  # mass answered within m steps
    within = cdf = 0.0
    log_mean, log_weight = math.log(mean), -mean
    for m in range(steps + 1):
        weight = math.exp(log_weight)  # P(Poisson(mean) = m)
        within, cdf = within + weight * served, cdf + weight
        moved = [0.0] * k
        served += position[0] * advance[0] / uniform
        for j in range(k):
            moved[j] += position[j] * (1.0 - (advance[j] + theta) / uniform)
            if j > 0:
                moved[j - 1] += position[j] * advance[j] / uniform
        position = moved
        log_weight += log_mean - math.log(m + 1)
        if sum(position) < EPSILON:  # everyone answered or gone: ``served`` is final
            break
    # Every later step count m finds ``served`` (to within the mass left, < 1e-15).
    return within + served * max(0.0, 1.0 - cdf), ever


def erlang_a_performance(rate: float, aht: float, patience: float, agents: int,
                         t: float) -> Performance:  # fmt: skip
    """Erlang A's service level, wait and abandon probabilities and ASA (module docstring)."""
    _check(rate, aht, agents)
    if patience <= 0 or not math.isfinite(patience):
        raise ModelError(f"need a finite patience > 0 (got {patience})")
    if rate == 0:
        return Performance(agents, 1.0, 0.0, 0.0, 0.0)
    mu, theta = 1.0 / aht, 1.0 / patience
    p = _stationary(rate, mu, theta, agents)
    waiting = p[agents:]  # found all busy: position j = n - N + 1
    wait_probability = sum(waiting)
    queue_mean = sum(j * q for j, q in enumerate(waiting))  # (n - N) p_n
    abandon = theta * queue_mean / rate
    within, ever = _answered_within(waiting, mu, theta, agents, t)
    answered_waiting = ever
    # ASA: mean wait of answered = E[wait · 1(answered)] / P(answered).  For a caller at
    # position j the expected time to answer given answered is Σ 1/(advance_i + θ).
    # The products and sums run on from one position to the next (the same operations, in
    # the same order, as computing each position's afresh).
    weighted = 0.0
    prob, time = 1.0, 0.0
    for j, q in enumerate(waiting):
        rate_j = agents * mu + j * theta
        prob *= rate_j / (rate_j + theta)
        time += 1.0 / (rate_j + theta)
        weighted += q * prob * time
    answered = (1.0 - wait_probability) + answered_waiting
    sl = (1.0 - wait_probability) + within
    return Performance(agents, sl, wait_probability, abandon,
                       weighted / answered if answered > 0 else 0.0)  # fmt: skip
