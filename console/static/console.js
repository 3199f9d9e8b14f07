// trackwire CTCS console: polls the JSON API once a second and redraws the live parts
// of the page. Every client string is set with textContent, never as HTML.
"use strict";

const page = document.body.dataset.page;
const id = document.body.dataset.id;

function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = Number(n), u = 0;
  while (v >= 1024 && u + 1 < units.length) { v /= 1024; u++; }
  return u === 0 ? `${n} B` : `${v.toFixed(1)} ${units[u]}`;
}
const rate = (n) => `${bytes(Math.max(0, n))} /s`;
const limit = (n) => (n <= 0 ? "none" : rate(n));
const percent = (f) => `${(f * 100).toFixed(1)}%`;
function time(unix) {
  const d = new Date(unix * 1000);
  const p = (x) => String(x).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// el("td", {class: "num"}, "text", child, …): an element with text children only as text.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    e.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}
const sevClass = (s) => (s >= 1 && s <= 3 ? `sev${s}` : "sev0");

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  };
  const r = await fetch(path, init);
  const text = await r.text();
  const data = text ? JSON.parse(text) : null;
  if (!r.ok) throw new Error((data && data.error) || `${r.status} ${r.statusText}`);
  return data;
}

function setLive(ok) {
  const l = document.getElementById("live");
  if (!l) return;
  l.textContent = ok ? "live" : "disconnected";
  l.classList.toggle("stale", !ok);
}

function replaceBody(table, rows) {
  const tb = document.querySelector(`#${table} tbody`);
  tb.replaceChildren(...rows);
}

function torrentRow(s) {
  const msg = s.last_message ? el("span", { class: sevClass(s.last_message.severity) }, s.last_message.text) : "";
  return el("tr", { "data-id": s.id },
    el("td", { class: "name" }, el("a", { href: `/torrent/${s.id}` }, s.name), el("br"), el("small", {}, s.peer_id)),
    el("td", {}, time(s.start_timestamp)),
    el("td", {}, `${s.seeders} (${s.total_seeders})`),
    el("td", {}, `${s.leechers} (${s.total_leechers})`),
    el("td", {}, el("progress", { max: 1000, value: Math.round(s.progress * 1000) }),
      ` ${percent(s.progress)} `, el("small", {}, `avail ${percent(s.availability)}`)),
    el("td", { class: "dl-rate num" }, rate(s.dl_rate)),
    el("td", { class: "ul-rate num" }, rate(s.ul_rate)),
    el("td", { class: "num" }, bytes(s.dl_total)),
    el("td", { class: "num" }, bytes(s.ul_total)),
    el("td", { class: "limits num" }, `${limit(s.dl_limit)} / ${limit(s.ul_limit)}`),
    el("td", { class: "msg" }, msg));
}

async function refreshIndex() {
  const [list, ov, hist] = await Promise.all([api("/api/torrents"), api("/api/overview"), api("/api/history")]);
  replaceBody("torrents", list.map(torrentRow));
  document.getElementById("g-dl").textContent = rate(ov.dl_rate);
  document.getElementById("g-ul").textContent = rate(ov.ul_rate);
  document.getElementById("g-dlcap").textContent = limit(ov.dl_cap);
  document.getElementById("g-ulcap").textContent = limit(ov.ul_cap);
  document.getElementById("g-count").textContent = String(ov.torrents);
  replaceBody("history", hist.map((t) => el("tr", {},
    el("td", {}, t.name), el("td", {}, el("small", {}, t.peer_id)), el("td", {}, time(t.started)),
    el("td", {}, time(t.ended)), el("td", {}, t.pieces > 0 ? percent(t.have / t.pieces) : "?"),
    el("td", { class: "num" }, bytes(t.dl_total)), el("td", { class: "num" }, bytes(t.ul_total)))));
}

function configRow(c) {
  const form = el("form", { class: "cfg", "data-name": c.name },
    el("input", { name: "value", value: c.value, "aria-label": c.name }), " ", el("button", { type: "submit" }, "Set"));
  return el("tr", { "data-name": c.name },
    el("td", {}, el("b", {}, c.name), el("br"), el("small", {}, c.short)),
    el("td", { class: "current" }, c.value),
    el("td", {}, el("small", { class: "long" }, c.long)),
    el("td", {}, form));
}

