"""The web console: login, the manager's dashboard, the live view and the KPI API."""

from clinicall.web.app import build_app

__all__ = ["build_app"]
