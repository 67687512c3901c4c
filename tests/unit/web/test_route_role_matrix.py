"""Every route of the access table × every role and nobody: refused (401 without a login,
403 with a role not in the table) or let through, exactly as ``ACCESS`` says.  Requests carry
a Bearer token (CSRF-exempt), so a refusal here is the access rule's, not the CSRF check's;
what a let-through request then gets (200, 400 for a missing body, 405 ...) is the route's
own business and is tested with it."""

from __future__ import annotations

import re

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from clinicall.db.models import Role
from clinicall.web.access import ACCESS
from clinicall.web.keys import CONFIG

from .web_fixtures import Account

Client = TestClient[web.Request, web.Application]
WHO = [None, *Role]


def _methods(client: Client, path: str) -> list[str]:
    return sorted({route.method for route in client.app.router.routes()
                   if route.resource is not None and route.resource.canonical == path
                   and route.method != "HEAD"})


def _allowed(client: Client, path: str, allowed: frozenset[Role]) -> frozenset[Role]:
    """The access table's roles; downloading a recording is a permission of its own that
    narrows them to the config's ``recordings.download_roles`` (docs/recordings.md)."""
    if path == "/api/recordings/{id}/download":
        download = client.app[CONFIG].recordings.download_roles
        return frozenset(role for role in allowed if role.value in download)
    return allowed


async def test_every_route_and_role_as_the_access_table_says(
    client: Client, accounts: dict[Role, Account]
) -> None:
    checked = 0
    for path, table in sorted(ACCESS.items()):
        allowed = _allowed(client, path, table)
        methods = _methods(client, path)
        assert methods, f"{path} is in the access table but not served"
        for method in methods:
            for role in WHO:
                headers = ({"Authorization": f"Bearer {accounts[role].token}"}
                           if role is not None else {})
                url = re.sub(r"\{[^}]+\}", "1", path)  # a value for each path parameter
                response = await client.request(method, url, headers=headers,
                                                allow_redirects=False)
                status = response.status
                if role is None:
                    assert status in (401, 303), (method, path, "nobody", status)
                elif role in allowed:
                    assert status not in (401, 403), (method, path, role, status)
                else:
                    assert status == 403, (method, path, role, status)
                checked += 1
    assert checked >= len(ACCESS) * len(WHO)


@pytest.mark.parametrize("path", ["/kiosk/wallboard", "/kiosk/ws"])
async def test_kiosk_routes_without_a_token_are_not_found_for_everybody(
    client: Client, accounts: dict[Role, Account], path: str
) -> None:
    for role in WHO:
        headers = ({"Authorization": f"Bearer {accounts[role].token}"}
                   if role is not None else {})
        assert (await client.get(path, headers=headers)).status == 404
