"""The OpenAPI 3.1 document of the console's JSON API (``GET /api/openapi.json``).

Written here by hand for what each operation takes and answers, with the roles of each taken
from the access table (``web.access.ACCESS``, as ``x-roles``), so the document cannot drift
from what the middleware enforces; a test checks that every ``/api/`` route is described.
Authentication: ``Authorization: Bearer <API token>``, or the session cookie with the
``X-CSRF-Token`` header on a state-changing call (docs/web-security.md).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from clinicall.web.access import ACCESS
from clinicall.web.openapi_review import review_operations

ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _answers(ok: str, schema: dict[str, Any] | None = None, *extra: int) -> dict[str, Any]:
    answers: dict[str, Any] = {"200": {"description": ok, **(_json(schema) if schema else {})},
                               "401": {"description": "not logged in", **_json(ERROR)},
                               "403": {"description": "role not allowed, or CSRF refused",
                                       **_json(ERROR)}}
    texts = {400: "bad input (the message says what)", 404: "no such item",
             409: "not yet possible", 416: "range past the end",
             502: "the phone system refused", 503: "no controller behind the console"}
    for code in extra:
        answers[str(code)] = {"description": texts[code], **_json(ERROR)}
    return answers


def _body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"required": True, **_json({"type": "object", "properties": properties,
                                       "required": required})}


OBJECT = {"type": "object"}
DATE = {"type": "string", "format": "date"}
OPERATIONS: dict[str, dict[str, dict[str, Any]]] = {
    "/api/live": {"get": {"summary": "Queues now, the engine link and the account's health",
                          "responses": _answers("the live view", OBJECT)}},
    "/api/kpi": {"get": {
        "summary": "KPIs of today by queue, or of a period (local dates, both included)",
        "parameters": [{"name": "from", "in": "query", "schema": DATE},
                       {"name": "to", "in": "query", "schema": DATE},
                       {"name": "by", "in": "query", "schema": {"type": "string"},
                        "description": "any of queue,specialty,route,day,hour"}],
        "responses": _answers("the report's sections", OBJECT, 400)}},
    "/api/operator/queue": {"post": {
        "summary": "Log in to (or out of) one of the operator's queues, through the engine",
        "requestBody": _body({"queue": {"type": "string"}, "logged_in": {"type": "boolean"}},
                             ["queue", "logged_in"]),
        "responses": _answers("done", OBJECT, 400, 502, 503)}},
    "/api/operator/pause": {"post": {
        "summary": "Pause with a reason from console.pause_reasons, or resume",
        "requestBody": _body({"paused": {"type": "boolean"}, "reason": {"type": "string"}},
                             ["paused"]),
        "responses": _answers("done", OBJECT, 400, 502, 503)}},
    "/api/operator/calls": {"get": {
        "summary": "The calls this operator took in the last 7 days (their own only)",
        "responses": _answers("the calls", OBJECT, 409)}},
    "/api/operator/disposition": {"post": {
        "summary": "What the operator's call was (console.dispositions), stored on the call",
        "requestBody": _body({"call_id": {"type": "string"},
                              "disposition": {"type": "string"}},
                             ["call_id", "disposition"]),
        "responses": _answers("stored", OBJECT, 400, 409, 503)}},
    # Served by the survey, demand and staffing part (described here so the document is whole
    # once both are in; a path not in the access table is left out).
    "/api/survey": {"get": {
        "summary": "Post-call survey figures of a period",
        "parameters": [{"name": "from", "in": "query", "schema": DATE},
                       {"name": "to", "in": "query", "schema": DATE},
                       {"name": "by", "in": "query", "schema": {"type": "string"}}],
        "responses": _answers("the survey report", OBJECT, 400)}},
    "/api/demand": {"get": {
        "summary": "Demand analytics of a period",
        "parameters": [{"name": "from", "in": "query", "schema": DATE},
                       {"name": "to", "in": "query", "schema": DATE}],
        "responses": _answers("the demand report", OBJECT, 400)}},
    "/api/staffing": {"get": {
        "summary": "Operators needed per queue and hour of week",
        "parameters": [{"name": "from", "in": "query", "schema": DATE},
                       {"name": "to", "in": "query", "schema": DATE},
                       {"name": "sl", "in": "query", "schema": {"type": "number"}},
                       {"name": "t", "in": "query", "schema": {"type": "number"}},
                       {"name": "max_abandon", "in": "query", "schema": {"type": "number"}}],
        "responses": _answers("the staffing advice", OBJECT, 400)}},
    "/api/reports/callbacks": {"get": {
        "summary": "Callback and reminder figures of a period",
        "parameters": [{"name": "from", "in": "query", "schema": DATE},
                       {"name": "to", "in": "query", "schema": DATE}],
        "responses": _answers("the callback figures", OBJECT, 400)}},
    "/api/users": {
        "get": {"summary": "Every user: role, active, live sessions",
                "responses": _answers("the users", OBJECT)},
        "post": {"summary": "Add a user (the password policy applies)",
                 "requestBody": _body({"username": {"type": "string"},
                                       "role": {"type": "string"},
                                       "password": {"type": "string"}},
                                      ["username", "role", "password"]),
                 "responses": {**_answers("never: 201", None, 400, 409),
                               "201": {"description": "added", **_json(OBJECT)}}}},
    "/api/users/{user_id}": {"post": {
        "summary": "Change a user's role, disable, enable or set a password (ends their "
                   "sessions); never one's own",
        "parameters": [{"name": "user_id", "in": "path", "required": True,
                        "schema": {"type": "integer"}}],
        "requestBody": _body({"action": {"enum": ["role", "disable", "enable", "password"]},
                              "role": {"type": "string"}, "password": {"type": "string"}},
                             ["action"]),
        "responses": _answers("done", OBJECT, 400, 404)}},
    "/api/sessions": {"get": {"summary": "The live console sessions",
                              "responses": _answers("the sessions", OBJECT)}},
    "/api/sessions/{session_id}/revoke": {"post": {
        "summary": "End one session",
        "parameters": [{"name": "session_id", "in": "path", "required": True,
                        "schema": {"type": "integer"}}],
        "responses": _answers("ended", OBJECT, 404)}},
    "/api/account/password": {"post": {
        "summary": "Change one's own password (the other sessions end)",
        "requestBody": _body({"current": {"type": "string"}, "new": {"type": "string"}},
                             ["current", "new"]),
        "responses": _answers("changed", OBJECT, 400)}},
    "/api/openapi.json": {"get": {"summary": "This document",
                                  "responses": _answers("OpenAPI 3.1", OBJECT)}},
    "/reports/download": {"get": {
        "summary": "A period's report as clinicall report writes it",
        "parameters": [{"name": "from", "in": "query", "schema": DATE},
                       {"name": "to", "in": "query", "schema": DATE},
                       {"name": "period", "in": "query", "schema": {"type": "string"}},
                       {"name": "by", "in": "query", "schema": {"type": "string"}},
                       {"name": "format", "in": "query",
                        "schema": {"enum": ["csv", "xlsx", "json"]}},
                       {"name": "section", "in": "query",
                        "schema": {"enum": ["queues", "calls", "topics",
                                            "resolution"]}}],
        "responses": _answers("the file", None, 400)}},
    "/ws/wallboard": {"get": {
        "summary": "WebSocket: the wallboard's state, pushed on every change (and every 5 s)",
        "responses": _answers("upgraded to a WebSocket", None)}},
    "/ws/dashboard": {"get": {
        "summary": "WebSocket: the dashboard's live queues and today's KPIs, pushed on every "
                   "change (and every 5 s)",
        "responses": _answers("upgraded to a WebSocket", None)}},
    "/ws/operator": {"get": {
        "summary": "WebSocket: the operator's queues, pause and screen-pop, pushed",
        "responses": _answers("upgraded to a WebSocket", None)}},
}
OPERATIONS.update(review_operations(_answers, _body, _json))


def document() -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for path, operations in OPERATIONS.items():
        if path not in ACCESS:
            continue  # a route of a part this build does not have
        roles = sorted(role.value for role in ACCESS[path])
        paths[path] = {method: {**op, "x-roles": roles} for method, op in operations.items()}
    return {
        "openapi": "3.1.0",
        "info": {"title": "clinicall console API", "version": "1"},
        "paths": paths,
        "components": {
            "schemas": {"Error": {"type": "object", "properties": {
                "error": {"type": "string"},
                "code": {"type": "string",
                         "description": "stable; docs/web-security.md, API errors"}},
                                  "required": ["error", "code"]}},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "clinicall_session",
                            "description": "state-changing calls also need X-CSRF-Token"}}},
        "security": [{"bearer": []}, {"session": []}],
    }


async def openapi_json(_request: web.Request) -> web.Response:
    return web.json_response(document())


def add_routes(app: web.Application) -> None:
    app.router.add_get("/api/openapi.json", openapi_json)
