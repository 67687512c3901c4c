"""The clinic config: typed models, the loader that reports every problem with its line."""

from clinicall.settings.loader import ConfigReport, check_config, load_config
from clinicall.settings.models import ClinicConfig
from clinicall.settings.problems import ConfigError, ConfigProblem

__all__ = ["ClinicConfig", "ConfigError", "ConfigProblem", "ConfigReport", "check_config",
           "load_config"]
