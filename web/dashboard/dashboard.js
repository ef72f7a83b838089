/* sinkd dashboard: reads the admin JSON API of the server that serves this
 * page (docs/api.md) and draws it with uPlot. No other network access. */
"use strict";

const RANGES = { "15m": 900, "1h": 3600, "6h": 21600, "24h": 86400, "7d": 604800 };
const state = { range: "1h", family: "", domain: "", token: "", charts: {},
                lastCheckins: null, refreshTimer: null, ticks: 0 };

function $(id) { return document.getElementById(id); }
function fmt(n) { return Number(n).toLocaleString("en-US"); }

class Unauthorized extends Error {}

async function api(path) {
  const headers = {};
  if (state.token) headers.Authorization = "Bearer " + state.token;
  const r = await fetch(path, { headers, cache: "no-store" });
  if (r.status === 401) { showTokenBox(); throw new Unauthorized(path); }
  const body = await r.json();
  if (!r.ok && !(path === "/health" && r.status === 503))
    throw new Error(path + ": " + (body.error || r.status));
  return body;
}

function showTokenBox() { $("token-box").hidden = false; }

function setRows(table, rows) {
  table.replaceChildren();
  for (const cells of rows) {
    const tr = document.createElement("tr");
    for (const c of cells) {
      const td = document.createElement("td");
      if (typeof c === "object" && c !== null) {
        td.textContent = c.text;
        if (c.cls) td.className = c.cls;
        for (const [k, v] of Object.entries(c.data || {})) td.dataset[k] = v;
      } else {
        td.textContent = c;
      }
      tr.appendChild(td);
    }
    table.appendChild(tr);
  }
}

function sinceArg() { return Math.floor(Date.now() / 1000) - RANGES[state.range]; }

/* ---- charts ------------------------------------------------------------- */

function series(minutes, since, until, pick) {
  const byMinute = new Map(minutes.map(m => [m.minute, m]));
  const xs = [], ys = [];
  for (let t = Math.ceil(since / 60) * 60; t < until; t += 60) {
    xs.push(t);
    const m = byMinute.get(t);
    ys.push(m ? pick(m) : 0);
  }
  return [xs, ys];
}

function drawChart(id, label, color, data) {
  const el = $(id);
  const width = Math.max(300, el.clientWidth || 800);
  if (state.charts[id]) {
    state.charts[id].setData(data);
    return;
  }
  state.charts[id] = new uPlot({
    width, height: 220,
    series: [{}, { label, stroke: color, fill: color + "33", width: 1.5 }],
    axes: [{ stroke: "#7d8896" }, { stroke: "#7d8896" }],
    scales: { x: { time: true } },
  }, data, el);
}

/* ---- panels --------------------------------------------------------------- */

async function loadTimeline() {
  const since = sinceArg(), until = Math.floor(Date.now() / 1000) + 60;
  let q = `/api/v1/timeline?since=${since}&until=${until}`;
  if (state.family) q += "&family=" + encodeURIComponent(state.family);
  if (state.domain) q += "&domain=" + encodeURIComponent(state.domain);
  const t = await api(q);
  $("range-checkins").textContent = fmt(t.totals.checkins);
  $("range-dns").textContent = fmt(t.totals.dns);
  drawChart("chart-checkins", "check-ins", "#58a6ff",
            series(t.minutes, since, until, m => m.checkins));
  drawChart("chart-dns", "DNS queries", "#d29922", series(t.minutes, since, until, m => m.dns));
}

function fillTop(id, rows) {
  setRows($(id), rows.length ? rows.map(([k, n]) => [
    { text: String(k), data: { key: String(k) } },
    { text: fmt(n), cls: "n", data: { count: String(n) } }]) : [["no check-ins in range"]]);
}

function filterArgs() {
  let q = `since=${sinceArg()}`;
  if (state.family) q += "&family=" + encodeURIComponent(state.family);
  if (state.domain) q += "&domain=" + encodeURIComponent(state.domain);
  return q;
}

