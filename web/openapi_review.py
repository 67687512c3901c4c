"""The OpenAPI operations of the review parts: recordings, complaint cases, the access audit
(docs/recordings.md) and callback jobs (docs/callbacks.md).  Kept apart from ``web.openapi``
so each part's routes are described beside the others of their kind; the builders of the
answers and bodies are ``web.openapi``'s, passed in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Builder = Callable[..., dict[str, Any]]

OBJECT = {"type": "object"}
DATE = {"type": "string", "format": "date"}
TEXT = {"type": "string"}


def _query(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    described = {"description": description} if description else {}
    return {"name": name, "in": "query", "schema": schema, **described}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def review_operations(answers: Builder, body: Builder, json: Builder) -> dict[str, Any]:
    """Operations keyed by path and method, in ``web.openapi.OPERATIONS``' shape."""
    created = {"201": {"description": "created", **json(OBJECT)}}
    recording = [_path("id")]
    audio = {"206": {"description": "the requested byte range"}}
    return {
        "/api/recordings": {"get": {
            "summary": "Recordings by the clinic's day, queue, operator, the number's last "
                       "digits and duration (the number itself never leaves the server)",
            "parameters": [_query("from", DATE), _query("to", DATE), _query("queue", TEXT),
                           _query("operator", TEXT),
                           _query("digits", TEXT, "the last digits of the number"),
                           _query("min_s", {"type": "number"}),
                           _query("max_s", {"type": "number"}),
                           _query("topic", TEXT, "the IVR's route"),
                           _query("complaint", {"type": "integer"},
                                  "recordings linked to this complaint case")],
            "responses": answers("the recordings found", OBJECT, 400)}},
        "/api/recordings/{id}/listen": {"post": {
            "summary": "Open a listening session (one audit row) and get its key",
            "parameters": recording,
            "requestBody": body({"reason": TEXT}, []),
            "responses": answers("the session's key", OBJECT, 400, 404)}},
        "/api/recordings/{id}/audio": {"get": {
            "summary": "The browser copy for a listening session, with HTTP Range seeks",
            "parameters": [*recording, _query("listen", TEXT, "the listening session's key")],
            "responses": {**answers("the whole file", None, 400, 404, 416), **audio}}},
        "/api/recordings/{id}/download": {"get": {
            "summary": "The original file, for recordings.download_roles; audited",
            "parameters": [*recording, _query("reason", TEXT)],
            "responses": {**answers("the file", None, 400, 404, 416), **audio}}},
        "/api/recordings/{id}/notes": {
            "get": {"summary": "Reviewers' notes on the recording, by time",
                    "parameters": recording,
                    "responses": answers("the notes", OBJECT, 404)},
            "post": {"summary": "A note at a moment of the recording; audited",
                     "parameters": recording,
                     "requestBody": body({"text": TEXT, "offset_s": {"type": "number"}},
                                         ["text", "offset_s"]),
                     "responses": {**answers("stored", OBJECT, 400, 404), **created}}},
        "/api/recordings/{id}/timeline": {"get": {
            "summary": "The call behind the recording, step by step (IVR, queues, rings, "
                       "talk, transfers, end), each with its offset from the recording's start",
            "parameters": recording,
            "responses": answers("the steps", OBJECT, 404)}},
        "/api/recordings/{id}/hold": {"post": {
            "summary": "Hold the recording against retention (a legal hold); audited",
            "parameters": recording,
            "requestBody": body({"reason": TEXT}, ["reason"]),
            "responses": {**answers("held", OBJECT, 400, 404, 409), **created}}},
        "/api/recordings/{id}/hold/release": {"post": {
            "summary": "Release the recording's hold; retention may then take it; audited",
            "parameters": recording,
            "requestBody": body({"reason": TEXT}, ["reason"]),
            "responses": answers("released", OBJECT, 400, 404, 409)}},
        "/api/holds": {"get": {
            "summary": "The open legal holds: the recording, who held it, when and why",
            "responses": answers("the holds", OBJECT)}},
        "/api/complaints": {
            "get": {"summary": "Complaint cases with their deadlines (overdue flagged)",
                    "responses": answers("the cases", OBJECT)},
            "post": {"summary": "Open a case by hand (a letter, a review site)",
                     "requestBody": body({"summary": TEXT, "topic": TEXT, "phone": TEXT,
                                          "call_id": {"type": "integer"}}, ["summary"]),
                     "responses": {**answers("opened", OBJECT, 400), **created}}},
        "/api/complaints/report": {"get": {
            "summary": "Complaint cases opened in the period per queue and topic: counts, "
                       "overdue now, time to acknowledge and to resolve (p50/p90)",
            "parameters": [_query("from", DATE), _query("to", DATE)],
            "responses": answers("the report", OBJECT, 400)}},
        "/api/complaints/{id}/state": {"post": {
            "summary": "Move a case one step: new, acknowledged, investigating, resolved, "
                       "reviewed",
            "parameters": [_path("id")],
            "requestBody": body({"state": TEXT, "note": TEXT}, ["state"]),
            "responses": answers("the case", OBJECT, 400, 404)}},
        "/api/complaints/{id}/calls": {"post": {
            "summary": "Link a call (and its recordings) to a case",
            "parameters": [_path("id")],
            "requestBody": body({"call_id": {"type": "integer"}}, ["call_id"]),
            "responses": answers("linked", OBJECT, 400, 404)}},
        "/api/complaints/{id}": {"get": {
            "summary": "The case file: the case, participants, every event, its calls and "
                       "recordings, the reply sent",
            "parameters": [_path("id")],
            "responses": answers("the case file", OBJECT, 404)}},
        "/api/complaints/{id}/notes": {"post": {
            "summary": "A note on a case", "parameters": [_path("id")],
            "requestBody": body({"note": TEXT}, ["note"]),
            "responses": answers("added", OBJECT, 400, 404)}},
        "/api/complaints/{id}/reply": {"post": {
            "summary": "What the patient was sent", "parameters": [_path("id")],
            "requestBody": body({"reply": TEXT}, ["reply"]),
            "responses": answers("stored", OBJECT, 400, 404)}},
        "/api/complaints/{id}/owner": {"post": {
            "summary": "Who runs the case", "parameters": [_path("id")],
            "requestBody": body({"username": TEXT}, ["username"]),
            "responses": answers("set", OBJECT, 400, 404)}},
        "/api/complaints/{id}/calls/by-number": {"post": {
            "summary": "Link every call from a number on a day (the clinic's zone) and their "
                       "recordings",
            "parameters": [_path("id")],
            "requestBody": body({"number": TEXT, "date": DATE}, ["number", "date"]),
            "responses": answers("linked", OBJECT, 400, 404)}},
        "/api/operator/complaint": {"post": {
            "summary": "The operator flags the call they took as a complaint: a case is "
                       "opened for it (or the one it has is returned)",
            "requestBody": body({"call_id": TEXT, "note": TEXT}, ["call_id"]),
            "responses": {**answers("the call's existing case", OBJECT, 400, 409),
                          **created}}},
        "/api/audit": {"get": {
            "summary": "The recordings access audit, oldest first, a page after a row id",
            "parameters": [_query("after", {"type": "integer"})],
            "responses": answers("a page of audit rows", OBJECT, 400)}},
        "/api/audit.csv": {"get": {"summary": "The whole access audit as CSV",
                                   "responses": answers("the CSV file", None)}},
        "/api/callbacks": {"get": {
            "summary": "Callback jobs by state (numbers masked unless the role sees them whole)",
            "parameters": [_query("state", TEXT, "comma-separated job states"),
                           _query("queue", TEXT, "comma-separated queue ids"),
                           _query("limit", {"type": "integer"})],
            "responses": answers("the jobs", OBJECT, 400)}},
        "/api/callbacks/{job}": {"get": {
            "summary": "A callback job with its attempts",
            "parameters": [_path("job")],
            "responses": answers("the job", OBJECT, 400, 404)}},
        "/api/callbacks/{job}/cancel": {"post": {
            "summary": "Cancel an open callback job",
            "parameters": [_path("job")],
            "responses": answers("cancelled", OBJECT, 400, 404, 409)}},
        "/api/appointments": {"get": {
            "summary": "A day's appointments (tomorrow by default, the clinic's zone) with the "
                       "reminder's result; risk=1: only the unconfirmed ones (no-show risk)",
            "parameters": [_query("date", DATE), _query("risk", {"enum": ["0", "1"]})],
            "responses": answers("the appointments", OBJECT, 400)}},
        "/api/appointments/{external_id}": {"put": {
            "summary": "Create or update one appointment, idempotent by the clinic's external "
                       "id (201 created; 200 updated or unchanged); starts_at in the clinic's "
                       "zone unless it has an offset",
            "parameters": [{"name": "external_id", "in": "path", "required": True,
                            "schema": {"type": "string",
                                       "pattern": "^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$"}}],
            "requestBody": body({"phone": TEXT, "language": TEXT, "doctor": TEXT,
                                 "specialty": TEXT, "starts_at": TEXT},
                                ["phone", "language", "doctor", "specialty", "starts_at"]),
            "responses": {**created, **answers("updated or unchanged", OBJECT, 400)}}},
    }
