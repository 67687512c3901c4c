"""The console's own stylesheet and the wallboard's script, served from memory like
web/assets.py (the Content-Security-Policy forbids inline script and style).

The script opens the page's WebSocket (``data-socket``), paints every push, and never polls:
when the socket closes it reconnects after 1, 2, 4 ... 30 s (with jitter), and a local
one-second timer (no request) marks the board stale when the last push is older than
``data-stale-after`` seconds; it also counts the waits and "for" durations up between pushes.
"""

from __future__ import annotations

import functools
from pathlib import Path

from aiohttp import web

from clinicall.web.state_delta import APPLY_JS

CSS = """
.feed { padding: .1rem .5rem; border-radius: 3px; font-weight: 600; }
.feed.live { background: #d8f0dd; color: #14532d; }
.feed.stale { background: #fde2e1; color: #7f1d1d; }
.board { max-width: none; }
.board-tiles .tile { min-width: 13rem; flex: 1 1 13rem; border-left: .5rem solid #2f855a; }
.board-tiles .tile.amber { border-left-color: #b7791f; background: #fff8e6; }
.board-tiles .tile.red { border-left-color: #c53030; background: #fdecec; }
.tile h3 { margin: 0 0 .4rem; font-size: 1.05rem; }
.tile dl { display: grid; grid-template-columns: auto auto; gap: .1rem .8rem; margin: 0; }
.tile dt { color: var(--muted); font-size: .85rem; }
.tile dd { margin: 0; text-align: right; font-weight: 600; font-variant-numeric: tabular-nums; }
.tile dd.big { font-size: 1.8rem; }
.grid td, .grid th { text-align: left; }
.st { padding: .05rem .45rem; border-radius: 3px; font-weight: 600; }
.st-available { background: #d8f0dd; color: #14532d; }
.st-ringing { background: #dbeafe; color: #1e3a8a; }
.st-on_call { background: #e0e7ff; color: #312e81; }
.st-wrap_up { background: #fef3c7; color: #78350f; }
.st-paused { background: #fde2e1; color: #7f1d1d; }
.st-offline { background: #e5e7eb; color: #374151; }
.pop { background: #fff; border: 2px solid var(--accent); border-radius: 6px;
       padding: .8rem 1rem; margin: 1rem 0; }
.pop-facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
.pop-facts dt { color: var(--muted); }
.pop-facts dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
.dispositions { display: flex; flex-wrap: wrap; gap: .5rem; }
.scroll { overflow-x: auto; max-width: 100%; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 28rem), 1fr));
          gap: 1rem; margin: 1rem 0; }
.chart { margin: 0; background: #fff; border: 1px solid var(--line); padding: .5rem;
         min-width: 0; }
.chart canvas { width: 100%; height: 260px; }
.heatmap td { text-align: center; min-width: 1.6rem; }
.heat-1 { background: #e3f1f8; } .heat-2 { background: #b9dcee; } .heat-3 { background: #7fbfdf; }
.heat-4 { background: #3f9bc8; color: #fff; } .heat-5 { background: #0b6e99; color: #fff; }
.staffed-under { background: #fde2e2; } .staffed-over { background: #fdf3d7; }
.presets { display: flex; flex-wrap: wrap; gap: .4rem; margin: 1rem 0 .5rem; }
.preset { padding: .2rem .6rem; border: 1px solid var(--line); border-radius: 4px;
          background: #fff; }
.period { display: flex; flex-wrap: wrap; gap: .8rem; align-items: end; }
.board.is-stale .tiles, .board.is-stale .grid { opacity: .55; }
@media (max-width: 600px) {
  header { flex-wrap: wrap; padding: .8rem 1rem; }
  main { padding: 0 1rem 1rem; }
  .grid { display: block; overflow-x: auto; }
}
"""

