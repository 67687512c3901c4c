from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from clinicall.routing.triage import TriageError, fallback, queue_chain, resolve, resolve_all
from clinicall.settings.models import ClinicConfig

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "clinic.example.yaml"


@pytest.fixture(scope="module")
def config() -> ClinicConfig:
    with EXAMPLE.open(encoding="utf-8") as f:
        return ClinicConfig.model_validate(yaml.safe_load(f))


def test_every_route_resolves_to_an_existing_queue(config: ClinicConfig) -> None:
    decisions = resolve_all(config)
    assert set(decisions) == set(config.routes)
    for decision in decisions.values():
        assert decision.queue in config.queues
        assert decision.overflow_queue is None or decision.overflow_queue in config.queues


def test_route_with_overflow_waits_the_overflow_time(config: ClinicConfig) -> None:
    d = resolve(config, "pediatrics")
    assert (d.queue, d.priority, d.max_wait_s) == ("pediatrics", 1, 60)
    assert d.overflow_queue == "universal"


def test_route_without_overflow_waits_the_queue_maximum(config: ClinicConfig) -> None:
    d = resolve(config, "complaint")
    assert (d.queue, d.priority, d.max_wait_s, d.overflow_queue) == ("universal", 2, 600, None)


def test_fallback_is_the_configured_universal_route(config: ClinicConfig) -> None:
    d = fallback(config)
    assert d.route == "operator"
    assert d.queue == "universal"


def test_overflow_chain_ends_in_the_universal_queue(config: ClinicConfig) -> None:
    for route_id in config.routes:
        chain = queue_chain(config, route_id)
        assert chain[-1] == "universal", route_id
        assert len(chain) == len(set(chain))
    assert queue_chain(config, "test_results") == ["therapy", "universal"]


def test_request_carries_the_call_facts(config: ClinicConfig) -> None:
    req = resolve(config, "ultrasound").request(language="ru", path="lang:2/main:1/appointments:1")
    assert req.queue == "ultrasound"
    assert req.max_wait_s == 90
    assert req.language == "ru"
    assert req.route == "ultrasound"
    assert req.path == "lang:2/main:1/appointments:1"


def test_unknown_route_and_unknown_queue_are_errors(config: ClinicConfig) -> None:
    with pytest.raises(TriageError, match="unknown route"):
        resolve(config, "nope")
    routes = dict(config.routes)
    routes["broken"] = routes["complaint"].model_copy(update={"queue": "missing"})
    broken = config.model_copy(update={"routes": routes})
    with pytest.raises(TriageError, match="unknown queue 'missing'"):
        resolve(broken, "broken")
