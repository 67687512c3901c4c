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

from clinicall.web.i18n import language_of, tr, words_json
from clinicall.web.keys import IDENTITY, STYLE_NONCE, Identity
from clinicall.web.pages import esc, language_links, logout_forms

WAVESURFER_VERSION = "7.12.12"
WAVESURFER_SHA256 = "cb9fff59e7ce18932fab801771589ca48bc0362db82218d86cf05f5b60f0bc5e"
WAVESURFER_FILE = (Path(__file__).resolve().parent / "vendor" / "wavesurfer"
                   / f"wavesurfer-{WAVESURFER_VERSION}.min.js")  # fmt: skip
WAVESURFER_URL = f"/assets/wavesurfer-{WAVESURFER_VERSION}.min.js"
PLAYER_URL = "/assets/player.js"
PAGE_URL = "/recordings"
#: The reasons offered when opening a recording, with their words' keys: the audit keeps the
#: reason as sent, so the value stays the same in every language (a typed one is accepted too).
REASONS = (("complaint review", "rec_reason_complaint"), ("quality check", "rec_reason_quality"),
           ("patient request", "rec_reason_patient"), ("legal request", "rec_reason_legal"))
#: The words the page's script shows (in ``data-words``, web.i18n).
SCRIPT_WORDS = (
    "rec_listen", "rec_found", "rec_overdue", "rec_command_line", "rec_why_release",
    "rec_release", "rec_released", "rec_held", "rec_error", "rec_s", "rec_st_start",
    "rec_dir_inbound", "rec_dir_outbound", "rec_st_queue", "rec_st_transfer",
    "rec_st_ring_answered", "rec_st_ring_missed", "rec_st_talk", "rec_st_left",
    "rec_out_abandoned", "rec_out_timeout", "rec_out_exitkey", "rec_out_empty", "rec_out_cut",
    "rec_st_end", "rec_st_end_by", "rec_side_caller", "rec_side_agent", "rec_side_system",
    "rec_side_engine", "rec_case_new", "rec_case_acknowledged", "rec_case_investigating",
    "rec_case_resolved", "rec_case_reviewed")


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
    lang = language_of(request)
    nonce = secrets.token_urlsafe(16)
    request[STYLE_NONCE] = nonce
    logout = logout_forms(who.csrf_token or "", lang)

    def t(key: str) -> str:
        return esc(tr(lang, key))

    reasons = "".join(f'<option value="{esc(value)}">{t(key)}</option>' for value, key in REASONS)
    body = f"""
<header><div><h1>{t("rec_title")}</h1><p class="sub">{t("rec_sub")}</p></div>
<div class="who">{language_links(lang, PAGE_URL)}
{esc(who.username)} ({esc(who.role.value)}){logout}</div>
</header>
<main data-words="{esc(words_json(lang, SCRIPT_WORDS))}">
<form id="search" class="filters">
 <label>{t("rec_from")} <input name="from" type="date"></label>
 <label>{t("rec_to")} <input name="to" type="date"></label>
 <label>{t("rec_queue")} <input name="queue" size="10"></label>
 <label>{t("rec_operator")} <input name="operator" size="8"></label>
 <label>{t("rec_digits")} <input name="digits" size="6" inputmode="numeric"></label>
 <label>{t("rec_min_s")} <input name="min_s" size="4"></label>
 <label>{t("rec_max_s")} <input name="max_s" size="4"></label>
 <label>{t("rec_topic")} <input name="topic" size="10"></label>
 <label>{t("rec_complaint")} <input name="complaint" size="5" inputmode="numeric"></label>
 <button type="submit">{t("rec_search")}</button>
</form>
<p id="message" role="status"></p>
<label>{t("rec_why")} <select id="reason">{reasons}</select></label>
<table id="results"><thead><tr><th>{t("rec_when")}</th><th>{t("rec_queue")}</th>
<th>{t("rec_operator")}</th><th>{t("rec_number")}</th><th>{t("rec_duration")}</th><th></th>
</tr></thead><tbody></tbody></table>
<section id="player" hidden>
 <h2>{t("rec_recording")} <span id="playing"></span></h2>
 <p class="legend"><span class="patient">{t("rec_patient")}</span>
 <span class="operator">{t("rec_operator_leg")}</span></p>
 <div id="waveform"></div>
 <button id="play" type="button">{t("rec_play_pause")}</button>
 <label>{t("rec_speed")} <select id="speed"><option>0.5</option><option>0.75</option>
 <option selected>1</option><option>1.25</option><option>1.5</option><option>2</option>
 </select></label>
 <span id="time"></span>
 <h2>{t("rec_notes")}</h2>
 <ul id="notes"></ul>
 <form id="note"><input name="text" size="50" placeholder="{t("rec_note_at")}">
 <button type="submit">{t("rec_add_note")}</button></form>
 <h2>{t("rec_the_call")}</h2>
 <ol id="timeline"></ol>
 <form id="hold"><label>{t("rec_hold_why")} <input name="reason" size="40"></label>
 <button type="submit">{t("rec_hold")}</button></form>
</section>
<h2>{t("rec_holds")}</h2>
<table id="holds"><thead><tr><th>{t("rec_recording")}</th><th>{t("rec_held_since")}</th>
<th>{t("rec_by")}</th><th>{t("rec_why_col")}</th><th></th></tr></thead><tbody></tbody></table>
<h2>{t("rec_cases")}</h2>
<table id="cases"><thead><tr><th>{t("rec_opened")}</th><th>{t("rec_state")}</th>
<th>{t("rec_summary")}</th><th>{t("rec_due")}</th></tr></thead><tbody></tbody></table>
</main>"""
    html = ("<!doctype html>\n"
            f'<html lang="{lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<meta name="csrf-token" content="{esc(who.csrf_token or "")}">'
            f'<meta name="style-nonce" content="{esc(nonce)}">'
            f"<title>{t('rec_title')}</title>"
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
const WORDS = JSON.parse(document.querySelector("main").dataset.words);
const LANG = document.documentElement.lang;
let ws = null, current = null;
function w(key, values) {  // the page's word for key in the viewer's language, {name}s filled
  return WORDS[key].replace(/\{(\w+)\}/g, (_, name) => String(values[name]));
}
function when(iso) { return new Date(iso).toLocaleString(LANG); }
function say(text) { document.getElementById("message").textContent = text; }
async function api(url, options) {
  const response = await fetch(url, Object.assign({credentials: "same-origin"}, options || {}));
  if (response.status === 401) { window.location.assign("/login"); return null; }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) { say(body.error || w("rec_error", {status: response.status})); return null; }
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
    cell(row, when(r.started_at));
    cell(row, r.queue || "");
    cell(row, r.operator || "");
    cell(row, r.number || "");
    cell(row, w("rec_s", {n: (r.duration_s || 0).toFixed(1)}));
    const button = document.createElement("button");
    button.type = "button"; button.textContent = w("rec_listen"); button.className = "listen";
    button.addEventListener("click", () => open(r.id));
    row.insertCell().appendChild(button);
  }
  say(w("rec_found", {n: found.recordings.length}));
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
    document.getElementById("time").textContent = w("rec_s", {n: t.toFixed(1)});
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
    item.textContent = w("rec_s", {n: n.offset_s.toFixed(1)}) + ": " + n.text;
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
    cell(row, when(c.opened_at));
    cell(row, w("rec_case_" + c.state));
    cell(row, c.summary);
    cell(row, when(c.due_at) + (c.overdue ? " " + w("rec_overdue") : ""));
  }
}
function seconds(value) {
  return value == null ? "?" : w("rec_s", {n: Number(value).toFixed(0)});
}
function stepWords(s) {  // the call's step as a reviewer reads it, in the viewer's language
  const queue = s.queue_name || s.queue || "";
  switch (s.kind) {
    case "start": return w("rec_st_start", {direction: w("rec_dir_" + s.direction)});
    case "ivr": return "IVR: " + (s.path_words || s.path || "") +
      (s.route_words ? " → " + s.route_words : "");
    case "queue": return w("rec_st_queue", {queue: queue, position: s.position || "?"});
    case "transfer": return w("rec_st_transfer", {queue: queue});
    case "ring": return w(s.answered ? "rec_st_ring_answered" : "rec_st_ring_missed",
                          {operator: s.operator, s: seconds(s.ring_s)});
    case "talk": return w("rec_st_talk", {operator: s.operator, wait: seconds(s.wait_s),
                                          talk: seconds(s.talk_s)});
    case "left": return w("rec_st_left", {queue: queue, wait: seconds(s.wait_s),
                                          outcome: w("rec_out_" + s.outcome)});
    case "end": return s.hangup ? w("rec_st_end_by", {side: w("rec_side_" + s.hangup)})
                                : w("rec_st_end");
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
    at.textContent = (s.offset_s >= 0 ? "+" : "") + w("rec_s", {n: s.offset_s.toFixed(1)});
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
    cell(row, when(h.held_at));
    cell(row, h.held_by || w("rec_command_line"));
    cell(row, h.reason);
    const why = document.createElement("input");
    why.className = "release-reason"; why.setAttribute("aria-label", w("rec_why_release"));
    const button = document.createElement("button");
    button.type = "button"; button.textContent = w("rec_release"); button.className = "release";
    button.addEventListener("click", async () => {
      const done = await post("/api/recordings/" + h.recording_id + "/hold/release",
                              {reason: why.value});
      if (done) { say(w("rec_released", {id: h.recording_id})); await holds(); }
    });
    const last = row.insertCell();
    last.append(why, button);
  }
}
async function hold(event) {
  event.preventDefault();
  const field = event.target.elements.reason;
  const made = await post("/api/recordings/" + current + "/hold", {reason: field.value});
  if (made) { field.value = ""; say(w("rec_held", {id: current})); await holds(); }
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
