"""The reviewers' page: search recordings, play one with its waveform (one colour per speaker,
drawn from the stored peaks by wavesurfer.js, a kept library checked in under
``web/vendor/wavesurfer/``), change speed, add time-stamped notes, see the call's timeline
beside the player (a step inside the recording seeks there); the complaint cases beside,
overdue ones highlighted; the open legal holds, with who set each and why, released here
(the release asks why; web.holds_api audits it).

Playing first asks the API for a listening session (the reason is asked here), which writes the
audit row; the browser's media element then seeks with Range requests (docs/recordings.md).
wavesurfer puts a ``<style>`` in its shadow DOM: the page allows it by a per-response nonce
(``STYLE_NONCE``; docs/web-security.md keeps every other inline style refused).
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from aiohttp import web

from clinicall.web.keys import IDENTITY, STYLE_NONCE, Identity
from clinicall.web.pages import esc, logout_forms

WAVESURFER_VERSION = "7.12.12"
WAVESURFER_SHA256 = "cb9fff59e7ce18932fab801771589ca48bc0362db82218d86cf05f5b60f0bc5e"
WAVESURFER_FILE = (Path(__file__).resolve().parent / "vendor" / "wavesurfer"
                   / f"wavesurfer-{WAVESURFER_VERSION}.min.js")  # fmt: skip
WAVESURFER_URL = f"/assets/wavesurfer-{WAVESURFER_VERSION}.min.js"
PLAYER_URL = "/assets/player.js"
PAGE_URL = "/recordings"
#: The reasons offered when opening a recording (a typed one is accepted too).
REASONS = ("complaint review", "quality check", "patient request", "legal request")


def load_wavesurfer() -> bytes:
    """The checked-in library, refused if it is not the pinned file."""
    data = WAVESURFER_FILE.read_bytes()
    if hashlib.sha256(data).hexdigest() != WAVESURFER_SHA256:
        raise RuntimeError(f"{WAVESURFER_FILE.name} is not the pinned wavesurfer.js")
    return data


WAVESURFER = web.AppKey("wavesurfer_js", bytes)


def add_routes(app: web.Application) -> None:
    app[WAVESURFER] = load_wavesurfer()
    app.router.add_get(PAGE_URL, page)
    app.router.add_get(WAVESURFER_URL, wavesurfer_js)
    app.router.add_get(PLAYER_URL, player_js)


async def wavesurfer_js(request: web.Request) -> web.Response:
    return web.Response(body=request.app[WAVESURFER], content_type="text/javascript",
                        headers={"Cache-Control": "max-age=86400"})


async def player_js(_request: web.Request) -> web.Response:
    return web.Response(text=PLAYER_JS, content_type="text/javascript",
                        headers={"Cache-Control": "max-age=300"})


async def page(request: web.Request) -> web.Response:
    who: Identity = request[IDENTITY]
    nonce = secrets.token_urlsafe(16)
    request[STYLE_NONCE] = nonce
    logout = logout_forms(who.csrf_token or "")
    reasons = "".join(f'<option value="{esc(r)}">{esc(r)}</option>' for r in REASONS)
    body = f"""
<header><div><h1>Recordings</h1><p class="sub">Every play is recorded with its reason.</p></div>
<div class="who">{esc(who.username)} ({esc(who.role.value)}){logout}</div>
</header>
<main>
<form id="search" class="filters">
 <label>From <input name="from" type="date"></label>
 <label>To <input name="to" type="date"></label>
 <label>Queue <input name="queue" size="10"></label>
 <label>Operator <input name="operator" size="8"></label>
 <label>Number ends with <input name="digits" size="6" inputmode="numeric"></label>
 <label>Min s <input name="min_s" size="4"></label>
 <label>Max s <input name="max_s" size="4"></label>
 <button type="submit">Search</button>
</form>
<p id="message" role="status"></p>
<label>Why are you listening? <select id="reason">{reasons}</select></label>
<table id="results"><thead><tr><th>When</th><th>Queue</th><th>Operator</th><th>Number</th>
<th>Duration</th><th></th></tr></thead><tbody></tbody></table>
<section id="player" hidden>
 <h2>Recording <span id="playing"></span></h2>
 <p class="legend"><span class="patient">patient</span> <span class="operator">operator</span></p>
 <div id="waveform"></div>
 <button id="play" type="button">Play / pause</button>
 <label>Speed <select id="speed"><option>0.5</option><option>0.75</option>
 <option selected>1</option><option>1.25</option><option>1.5</option><option>2</option>
 </select></label>
 <span id="time">0.0 s</span>
 <h2>Notes</h2>
 <ul id="notes"></ul>
 <form id="note"><input name="text" size="50" placeholder="Note at the current time">
 <button type="submit">Add note</button></form>
 <h2>The call</h2>
 <ol id="timeline"></ol>
 <form id="hold"><label>Why keep it past retention? <input name="reason" size="40"></label>
 <button type="submit">Legal hold</button></form>