async function refreshDetails() {
  const t = await api(`/api/torrents/${id}`);
  const set = (k, v) => { const e = document.getElementById(k); if (e) e.textContent = v; };
  set("t-name", t.name);
  set("s-peer", t.peer_id);
  set("s-progress", `${percent(t.progress)} (available ${percent(t.availability)})`);
  set("s-rates", `${rate(t.dl_rate)} / ${rate(t.ul_rate)}`);
  set("s-limits", `${limit(t.dl_limit)} / ${limit(t.ul_limit)}`);
  set("s-totals", `${bytes(t.dl_total)} / ${bytes(t.ul_total)}`);
  set("s-ratio", t.ratio === null ? "?" : t.ratio.toFixed(2));
  const seed = t.config.find((c) => c.name === "seed_time");
  set("s-seed", seed ? `${seed.value} h` : "?");
  const p = t.policy;
  set("s-policy", `min ${limit(p.dl_min)} · max ${limit(p.dl_max)} · ${p.dl_shared ? "shared" : "not shared"}`);
  // The form keeps what the operator is typing: rows are rebuilt only when the list of
  // options changes; otherwise only the current values and descriptions are updated.
  const tb = document.querySelector("#config tbody");
  const names = Array.from(tb.rows).map((r) => r.dataset.name).join("\n");
  if (names !== t.config.map((c) => c.name).join("\n")) {
    tb.replaceChildren(...t.config.map(configRow));
  } else {
    t.config.forEach((c, i) => {
      tb.rows[i].querySelector(".current").textContent = c.value;
      tb.rows[i].querySelector(".long").textContent = c.long;
    });
  }
  document.getElementById("messages").replaceChildren(...t.messages.slice().reverse().map((m) =>
    el("li", { class: sevClass(m.severity) }, el("time", {}, time(m.time)), m.text)));
  replaceBody("files", t.files.map((f) => {
    const frac = (x) => (f.pieces > 0 ? percent(x / f.pieces) : "?");
    return el("tr", {}, el("td", {}, f.number), el("td", { class: "name" }, f.name), el("td", { class: "num" }, bytes(f.size)),
      el("td", {}, frac(f.have)), el("td", {}, frac(f.available)), el("td", {}, f.priority));
  }));
  replaceBody("peers", t.peers.map((q) => el("tr", {},
    el("td", {}, el("small", {}, q.peer_id)), el("td", {}, q.client), el("td", {}, q.address), el("td", {}, el("code", {}, q.flags)),
    el("td", { class: "num" }, rate(q.dl_rate)), el("td", { class: "num" }, rate(q.ul_rate)),
    el("td", { class: "num" }, bytes(q.dl_total)), el("td", { class: "num" }, bytes(q.ul_total)), el("td", {}, q.pieces))));
}

const kib = (v) => Math.floor(v / 1024);
const fromKib = (s) => Math.round(Number(s || 0) * 1024);

function limitsRow(s, p) {
  const num = (name, value, label) => el("input", { name, type: "number", min: 0, value, "aria-label": label });
  const check = (name, on) => el("input", { name, type: "checkbox", checked: on });
  return el("tr", { "data-id": s.id },
    el("td", { class: "name" }, s.name),
    el("td", { class: "current num" }, `${limit(s.dl_limit)} / ${limit(s.ul_limit)}`),
    el("td", { class: "rates num" }, `${rate(s.dl_rate)} / ${rate(s.ul_rate)}`),
    el("td", {}, el("form", { class: "set-limits", "data-id": s.id },
      el("input", { name: "dl_limit", type: "number", min: 0, placeholder: "down KiB/s", "aria-label": "download limit KiB/s" }), " ",
      el("input", { name: "ul_limit", type: "number", min: 0, placeholder: "up KiB/s", "aria-label": "upload limit KiB/s" }), " ",
      el("button", { type: "submit" }, "Set"))),
    el("td", {}, el("form", { class: "policy", "data-id": s.id },
      "down ", num("dl_min", kib(p.dl_min), "download minimum KiB/s"), "–", num("dl_max", kib(p.dl_max), "download maximum KiB/s"), " ",
      el("label", {}, check("dl_shared", p.dl_shared), " shared"), el("br"),
      "up ", num("ul_min", kib(p.ul_min), "upload minimum KiB/s"), "–", num("ul_max", kib(p.ul_max), "upload maximum KiB/s"), " ",
      el("label", {}, check("ul_shared", p.ul_shared), " shared"), el("br"),
      "ratio cap ", el("input", { name: "ratio_cap", type: "number", min: 0, step: "0.01", value: p.ratio_cap / 100, "aria-label": "share ratio cap" }), " ",
      el("button", { type: "submit" }, "Save"))));
}

