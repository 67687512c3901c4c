"""The console's own stylesheet and the wallboard's script, served from memory like
web/assets.py (the Content-Security-Policy forbids inline script and style).

The script opens the page's WebSocket (``data-socket``), paints every push, and never polls:
when the socket closes it reconnects after 1, 2, 4 ... 30 s (with jitter), and a local
one-second timer (no request) marks the board stale when the last push is older than
``data-stale-after`` seconds; it also counts the waits and "for" durations up between pushes.
"""

from __future__ import annotations

from aiohttp import web

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
      tile.append(text("h3", q.name));
      const dl = document.createElement("dl");
      const aged = q.waiting ? (serverNow() - Date.parse(state.at)) / 1000 : 0;
      const rows = [["Waiting", String(q.waiting), "waiting", "big"],
                    ["Longest wait", duration(q.longest_wait_s + aged), "longest_wait_s"],
                    ["SL today", pct(q.service_level), "service_level"],
                    ["Abandoned today", String(q.abandoned), "abandoned"],
                    ["Missed today", String(q.missed), "missed"]];
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
      status.append(text("span", op.status.replace("_", " "), "st st-" + op.status));
      const left = op.wrapup_until ? " (" + duration(-since(op.wrapup_until)) + " left)" : "";
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
    document.getElementById("updated").textContent =
      "updated " + new Date(Date.parse(state.at)).toLocaleTimeString();
  }
  function markFeed() {
    const stale = !socket || socket.readyState !== WebSocket.OPEN || !lastPush ||
      Date.now() - lastPush > staleAfter || (lastState && !lastState.connected);
    feed.textContent = stale ? (lastState && !lastState.connected && socket &&
      socket.readyState === WebSocket.OPEN ? "stale: no PBX link" : "stale") : "live";
    feed.className = "feed " + (stale ? "stale" : "live");
    board.classList.toggle("is-stale", stale);
  }
  function connect() {
    const scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + board.dataset.socket);
    socket.onopen = () => { backoff = 1000; markFeed(); };
    socket.onmessage = (event) => {
      const state = JSON.parse(event.data);
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
"""


async def stylesheet(_request: web.Request) -> web.Response:
    return web.Response(text=CSS, content_type="text/css",
                        headers={"Cache-Control": "max-age=300"})


async def wallboard_script(_request: web.Request) -> web.Response:
    return web.Response(text=WALLBOARD_JS, content_type="text/javascript",
                        headers={"Cache-Control": "max-age=300"})


PUBLIC_ASSETS = {"/assets/console.css": stylesheet, "/assets/wallboard.js": wallboard_script}


def add_routes(app: web.Application) -> None:
    for path, handler in PUBLIC_ASSETS.items():
        app.router.add_get(path, handler)
