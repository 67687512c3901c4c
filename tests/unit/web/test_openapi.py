"""The OpenAPI document describes every JSON API route the app serves, with the roles the
access table gives it."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient

from clinicall.db.models import Role
from clinicall.web.access import ACCESS
from clinicall.web.openapi import OPERATIONS

from .web_fixtures import Account

Client = TestClient[web.Request, web.Application]


async def test_every_api_route_is_described_with_its_roles(
    client: Client, accounts: dict[Role, Account]
) -> None:
    response = await client.get("/api/openapi.json", headers={
        "Authorization": f"Bearer {accounts[Role.OPERATOR].token}"})
    assert response.status == 200
    doc = await response.json()
    assert doc["openapi"] == "3.1.0"
    served = {(r.resource.canonical, r.method.lower()) for r in client.app.router.routes()
              if r.resource is not None and r.method != "HEAD"
              and r.resource.canonical.startswith(("/api/", "/ws/"))}
    described = {(path, method) for path, ops in doc["paths"].items() for method in ops}
    assert served <= described
    for path, ops in doc["paths"].items():
        for op in ops.values():
            assert op["x-roles"] == sorted(role.value for role in ACCESS[path])
            assert "200" in op["responses"]
    assert set(doc["paths"]) == set(OPERATIONS) & set(ACCESS)