const defaultPolicy = { dl_min: 0, dl_max: 0, dl_shared: true, ul_min: 0, ul_max: 0, ul_shared: true, ratio_cap: 0 };

async function refreshLimits() {
  const [list, lim] = await Promise.all([api("/api/torrents"), api("/api/limits")]);
  const tb = document.querySelector("#limits tbody");
  const ids = Array.from(tb.rows).map((r) => r.dataset.id).join(",");
  if (ids !== list.map((s) => String(s.id)).join(",")) {
    tb.replaceChildren(...list.map((s) => limitsRow(s, lim.policies[s.name] || defaultPolicy)));
  } else {
    list.forEach((s, i) => {
      tb.rows[i].querySelector(".current").textContent = `${limit(s.dl_limit)} / ${limit(s.ul_limit)}`;
      tb.rows[i].querySelector(".rates").textContent = `${rate(s.dl_rate)} / ${rate(s.ul_rate)}`;
    });
  }
}

function report(target, promise, okText) {
  const out = document.getElementById(target);
  promise.then(() => { if (out) { out.className = "ok"; out.textContent = okText; } })
    .catch((e) => { if (out) { out.className = "err"; out.textContent = e.message; } });
}

document.addEventListener("submit", (ev) => {
  const f = ev.target;
  ev.preventDefault();
  if (f.classList.contains("cfg")) {
    report("act-result", api(`/api/torrents/${id}/config`, { name: f.dataset.name, value: f.elements.value.value }), `${f.dataset.name} sent`);
  } else if (f.classList.contains("set-limits")) {
    const body = {};
    if (f.elements.dl_limit.value !== "") body.dl_limit = fromKib(f.elements.dl_limit.value);
    if (f.elements.ul_limit.value !== "") body.ul_limit = fromKib(f.elements.ul_limit.value);
    report("limits-result", api(`/api/torrents/${f.dataset.id}/limits`, body), "limits sent");
  } else if (f.classList.contains("policy")) {
    const e = f.elements;
    report("limits-result", api(`/api/torrents/${f.dataset.id}/policy`, {
      dl_min: fromKib(e.dl_min.value), dl_max: fromKib(e.dl_max.value), dl_shared: e.dl_shared.checked,
      ul_min: fromKib(e.ul_min.value), ul_max: fromKib(e.ul_max.value), ul_shared: e.ul_shared.checked,
      ratio_cap: Math.round(Number(e.ratio_cap.value || 0) * 100),
    }), "policy saved");
  } else if (f.id === "caps") {
    report("caps-result", api("/api/limits", { dl_cap: fromKib(f.elements.dl_cap.value), ul_cap: fromKib(f.elements.ul_cap.value) }), "caps saved");
  }
});

document.addEventListener("click", (ev) => {
  const b = ev.target.closest("button[data-action]");
  if (!b) return;
  report("act-result", api(`/api/torrents/${id}/${b.dataset.action}`, {}), `${b.textContent} sent`);
});

const refreshers = { index: refreshIndex, details: refreshDetails, limits: refreshLimits };

async function tick() {
  const f = refreshers[page];
  if (!f) return;
  try { await f(); setLive(true); } catch (e) { setLive(false); }
  setTimeout(tick, 1000);
}
tick();