/* Top tables and the population come from the reports (hourly rollups). */
async function loadReports() {
  const q = filterArgs() + "&top=10";
  const [fam, cc, asn, dom, sum, tl] = await Promise.all([
    api(`/api/v1/report/families?${q}`), api(`/api/v1/report/countries?${q}`),
    api(`/api/v1/report/asns?${q}`), api(`/api/v1/report/domains?${q}`),
    api(`/api/v1/report/summary?${filterArgs()}`),
    api(`/api/v1/report/timeline?${filterArgs()}`)]);
  fillTop("top-families", fam.rows.map(r => [r.family, r.events]));
  fillTop("top-countries", cc.rows.map(r => [r.country, r.events]));
  fillTop("top-asns", asn.rows.map(r => [r.asn ? `AS${r.asn} ${r.org || ""}`.trim() : "unknown", r.events]));
  fillTop("top-domains", dom.rows.map(r => [r.domain, r.events]));
  const p = sum.population_now;
  $("population-now").textContent = p ? fmt(p.live) : "–";
  $("population-range").textContent = p ? `${fmt(p.live_lo)}–${fmt(p.live_hi)} (${p.method})` : "";
  $("top-note").textContent = "Check-ins by family, country, network and domain from the hourly rollups" +
    ` (source: ${fam.source}).`;
  // One point per hour of the range, zero where no rollup exists.
  const byHour = new Map(tl.rows.map(r => [Date.parse(r.time) / 1000, r.sources]));
  const xs = [], ys = [];
  for (let h = Math.floor(sinceArg() / 3600) * 3600; h <= Date.now() / 1000; h += 3600) {
    xs.push(h);
    ys.push(byHour.get(h) || 0);
  }
  drawChart("chart-population", "distinct sources", "#3fb950", [xs, ys]);
}

async function loadEvents() {
  const page = await api(`/api/v1/events?limit=20&${filterArgs()}`);
  setRows($("events-table"), page.events.map(e => [
    e.time, e.kind, e.src, e.qname || e.host || "", e.family || "",
    e.kind === "http" ? `${e.method || ""} ${e.target || ""}` : (e.qtype || e.proto || ""),
    { text: fmt(e.count || 1), cls: "n" }]));
}

async function loadShapes() {
  let q = "/api/v1/report/protocols?limit=10";
  if (state.domain) q += "&domain=" + encodeURIComponent(state.domain);
  const r = await api(q);
  setRows($("shapes-table"), r.shapes.length ? r.shapes.map(x => [
    { text: x.kind, data: { shape: x.id } }, `${x.method || ""} ${x.path || ""}`.trim(),
    x.params || "", { text: fmt(x.count), cls: "n", data: { count: String(x.count) } },
    { text: fmt(x.sources) + " src", cls: "n" }]) : [["no unclaimed traffic"]]);
}

async function loadHealth() {
  const h = await api("/health");
  const b = $("health");
  b.dataset.ready = String(h.ready);
  b.textContent = h.status;
  const c = h.checks;
  setRows($("health-table"), [
    ["listeners", { text: c.listeners.ok ? "up" : "down", cls: c.listeners.ok ? "state-ok" : "state-bad" }],
    ["store", { text: c.store.ok ? "writable" : (c.store.problem || "not ok"), cls: c.store.ok ? "state-ok" : "state-bad" }],
    ["queue fill", { text: (c.queue.max_fill * 100).toFixed(1) + "% (limit " + (c.queue.threshold * 100).toFixed(0) + "%)", cls: c.queue.ok ? "state-ok" : "state-bad" }],
    ["uptime", h.uptime_s + " s"],
  ]);
}

