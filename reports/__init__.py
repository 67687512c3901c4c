"""Call-centre KPIs over the store: computation, exports and the Prometheus collector (which
web/ serves).

``compute`` (reports.kpi) is the one entry point; every other part formats its ``Report``.
"""

from clinicall.reports.kpi import compute
from clinicall.reports.table import Column, Report, Section

__all__ = ["Column", "Report", "Section", "compute"]