</section>
<h2>Legal holds</h2>
<table id="holds"><thead><tr><th>Recording</th><th>Held since</th><th>By</th><th>Why</th>
<th></th></tr></thead><tbody></tbody></table>
<h2>Complaint cases</h2>
<table id="cases"><thead><tr><th>Opened</th><th>State</th><th>Summary</th><th>Due</th></tr>
</thead><tbody></tbody></table>
</main>"""
    html = ("<!doctype html>\n"
            '<html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="csrf-token" content="{esc(who.csrf_token or "")}">'
            f'<meta name="style-nonce" content="{esc(nonce)}">'
            "<title>Recordings</title>"
            '<link rel="stylesheet" href="/assets/app.css">'
            f'<script src="{WAVESURFER_URL}" defer></script>'
            f'<script src="{PLAYER_URL}" defer></script></head>'
            f"<body>{body}</body></html>\n")  # fmt: skip
    return web.Response(text=html, content_type="text/html")


PLAYER_JS = r"""
"use strict";
const PATIENT = "#0b6e99", OPERATOR = "#b5480b";
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const nonce = document.querySelector('meta[name="style-nonce"]').content;
let ws = null, current = null;
function say(text) { document.getElementById("message").textContent = text; }
async function api(url, options) {
  const response = await fetch(url, Object.assign({credentials: "same-origin"}, options || {}));
  if (response.status === 401) { window.location.assign("/login"); return null; }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) { say(body.error || ("error " + response.status)); return null; }
  return body;
}
function post(url, body) {
  return api(url, {method: "POST", body: JSON.stringify(body),
                   headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}});
}
function cell(row, text) { const td = row.insertCell(); td.textContent = text; return td; }
async function search(event) {
  if (event) event.preventDefault();
  const params = new URLSearchParams();
  for (const [name, value] of new FormData(document.getElementById("search"))) {
    if (value) params.set(name, value);
  }
  const found = await api("/api/recordings?" + params.toString());
  if (!found) return;
  const body = document.querySelector("#results tbody");
  body.replaceChildren();
  for (const r of found.recordings) {
    const row = body.insertRow();
    row.dataset.id = r.id;
    cell(row, new Date(r.started_at).toLocaleString());
    cell(row, r.queue || "");
    cell(row, r.operator || "");
    cell(row, r.number || "");
    cell(row, (r.duration_s || 0).toFixed(1) + " s");
    const button = document.createElement("button");
    button.type = "button"; button.textContent = "Listen"; button.className = "listen";
    button.addEventListener("click", () => open(r.id));
    row.insertCell().appendChild(button);
  }
  say(found.recordings.length + " recording(s)");
}
async function open(id) {
  const session = await post("/api/recordings/" + id + "/listen",
                             {reason: document.getElementById("reason").value});
  if (!session) return;
  current = id;
  document.getElementById("player").hidden = false;
  document.getElementById("playing").textContent = "#" + id;
  if (ws) ws.destroy();
  const peaks = session.peaks.map((channel) => channel.map((v) => v / 255));
  ws = WaveSurfer.create({
    container: "#waveform", url: session.audio, peaks: peaks, duration: session.duration_s,
    height: 60, cspNonce: nonce, normalize: false,
    splitChannels: [{waveColor: PATIENT, progressColor: "#06405a"},
                    {waveColor: OPERATOR, progressColor: "#6b2a06"}],
  });
  ws.on("timeupdate", (t) => {
    document.getElementById("time").textContent = t.toFixed(1) + " s";
  });
  ws.setPlaybackRate(Number(document.getElementById("speed").value));
  await notes();
  await timeline();
}
async function notes() {
  const found = await api("/api/recordings/" + current + "/notes");
  if (!found) return;
  const list = document.getElementById("notes");
  list.replaceChildren();
  for (const n of found.notes) {
    const item = document.createElement("li");
    item.textContent = n.offset_s.toFixed(1) + " s: " + n.text;
    list.appendChild(item);
  }
}
async function addNote(event) {
  event.preventDefault();
  const field = event.target.elements.text;
  const made = await post("/api/recordings/" + current + "/notes",
                          {offset_s: ws ? ws.getCurrentTime() : 0, text: field.value});
  if (made) { field.value = ""; await notes(); }
}
async function cases() {
  const found = await api("/api/complaints");
  if (!found) return;
  const body = document.querySelector("#cases tbody");
  body.replaceChildren();
  for (const c of found.complaints) {
    const row = body.insertRow();
    if (c.overdue) row.className = "overdue";
    cell(row, new Date(c.opened_at).toLocaleString());
    cell(row, c.state);
    cell(row, c.summary);
    cell(row, new Date(c.due_at).toLocaleString() + (c.overdue ? " (overdue)" : ""));
  }
}
function seconds(value) { return value == null ? "?" : Number(value).toFixed(0) + " s"; }
function stepWords(s) {  // the call's step as a reviewer reads it
  const queue = s.queue_name || s.queue || "";
  switch (s.kind) {
    case "start": return "Call started (" + s.direction + ")";
    case "ivr": return "IVR: " + (s.path_words || s.path || "") +
      (s.route_words ? " → " + s.route_words : "");
    case "queue": return "Waited in " + queue + " (position " + (s.position || "?") + ")";
    case "transfer": return "Transferred to " + queue;
    case "ring": return "Rang " + s.operator + " for " + seconds(s.ring_s) +
      (s.answered ? ", answered" : ", not answered");
    case "talk": return "Talk with " + s.operator + " after " + seconds(s.wait_s) +
      " waiting, " + seconds(s.talk_s);
    case "left": return "Left " + queue + " (" + s.outcome + ") after " + seconds(s.wait_s);
    case "end": return "Call ended" + (s.hangup ? " (" + s.hangup + " hung up)" : "");
    default: return s.kind;
  }
}
async function timeline() {
  const found = await api("/api/recordings/" + current + "/timeline");
  if (!found) return;
  const list = document.getElementById("timeline");
  list.replaceChildren();
  for (const s of found.steps) {
    const item = document.createElement("li");
    item.dataset.kind = s.kind;
    const at = document.createElement(s.offset_s >= 0 ? "button" : "span");
    at.textContent = (s.offset_s >= 0 ? "+" : "") + s.offset_s.toFixed(1) + " s";
    if (s.offset_s >= 0) {  // inside the recording: a click plays from there
      at.type = "button"; at.className = "seek";
      at.addEventListener("click", () => { if (ws) ws.setTime(s.offset_s); });
    }
    item.append(at, " " + stepWords(s));
    list.appendChild(item);
  }
}
async function holds() {
  const found = await api("/api/holds");
  if (!found) return;
  const body = document.querySelector("#holds tbody");
  body.replaceChildren();
  for (const h of found.holds) {
    const row = body.insertRow();
    row.dataset.recording = h.recording_id;
    cell(row, "#" + h.recording_id);
    cell(row, new Date(h.held_at).toLocaleString());
    cell(row, h.held_by || "command line");
    cell(row, h.reason);
    const why = document.createElement("input");
    why.className = "release-reason"; why.setAttribute("aria-label", "Why release it");
    const button = document.createElement("button");
    button.type = "button"; button.textContent = "Release"; button.className = "release";
    button.addEventListener("click", async () => {
      const done = await post("/api/recordings/" + h.recording_id + "/hold/release",
                              {reason: why.value});
      if (done) { say("Hold on #" + h.recording_id + " released"); await holds(); }
    });
    const last = row.insertCell();
    last.append(why, button);
  }
}
async function hold(event) {
  event.preventDefault();
  const field = event.target.elements.reason;
  const made = await post("/api/recordings/" + current + "/hold", {reason: field.value});
  if (made) { field.value = ""; say("#" + current + " held"); await holds(); }
}
document.getElementById("hold").addEventListener("submit", hold);
document.getElementById("search").addEventListener("submit", search);
document.getElementById("note").addEventListener("submit", addNote);
document.getElementById("play").addEventListener("click", () => { if (ws) ws.playPause(); });
document.getElementById("speed").addEventListener("change", (e) => {
  if (ws) ws.setPlaybackRate(Number(e.target.value));
});
search(); cases(); holds();
"""
