from __future__ import annotations

import pytest

from clinicall.ivr.plan import IvrPlan
from clinicall.settings.models import ClinicConfig

from .ivr_fakes import load_example


@pytest.fixture(scope="session")
def config() -> ClinicConfig:
    return load_example()


@pytest.fixture(scope="session")
def plan(config: ClinicConfig) -> IvrPlan:
    return IvrPlan.compile(config)