WALLBOARD_JS = """
"use strict";
(function () {
  const board = document.querySelector("main.board");
  const feed = document.getElementById("feed");
  const words = JSON.parse(board.dataset.words);
  const staleAfter = Number(board.dataset.staleAfter) * 1000;
  let lastPush = 0, lastState = null, serverSkew = 0, backoff = 1000, socket = null;

  function text(tag, value, cls) {
    const el = document.createElement(tag);
    el.textContent = value;
    if (cls) el.className = cls;
    return el;
  }
  function duration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    const m = Math.floor(seconds / 60), s = seconds % 60;
    return m ? m + " min " + String(s).padStart(2, "0") + " s" : s + " s";
  }
  function pct(v) { return v === null || v === undefined ? "\\u2014" : v.toFixed(1) + " %"; }
  function serverNow() { return Date.now() + serverSkew; }
  function since(iso) { return (serverNow() - Date.parse(iso)) / 1000; }

  function paintTiles(state) {
    const tiles = document.getElementById("tiles");
    tiles.replaceChildren(...state.queues.map((q) => {
      const tile = text("article", "", "tile " + q.level);
      tile.dataset.queue = q.queue;
      tile.append(text("h3", (q.names && q.names[document.documentElement.lang]) || q.name));
      const dl = document.createElement("dl");
      const aged = q.waiting ? (serverNow() - Date.parse(state.at)) / 1000 : 0;
      const rows = [[words.waiting, String(q.waiting), "waiting", "big"],
                    [words.longest_wait, duration(q.longest_wait_s + aged), "longest_wait_s"],
                    [words.sl_today, pct(q.service_level), "service_level"],
                    [words.abandoned_today, String(q.abandoned), "abandoned"],
                    [words.missed_today, String(q.missed), "missed"]];
      for (const [label, value, field, cls] of rows) {
        const dd = text("dd", value, cls);
        dd.dataset.field = field;
        dl.append(text("dt", label), dd);
      }
      tile.append(dl);
      return tile;
    }));
  }
  function paintOperators(state) {
    const body = document.querySelector("#operators tbody");
    body.replaceChildren(...state.operators.map((op) => {
      const row = document.createElement("tr");
      row.dataset.member = op.member;
      const status = document.createElement("td");
      status.append(text("span", words["st_" + op.status], "st st-" + op.status));
      const left = op.wrapup_until ?
        " (" + duration(-since(op.wrapup_until)) + " " + words.left + ")" : "";
      const forCell = text("td", duration(since(op.since)) + left);
      forCell.dataset.since = op.since;
      row.append(text("th", op.name), status, text("td", op.reason || ""), forCell,
                 text("td", op.queues.join(", ")));
      return row;
    }));
  }
  function paint(state) {
    paintTiles(state);
    paintOperators(state);
    document.getElementById("updated").textContent = words.updated + " " + state.at_local;
  }
  function markFeed() {
    const stale = !socket || socket.readyState !== WebSocket.OPEN || !lastPush ||
      Date.now() - lastPush > staleAfter || (lastState && !lastState.connected);
    feed.textContent = stale ? (lastState && !lastState.connected && socket &&
      socket.readyState === WebSocket.OPEN ? words.stale_no_pbx : words.stale) : words.live;
    feed.className = "feed " + (stale ? "stale" : "live");
    board.classList.toggle("is-stale", stale);
  }
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + board.dataset.socket);
    socket.onopen = () => { backoff = 1000; markFeed(); };
    socket.onmessage = (event) => {  // a whole state first, then what changed
      const state = nextState(lastState, JSON.parse(event.data));
      lastPush = Date.now();
      serverSkew = Date.parse(state.at) - lastPush;
      lastState = state;
      paint(state);
      markFeed();
    };
    socket.onclose = () => {
      markFeed();
      const wait = Math.min(backoff, 30000) * (0.8 + Math.random() * 0.4);
      backoff = Math.min(backoff * 2, 30000);
      setTimeout(connect, wait);
    };
  }
  // A local clock only: no request. It ages the durations and notices a silent push.
  setInterval(() => {
    markFeed();
    if (lastState) paint(lastState);
  }, 1000);
  window.wallboard = { socket: () => socket, state: () => lastState };
  connect();
})();
""" + APPLY_JS


