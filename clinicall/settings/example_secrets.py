"""Secrets still at the example config's ``change-me`` values.

config/clinic.example.yaml ships with ``change-me-…`` secrets so the demo and the tests run
as they are; a clinic that keeps them has an AMI login and operators' SIP passwords that
anyone who read the example knows.  ``clinicall run`` refuses them unless told this is a trial.
"""

from __future__ import annotations

from clinicall.settings.models import AsteriskEngine, ClinicConfig

MARK = "change-me"


def is_example_secret(secret: str) -> bool:
    return MARK in secret.lower()


def example_secrets(config: ClinicConfig) -> list[str]:
    """The keys (as the file spells them) whose secret is still an example one."""
    engine = config.engine
    found = []
    if isinstance(engine, AsteriskEngine):
        if is_example_secret(engine.ami_secret):
            found.append("engine.ami_secret")
    elif is_example_secret(engine.esl_password):
        found.append("engine.esl_password")
    found += [f"operators[{i}].secret" for i, op in enumerate(config.operators)
              if is_example_secret(op.secret)]
    return found