async function loadDomains() {
  const d = await api("/api/v1/domains");
  const m = d.monitor;
  if (!m.enabled) {
    $("monitor-summary").textContent = "Domain monitor off ([monitor] enabled = no).";
  } else {
    const states = Object.entries(m.domains).filter(([, n]) => n > 0)
      .map(([s, n]) => `${s}: ${fmt(n)}`).join(", ");
    $("monitor-summary").textContent = `${fmt(m.rounds)} rounds, last ${m.last_round || "not yet"}; ${states || "no domain checked yet"}`;
  }
  const bad = d.domains.filter(x => x.state !== "ok").slice(0, 50);
  setRows($("monitor-table"), bad.map(x => [x.domain,
    { text: x.state, cls: "state-bad" }, x.since,
    (x.details && x.details.summary) || ""]));
}

function showCounters(c) {
  $("live-checkins").textContent = fmt(c.checkins.total);
  $("live-dns").textContent = fmt(c.dns.queries);
  const d = c.drops;
  const total = d.dns_queue_full + d.capture_queue_full + d.store_failed;
  $("drops-total").textContent = fmt(total);
  setRows($("drops-table"), [
    ["DNS queue full", { text: fmt(d.dns_queue_full), cls: "n" }],
    ["capture queue full", { text: fmt(d.capture_queue_full), cls: "n" }],
    ["store commit failed", { text: fmt(d.store_failed), cls: "n" }],
    ["RRL dropped", { text: fmt(c.dns.rrl_dropped), cls: "n" }],
    ["TLS handshakes failed", { text: fmt(c.capture.tls_handshake_failures), cls: "n" }],
  ]);
  document.body.dataset.liveTicks = String(++state.ticks);
  if (state.lastCheckins !== null && c.checkins.total !== state.lastCheckins) scheduleRefresh(1000);
  state.lastCheckins = c.checkins.total;
}

async function refresh() {
  try {
    await Promise.all([loadTimeline(), loadEvents(), loadReports(), loadShapes(), loadHealth(),
                       loadDomains()]);
    document.body.dataset.loaded = String(Date.now());
  } catch (e) {
    if (!(e instanceof Unauthorized)) console.warn("refresh:", e.message);
  }
}

function scheduleRefresh(ms) {
  clearTimeout(state.refreshTimer);
  state.refreshTimer = setTimeout(refresh, ms);
}

/* ---- live: server-sent events read with fetch (which can send the token) */

async function live() {
  for (;;) {
    try {
      const headers = {};
      if (state.token) headers.Authorization = "Bearer " + state.token;
      const r = await fetch("/api/v1/live?interval=1", { headers, cache: "no-store" });
      if (r.status === 401) { showTokenBox(); return; }
      if (!r.ok || !r.body) throw new Error("live: HTTP " + r.status);
      $("live-state").textContent = "live";
      const reader = r.body.getReader();
      const dec = new TextDecoder();
      let buf = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += dec.decode(value, { stream: true });
        let i;
        while ((i = buf.indexOf("\n\n")) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const data = block.split("\n").filter(l => l.startsWith("data: ")).map(l => l.slice(6)).join("\n");
          if (data) showCounters(JSON.parse(data));
        }
      }
    } catch (e) {
      console.warn(e.message);
    }
    $("live-state").textContent = "reconnecting…";
    await new Promise(res => setTimeout(res, 2000));
  }
}

function init() {
  const m = location.hash.match(/token=([^&]+)/);
  if (m) {
    sessionStorage.setItem("sinkd-token", decodeURIComponent(m[1]));
    history.replaceState(null, "", location.pathname);
  }
  state.token = sessionStorage.getItem("sinkd-token") || "";
  $("token-form").addEventListener("submit", ev => {
    ev.preventDefault();
    state.token = $("token").value.trim();
    sessionStorage.setItem("sinkd-token", state.token);
    $("token-box").hidden = true;
    refresh();
    live();
  });
  $("filters").addEventListener("submit", ev => {
    ev.preventDefault();
    state.range = $("f-range").value;
    state.family = $("f-family").value.trim();
    state.domain = $("f-domain").value.trim();
    for (const c of Object.values(state.charts)) c.destroy();
    state.charts = {};
    refresh();
  });
  refresh();
  live();
  setInterval(refresh, 30000);
}

init();
