from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from clinicall.settings.models import ClinicConfig

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "clinic.example.yaml"


@pytest.fixture(scope="session")
def config() -> ClinicConfig:
    with EXAMPLE.open(encoding="utf-8") as f:
        return ClinicConfig.model_validate(yaml.safe_load(f))