OPERATOR_JS = """
"use strict";
(function () {
  const main = document.querySelector("main.desk");
  const feed = document.getElementById("feed");
  const words = JSON.parse(main.dataset.words);
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const staleAfter = Number(main.dataset.staleAfter) * 1000;
  let socket = null, lastPush = 0, backoff = 1000, lastCall = null, state = null;

  function show(id, on) { document.getElementById(id).hidden = !on; }
  function error(message) {
    const el = document.getElementById("desk-error");
    el.textContent = message || "";
    el.hidden = !message;
  }
  async function post(path, body) {
    const response = await fetch(path, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
      body: JSON.stringify(body)});
    if (response.status === 401) { window.location.assign("/login"); return null; }
    const answer = await response.json().catch(() => ({error: words.no_answer}));
    if (!response.ok) error(answer.error || ("error " + response.status));
    else error("");
    return {status: response.status, answer: answer};
  }
  function paintQueues(s) {
    const body = document.querySelector("#my-queues tbody");
    body.replaceChildren(...s.queues.map((q) => {
      const row = document.createElement("tr");
      row.dataset.queue = q.queue;
      const name = document.createElement("th");
      name.textContent = q.name;
      const status = document.createElement("td");
      status.textContent = q.logged_in ? (q.paused ? words.paused + ": " + q.reason_label
                                                  : words.logged_in) : words.logged_out;
      const act = document.createElement("td");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = q.logged_in ? words.queue_log_out : words.queue_log_in;
      button.dataset.action = q.logged_in ? "out" : "in";
      button.onclick = () => post("/api/operator/queue",
                                  {queue: q.queue, logged_in: !q.logged_in});
      act.append(button);
      row.append(name, status, act);
      return row;
    }));
    document.getElementById("pause-state").textContent =
      s.paused ? words.paused + ": " + s.reason_label : "";
  }
  function listInto(id, items, text) {
    document.getElementById(id).replaceChildren(...(items && items.length ? items.map((x) =>
      Object.assign(document.createElement("li"), {textContent: text(x)})) :
      [Object.assign(document.createElement("li"), {textContent: words.none})]));
  }
  const jobs = document.getElementById("my-callbacks");
  async function loadCallbacks() {
    const response = await fetch(jobs.dataset.source, {credentials: "same-origin"});
    if (response.status === 401) { window.location.assign("/login"); return; }
    if (!response.ok) { error("error " + response.status); return; }
    const when = new Intl.DateTimeFormat(jobs.dataset.lang, {timeZone: jobs.dataset.zone,
      dateStyle: "short", timeStyle: "short"});
    const rows = (await response.json()).jobs.map((j) => {
      const row = document.createElement("tr");
      row.dataset.job = j.id;
      for (const v of [j.phone, j.queue || "\u2014", j.reason, j.state,
                       when.format(new Date(j.due_at)), j.attempts]) {
        row.append(Object.assign(document.createElement("td"), {textContent: String(v)}));
      }
      return row;
    });
    if (!rows.length) {
      const empty = document.createElement("tr");
      empty.append(Object.assign(document.createElement("td"),
                                 {colSpan: 6, textContent: words.none}));
      rows.push(empty);
    }
    jobs.tBodies[0].replaceChildren(...rows);
  }
  async function loadMyCalls() {  // the calls this operator took: each may be flagged
    const table = document.getElementById("my-calls");
    const response = await fetch("/api/operator/calls", {credentials: "same-origin"});
    if (!response.ok) return;
    const rows = (await response.json()).calls.map((c) => {
      const row = document.createElement("tr");
      row.dataset.call = c.call_id;
      for (const v of [c.at_local, c.number, c.route || "\u2014", c.disposition || "\u2014"]) {
        row.append(Object.assign(document.createElement("td"), {textContent: v}));
      }
      const cell = document.createElement("td");
      const button = Object.assign(document.createElement("button"),
        {type: "button", className: "flag-call", textContent: words.flag_complaint});
      button.onclick = async () => {
        const result = await post("/api/operator/complaint", {call_id: c.call_id});
        if (result && result.status < 300) {
          cell.textContent = words.flag_done.replace("{id}", result.answer.case_id);
        }
      };
      cell.append(button);
      row.append(cell);
      return row;
    });
    table.tBodies[0].replaceChildren(...rows);
  }
  document.getElementById("my-calls-refresh").onclick = loadMyCalls;
  document.getElementById("callbacks-refresh").onclick = loadCallbacks;
  function paintCall(call) {
    if (call) {
      lastCall = call;
      document.getElementById("pop-title").textContent =
        call.phase === "ringing" ? words.incoming_call : words.on_the_line;
      for (const el of document.querySelectorAll("[data-pop]")) {
        const v = call[el.dataset.pop];
        el.textContent = v === null || v === undefined || v === "" ? "\u2014" :
          (el.dataset.pop === "wait_s" ? Math.round(v) + " s" : String(v));
      }
      const list = document.getElementById("pop-previous");
      list.replaceChildren(...(call.previous.length ? call.previous.map((p) => {
        const li = document.createElement("li");
        li.textContent = p.at_local + " \u00b7 " + (p.route || "\u2014") +
          " \u00b7 " + p.outcome + (p.disposition ? " \u00b7 " + p.disposition : "");
        return li;
      }) : [Object.assign(document.createElement("li"), {textContent: words.none})]));
      listInto("pop-callbacks", call.callbacks, (j) => words.callback + " #" + j.id +
        " \u00b7 " + (j.queue || "\u2014") + " \u00b7 " + j.reason + " \u00b7 " + j.state +
        " \u00b7 " + j.due_local + " \u00b7 " + words.attempts + ": " + j.attempts);
      listInto("pop-complaints", call.complaints, (c) => words.complaint + " #" + c.id +
        " \u00b7 " + c.state + " \u00b7 " + c.opened_local +
        (c.topic ? " \u00b7 " + c.topic : "") + " \u00b7 " + c.summary);
      show("pop", true);
      show("after-call", false);
      show("flag", call.phase === "in_call");
    } else {
      show("pop", false);
      if (lastCall && lastCall.phase === "in_call") {
        loadCallbacks();  // a call just ended: the jobs may have changed
        setTimeout(loadMyCalls, 3000);  // and it joins their calls once the account has it
        document.getElementById("after-call-id").textContent = lastCall.number;
        document.getElementById("disposition-done").textContent = "";
        show("after-call", true);
      }
      show("flag", !!lastCall);
    }
  }
  function markFeed() {
    const stale = !socket || socket.readyState !== WebSocket.OPEN ||
      Date.now() - lastPush > staleAfter;
    feed.textContent = stale ? words.stale : words.live;
    feed.className = "feed " + (stale ? "stale" : "live");
  }
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + main.dataset.socket);
    socket.onopen = () => { backoff = 1000; markFeed(); };
    socket.onmessage = (event) => {  // a whole state first, then what changed
      state = nextState(state, JSON.parse(event.data));
      lastPush = Date.now();
      if (state.available) { paintQueues(state); paintCall(state.call); }
      markFeed();
    };
    socket.onclose = () => {
      markFeed();
      setTimeout(connect, Math.min(backoff, 30000) * (0.8 + Math.random() * 0.4));
      backoff = Math.min(backoff * 2, 30000);
    };
  }
  document.getElementById("pause").onclick = () => post("/api/operator/pause",
    {paused: true, reason: document.getElementById("pause-reason").value});
  document.getElementById("resume").onclick = () => post("/api/operator/pause",
    {paused: false});
  async function dispose(value, tries) {
    const done = document.getElementById("disposition-done");
    const result = await post("/api/operator/disposition",
                              {call_id: lastCall.call_id, disposition: value});
    if (result && result.status === 409 && tries > 0) {
      done.textContent = words.saving;  // the account writes the call shortly after it ends
      setTimeout(() => dispose(value, tries - 1), 1500);
      return;
    }
    if (result && result.status === 200) {
      error("");
      done.textContent = words.saved;
      lastCall = null;
      show("after-call", false);
      show("flag", false);
    }
  }
  async function flag(call, tries) {  // "this call is a complaint": a case for it
    const done = document.getElementById("flag-done");
    const result = await post("/api/operator/complaint",
      {call_id: call.call_id, note: document.getElementById("flag-note").value});
    if (result && result.status === 409 && tries > 0) {
      done.textContent = words.saving;  // the account writes the call shortly after it ends
      setTimeout(() => flag(call, tries - 1), 1500);
      return;
    }
    if (result && result.status < 300) {
      error("");
      done.textContent = words.flag_done.replace("{id}", result.answer.case_id);
      document.getElementById("flag-note").value = "";
    }
  }
  document.getElementById("flag-complaint").onclick = () => { if (lastCall) flag(lastCall, 10); };
  for (const button of document.querySelectorAll("button.disposition")) {
    button.onclick = () => { if (lastCall) dispose(button.dataset.disposition, 10); };
  }
  setInterval(markFeed, 1000);  // a local clock only: no request
  loadCallbacks();
  loadMyCalls();
  connect();
})();""" + APPLY_JS


