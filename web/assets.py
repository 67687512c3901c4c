"""The dashboard's stylesheet and script, served from memory (no files to package or find).

The script repaints the cells the page marked with ``data-live`` / ``data-kpi`` from the pushes
of ``/ws/dashboard`` (web/dashboard_push.py; no polling, reconnect with back-off, "stale"
when the push stops); its ``fmt`` matches ``web.dashboard.fmt``.
"""

from __future__ import annotations

from aiohttp import web

from clinicall.web.state_delta import APPLY_JS

CSS = """
:root { --ink: #1d2733; --muted: #5b6b7c; --line: #d9e0e7; --bg: #f5f7fa; --accent: #0b6e99; }
* { box-sizing: border-box; }
body { margin: 0; font: 16px/1.45 system-ui, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--ink); background: var(--bg); }
header { display: flex; justify-content: space-between; align-items: center; gap: 1rem;
         padding: 1rem 2rem; background: #fff; border-bottom: 1px solid var(--line); }
h1 { margin: 0; font-size: 1.4rem; }
h2 { margin: 1.5rem 0 .5rem; font-size: 1.1rem; color: var(--accent); }
.sub { margin: .2rem 0 0; color: var(--muted); font-size: .9rem; }
.who { display: flex; gap: .8rem; align-items: center; color: var(--muted); }
main { padding: 0 2rem 2rem; max-width: 72rem; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); }
caption { text-align: left; padding: .4rem 0; color: var(--muted); font-size: .85rem; }
th, td { padding: .5rem .75rem; border-bottom: 1px solid var(--line); text-align: right; }
th:first-child, tbody th { text-align: left; font-weight: 600; }
thead th { background: #eef2f6; font-size: .85rem; color: var(--muted); }
td { font-variant-numeric: tabular-nums; }
.tiles { display: flex; flex-wrap: wrap; gap: 1rem; margin-bottom: 1rem; }
.tile { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: .7rem 1rem;
        min-width: 11rem; }
.tile .label { display: block; color: var(--muted); font-size: .85rem; }
.tile .value { font-size: 1.6rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.warn { color: #8a5300; }
.login { max-width: 22rem; margin: 10vh auto; background: #fff; padding: 2rem;
         border: 1px solid var(--line); border-radius: 8px; }
.login label { display: block; margin: .8rem 0; }
.login input { display: block; width: 100%; padding: .45rem; font: inherit; margin-top: .2rem; }
.error { color: #a4161a; }
.filters { display: flex; flex-wrap: wrap; gap: .6rem; align-items: end; margin: 1rem 0; }
#waveform { background: #fff; border: 1px solid var(--line); margin: .5rem 0; }
.legend .patient { color: #0b6e99; } .legend .operator { color: #b5480b; }
tr.overdue td { background: #fde8e8; color: #a4161a; font-weight: 600; }
button { font: inherit; padding: .4rem 1rem; border: 1px solid var(--accent);
         background: var(--accent); color: #fff; border-radius: 4px; cursor: pointer; }
.scroll { overflow-x: auto; max-width: 100%; }
.who { flex-wrap: wrap; }
.langs { display: flex; gap: .4rem; }
@media (max-width: 600px) {
  header { flex-wrap: wrap; padding: .8rem 1rem; }
  main { padding: 0 1rem 1rem; }
  .login { margin: 1rem; padding: 1.2rem; }
  .tile { min-width: 0; flex: 1 1 9rem; }
}
"""

JS = """
"use strict";
(function () {
  const main = document.querySelector("main[data-socket]");
  const words = JSON.parse(main.dataset.words);
  const staleAfter = Number(main.dataset.staleAfter) * 1000;
  const feed = document.getElementById("feed");
  let socket = null, lastPush = 0, backoff = 1000, lastState = null;
  function fmt(value, unit) {
    if (value === null || value === undefined) return "\\u2014";
    if (unit === "s") return Number(value).toFixed(1) + " s";
    if (unit === "%") return Number(value).toFixed(1) + " %";
    return String(value);
  }
  function put(attr, key, value) {
    const cell = document.querySelector("[data-" + attr + '="' + key + '"]');
    if (cell) cell.textContent = fmt(value, cell.dataset.unit);
  }
  function paint(state) {
    for (const [queue, now] of Object.entries(state.live.queues)) {
      for (const [field, value] of Object.entries(now)) put("live", queue + ":" + field, value);
    }
    const kpi = state.kpi;
    if (kpi) {
      for (const row of kpi.sections.queues.rows) {
        for (const [field, value] of Object.entries(row)) {
          put("kpi", row.queue + ":" + field, value);
        }
      }
      for (const [field, value] of Object.entries(kpi.sections.calls.rows[0] || {})) {
        put("kpi", "calls:" + field, value);
      }
    }
    document.getElementById("updated").textContent =
      words.updated + " " + new Date().toLocaleTimeString(document.documentElement.lang);
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
    socket.onopen = () => { backoff = 1000; };
    socket.onmessage = (event) => {
      lastPush = Date.now();
      lastState = nextState(lastState, JSON.parse(event.data));  // whole, then what changed
      paint(lastState);
      markFeed();
    };
    socket.onclose = (event) => {
      markFeed();
      setTimeout(connect, Math.min(backoff, 30000) * (0.8 + Math.random() * 0.4));
      backoff = Math.min(backoff * 2, 30000);
    };
  }
  window.dashboard = { paint: paint, socket: () => socket, state: () => lastState };
  setInterval(markFeed, 1000);  // a local clock only: no request
  connect();
})();
""" + APPLY_JS


async def stylesheet(_request: web.Request) -> web.Response:
    return web.Response(text=CSS, content_type="text/css",
                        headers={"Cache-Control": "max-age=300"})


async def script(_request: web.Request) -> web.Response:
    return web.Response(text=JS, content_type="text/javascript",
                        headers={"Cache-Control": "max-age=300"})
