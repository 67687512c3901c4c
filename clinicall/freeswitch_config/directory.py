"""The operators' phones as users of FreeSWITCH's default domain, so they can register and
mod_callcenter can ring them (``user/<id>@$${domain}``).  Included inside the stock
``directory/default.xml``'s default group, beside the administrator's own users; an operator
dials through the stock ``default`` context, like the clinic's other phones.
"""

from __future__ import annotations

from clinicall.freeswitch_config.xmlfile import fragment, raw, value
from clinicall.settings.models import ClinicConfig

#: The context an operator's calls go to: the administrator's own (stock) context.
OPERATOR_CONTEXT = "default"


def operators(config: ClinicConfig) -> str:
    lines: list[str] = []
    for op in config.operators:
        variables = [("user_context", OPERATOR_CONTEXT), ("effective_caller_id_name", op.name),
                     ("effective_caller_id_number", op.id)]
        lines += [
            f"  <user id={value(op.id)}>",
            "    <params>",
            f"      <param name=\"password\" value={value(op.secret)}/>",
            "    </params>",
            "    <variables>",
            *[f"      <variable name={raw(k)} value={value(val)}/>" for k, val in variables],
            "    </variables>",
            "  </user>",
        ]
    return fragment(lines, note="the clinic's operators' phones")