REPORTS_JS = """
"use strict";
(function () {
  const colours = ["#0b6e99", "#c53030", "#2f855a", "#b7791f", "#6b46c1", "#2c7a7b"];
  for (const canvas of document.querySelectorAll("canvas[data-chart]")) {
    const spec = JSON.parse(canvas.dataset.chart);
    spec.datasets.forEach((d, i) => {
      d.backgroundColor = colours[i % colours.length];
      d.borderColor = colours[i % colours.length];
      d.spanGaps = true;
    });
    canvas.chart = new Chart(canvas, {type: spec.type,
      data: {labels: spec.labels, datasets: spec.datasets},
      options: {responsive: true, maintainAspectRatio: false, animation: false}});
  }
})();
"""

#: The kept Chart.js (web/vendor/chartjs/README.md); a test checks the file against this.
CHART_JS = Path(__file__).resolve().parent / "vendor" / "chartjs" / "chart.umd.min.js"
CHART_JS_SHA256 = "48444a82d4edcb5bec0f1965faacdde18d9c17db3063d042abada2f705c9f54a"


@functools.cache
def chart_js_bytes() -> bytes:
    return CHART_JS.read_bytes()  # once, at the first request (200 kB)


async def chart_js(_request: web.Request) -> web.Response:
    return web.Response(body=chart_js_bytes(), content_type="text/javascript",
                        headers={"Cache-Control": "max-age=86400"})


async def reports_script(_request: web.Request) -> web.Response:
    return web.Response(text=REPORTS_JS, content_type="text/javascript",
                        headers={"Cache-Control": "max-age=300"})


async def stylesheet(_request: web.Request) -> web.Response:
    return web.Response(text=CSS, content_type="text/css",
                        headers={"Cache-Control": "max-age=300"})


async def wallboard_script(_request: web.Request) -> web.Response:
    return web.Response(text=WALLBOARD_JS, content_type="text/javascript",
                        headers={"Cache-Control": "max-age=300"})


async def operator_script(_request: web.Request) -> web.Response:
    return web.Response(text=OPERATOR_JS, content_type="text/javascript",
                        headers={"Cache-Control": "max-age=300"})


PUBLIC_ASSETS = {"/assets/console.css": stylesheet, "/assets/wallboard.js": wallboard_script,
                 "/assets/operator.js": operator_script, "/assets/reports.js": reports_script,
                 "/assets/vendor/chart.umd.min.js": chart_js}


def add_routes(app: web.Application) -> None:
    for path, handler in PUBLIC_ASSETS.items():
        app.router.add_get(path, handler)
