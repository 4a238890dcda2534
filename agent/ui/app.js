"use strict";
// fulfild — the associates' terminal UI.
//
// Plain modern JavaScript, no framework and no build step: this file is compiled into the
// daemon as it is. The page's Content-Security-Policy allows only same-origin scripts, so
// there is no inline code anywhere; every piece of server text is put on the page with
// textContent (never innerHTML), so an order's customer name cannot inject markup.

// ---------------------------------------------------------------------------------------
// Constants and state
// ---------------------------------------------------------------------------------------

const TOKEN_KEY = "fulfild.token";
const ACTIVE_STATES = ["routed", "accepted", "picking", "picked", "packed", "ready_for_pickup"];
const DONE_STATES = ["shipped", "collected", "rejected", "expired", "cancelled"];
const ALL_STATES = [...ACTIVE_STATES, ...DONE_STATES];
const SOUND_KEY = "fulfild.sound"; // "off" silences this terminal; anything else: sound on
const ACK_KEY = "fulfild.acknowledged"; // the new orders someone here has acknowledged
const CACHE_KEY = "fulfild.lastKnown"; // session, reference and queue, for when fulfild is down
const CHIME_EVERY_MS = 20_000; // an unacknowledged new order chimes again this often
// SLA clocks are "within" until this close to their deadline, then "nearing", then
// "breached"; the store's configuration may say otherwise (reference.sla).
const SLA_DEFAULTS = { accept_warn_ms: 5 * 60 * 1000, ship_warn_ms: 60 * 60 * 1000 };

const app = {
  token: localStorage.getItem(TOKEN_KEY) || "",
  session: null, // GET /api/v1/session
  reference: null, // GET /api/v1/reference
  screen: null,
  clockSkewMs: 0, // server clock minus ours, from the queue's "now"
  queue: { filter: "todo", method: "", q: "", orders: [], counts: {}, selected: new Set(), waves: [] },
  wave: null, // the open pick list, as the server last sent it
  waveChain: Promise.resolve(), // its scans, one at a time in the order scanned
  count: null, // the open count session, as the server last sent it
  countChain: Promise.resolve(), // its scans, one at a time in the order scanned
  countRecount: new Set(), // SKUs ticked to count again (a manager's review)
  countTimer: 0,
  order: null, // the open order, as the server last sent it
  orderKey: "", // JSON of that order: re-render only when it really changed
  packDraft: null, // the pack form being filled in: survives refreshes of the order
  scanChain: Promise.resolve(), // scans are sent one at a time, in the order scanned
  manifestChecked: new Set(),
  ws: null,
  wsRetry: 0,
  live: false,
  refreshTimer: 0,
  pendingOrderRefresh: false,
  // The station (pack desk) session this terminal opened so the desk's hardware scanner picks
  // into the order on screen. orderId: the order we opened it on ("" = none of ours);
  // declined: an order not to (re)open it on, with the reason shown on the pick card.
  desk: { orderId: "", declined: "", reason: "" },
  deskChain: Promise.resolve(), // opens and closes run one at a time, in order
  // The open order's print jobs (newest first) and what its last step or button printed;
  // both belong to one order and are dropped when another is opened.
  printJobs: { orderId: "", jobs: [] },
  printResult: null, // {orderId, title, jobs, problems}
  // While fulfild cannot be reached: {since}, the time of the last answer. The screens keep
  // what they last showed, marked stale, and actions wait.
  stale: null,
  lastAnswerAt: 0,
  routed: [], // orders waiting to be accepted: [{id, order_ref, accept_by}]
  acknowledged: new Set(JSON.parse(sessionStorage.getItem(ACK_KEY) || "[]")),
  chimeTimer: 0,
  slaLevels: {}, // order id -> the SLA level last announced for it
  deskScanners: false, // whether this terminal's station has a hardware scanner
};

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------
// Small DOM helpers (textContent only)
// ---------------------------------------------------------------------------------------

// h("li", {class: "x", testid: "y", data: {state: "z"}, on: {click: fn}}, "text", child)
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "testid") el.dataset.testid = value;
    else if (key === "data") Object.assign(el.dataset, value);
    else if (key === "on") for (const [ev, fn] of Object.entries(value)) el.addEventListener(ev, fn);
    else if (key === "text") el.textContent = value;
    else if (key in el && typeof value !== "string") el[key] = value; // e.g. checked, disabled
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function clear(el) {
  el.replaceChildren();
  return el;
}

function option(value, label = value) {
  return h("option", { value }, label);
}

function fillSelect(select, values, placeholder, label = humanize) {
  const keep = select.value;
  clear(select);
  if (placeholder) select.append(option("", placeholder));
  for (const v of values) select.append(option(v, label(v)));
  if (values.includes(keep)) select.value = keep;
}

function humanize(code) {
  return String(code).replaceAll("_", " ");
}

function time(ms) {
  if (!ms) return "—";
  const d = new Date(ms);
  const sameDay = d.toDateString() === new Date().toDateString();
  const hm = d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  return sameDay ? hm : `${d.toLocaleDateString()} ${hm}`;
}

function duration(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const hh = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(hh ? 2 : 1, "0");
  const ss = String(s % 60).padStart(2, "0");
  return hh ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
}

// How long a pickup has waited, in the words a shelf check uses: "3 days", "5 hours",
// "12 min".
function waited(ms) {
  const m = Math.max(0, Math.floor(ms / 60000));
  const plural = (n, unit) => `${n} ${unit}${n === 1 ? "" : "s"}`;
  if (m >= 24 * 60) return plural(Math.floor(m / (24 * 60)), "day");
  if (m >= 60) return plural(Math.floor(m / 60), "hour");
  return `${m} min`;
}

// 1st, 2nd, 3rd, 4th ... 11th, 12th, 13th, 21st.
function ordinal(n) {
  const teen = Math.floor(n / 10) % 10 === 1;
  const suffix = teen ? "th" : { 1: "st", 2: "nd", 3: "rd" }[n % 10] || "th";
  return `${n}${suffix}`;
}

function grams(g) {
  return g >= 1000 ? `${(g / 1000).toFixed(2)} kg` : `${g} g`;
}

// ---------------------------------------------------------------------------------------
// Sound and flashes: WebAudio tones, no audio files to ship
// ---------------------------------------------------------------------------------------

let audio = null;

// Browsers only let a page make sound after a user gesture: the first tap or key unlocks it.
function unlockAudio() {
  try {
    audio = audio || new AudioContext();
    if (audio.state === "suspended") audio.resume().then(renderSoundToggle, () => {});
  } catch {
    audio = null;
  }
  renderSoundToggle();
}

const soundOn = () => localStorage.getItem(SOUND_KEY) !== "off";

// The switch says whether this terminal makes sound, and when the browser still waits for a
// tap before it may ("Tap for sound"): a silent terminal in a noisy store misses orders.
function renderSoundToggle() {
  const b = $("sound-toggle");
  const on = soundOn();
  const waiting = on && (!audio || audio.state !== "running");
  b.dataset.state = !on ? "off" : waiting ? "waiting" : "on";
  b.setAttribute("aria-pressed", String(on));
  b.textContent = !on ? "Sound off" : waiting ? "Tap for sound" : "Sound on";
}

function toggleSound() {
  const wasWaiting = $("sound-toggle").dataset.state === "waiting";
  if (!wasWaiting) localStorage.setItem(SOUND_KEY, soundOn() ? "off" : "on");
  unlockAudio();
  if (soundOn()) tone(1320, 120, "triangle", 0.25);
}

function tone(freq, ms, type = "sine", volume = 0.2, delayMs = 0) {
  if (!audio || !soundOn()) return;
  try {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.type = type;
    osc.frequency.value = freq;
    const t = audio.currentTime + delayMs / 1000;
    gain.gain.setValueAtTime(volume, t);
    gain.gain.exponentialRampToValueAtTime(0.001, t + ms / 1000); // no click at the end
    osc.connect(gain).connect(audio.destination);
    osc.start(t);
    osc.stop(t + ms / 1000 + 0.02);
  } catch {
    // Sound is a courtesy; the banner carries the message.
  }
}

const sound = {
  ok: () => tone(1760, 90, "sine", 0.25),
  error: () => tone(130, 450, "square", 0.3),
  newOrder: () => {
    tone(880, 140, "triangle", 0.3);
    tone(1320, 200, "triangle", 0.3, 160);
  },
  nearing: () => {
    tone(660, 180, "triangle", 0.3);
    tone(660, 180, "triangle", 0.3, 260);
  },
};

// Restart a CSS animation class on an element (remove, reflow, add).
function flash(el, cls) {
  if (!el) return;
  el.classList.remove(cls);
  void el.offsetWidth;
  el.classList.add(cls);
}

// ---------------------------------------------------------------------------------------
// Messages: one big banner for errors and notices, a small toast for passing news
// ---------------------------------------------------------------------------------------

function showAlert(kind, message, code = "", extra = "") {
  const box = $("alert");
  box.dataset.kind = kind;
  box.dataset.code = code;
  const msg = clear($("alert-message"));
  msg.append(message);
  if (extra) msg.append(h("strong", { class: "alert-extra", testid: "alert-extra" }, extra));
  box.hidden = false;
  flash(box, "pop");
}

function showError(err, extra = "") {
  const code = err.code || "error";
  let message = err.message || String(err);
  if (err.status === 403) message = `Only a manager terminal can do this: ${message}`;
  showAlert("error", message, code, extra);
}

function showNotice(message, code = "") {
  showAlert("notice", message, code);
}

function clearAlert() {
  $("alert").hidden = true;
  $("alert").dataset.kind = "";
  $("alert").dataset.code = "";
}

let toastTimer = 0;
function toast(message) {
  const t = $("toast");
  t.textContent = message;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => (t.hidden = true), 4000);
}

// ---------------------------------------------------------------------------------------
// The API
// ---------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, code, message, detail = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.detail = detail;
  }
}

const enc = encodeURIComponent;

async function api(method, path, body) {
  const headers = {};
  if (app.token) headers.Authorization = `Bearer ${app.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let resp;
  try {
    resp = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
  } catch (e) {
    markStale();
    throw new ApiError(0, "unreachable", `fulfild cannot be reached (${e.message}); check the network and try again`);
  }
  markFresh();
  const text = await resp.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (resp.ok) return data;
  const e = data && data.error ? data.error : {};
  const err = new ApiError(resp.status, e.code || `http_${resp.status}`, e.message || `${resp.status} ${resp.statusText}`, e);
  // A token that stopped working (revoked, database reset) sends the terminal back to pairing.
  if (resp.status === 401 && app.token) {
    forgetToken();
    showPairing(err);
  }
  throw err;
}

// Runs a button's action: disables the button meanwhile (no double submits from a
// double tap), shows any error with the server's message.
async function run(button, fn) {
  if (button && app.stale) {
    showAlert("error", "fulfild cannot be reached, so nothing can be changed now. This page reconnects by itself; try again once the grey banner is gone.", "unreachable");
    return undefined;
  }
  if (button) button.disabled = true;
  try {
    return await fn();
  } catch (e) {
    // Unreachable while only reading: the stale banner already says so.
    if (!(e instanceof ApiError && (e.status === 401 || (e.code === "unreachable" && !button)))) showError(e);
    return undefined;
  } finally {
    if (button) button.disabled = false;
    keepFocus();
  }
}

// ---------------------------------------------------------------------------------------
// Start, pairing and navigation
// ---------------------------------------------------------------------------------------

function forgetToken() {
  app.token = "";
  app.session = null;
  localStorage.removeItem(TOKEN_KEY);
  closeEvents();
}

async function start() {
  if (!app.token) return showPairing();
  try {
    app.session = await api("GET", "/api/v1/session");
    app.reference = await api("GET", "/api/v1/reference");
  } catch (e) {
    if (e.status === 401) return undefined; // api() already showed the pairing screen
    setTimeout(start, 5000);
    // Down, but this terminal knows what it last showed: show that, marked stale.
    if (e.code === "unreachable" && showLastKnown()) return undefined;
    showError(e, " Retrying…");
    return undefined;
  }
  remember({ session: app.session, reference: app.reference });
  app.deskScanners = await stationHasScanner().catch(() => false);
  showTerminal();
  clearAlert();
  connectEvents();
  route();
  refreshRouted().catch(() => {}); // the badge is a nicety; the screens report their own errors
  return undefined;
}

// The top bar, tabs and lists for the paired terminal.
function showTerminal() {
  $("store-name").textContent = app.reference.store.name || app.reference.store.id;
  $("terminal-name").textContent = `${app.session.name} · ${app.session.station || "no station"} · ${app.session.role}`;
  $("tabs").hidden = false;
  $("find-form").hidden = false;
  $("sound-toggle").hidden = false;
  $("nav-manage").hidden = app.session.role !== "manager";
  renderSoundToggle();
  fillSelect($("handover-carrier"), app.reference.carriers, "— choose carrier —");
  fillSelect($("manifest-carrier"), app.reference.carriers, "— choose carrier —");
}

// A station opens a desk session only where a hardware scanner can use it.
async function stationHasScanner() {
  if (!app.session.station) return false;
  const { stations } = await api("GET", "/api/v1/stations");
  const mine = stations.find((s) => s.station === app.session.station);
  return Boolean(mine && mine.scanners && mine.scanners.length);
}

// What this terminal last knew, kept for a reload while fulfild is down.
function remember(part) {
  try {
    const known = JSON.parse(localStorage.getItem(CACHE_KEY) || "{}");
    localStorage.setItem(CACHE_KEY, JSON.stringify({ ...known, ...part, at: Date.now() }));
  } catch {
    // A full or disabled storage only loses the offline copy.
  }
}

function showLastKnown() {
  let known;
  try {
    known = JSON.parse(localStorage.getItem(CACHE_KEY) || "null");
  } catch {
    known = null;
  }
  if (!known || !known.session || !known.reference) return false;
  app.session = known.session;
  app.reference = known.reference;
  if (known.queue) Object.assign(app.queue, known.queue);
  app.lastAnswerAt = known.queue ? known.queue.at : known.at;
  markStale();
  showTerminal();
  showScreen("queue");
  renderChips(app.queue.counts || {});
  renderQueue();
  renderWaveBar();
  return true;
}

// ---------------------------------------------------------------------------------------
// Stale: fulfild cannot be reached
// ---------------------------------------------------------------------------------------

function markStale() {
  if (!app.session) return; // pairing has its own errors
  if (!app.stale) app.stale = { since: app.lastAnswerAt || Date.now() };
  document.body.dataset.stale = "true";
  const banner = $("stale");
  banner.hidden = false;
  banner.textContent = `fulfild cannot be reached: showing what was known at ${time(app.stale.since)}. Nothing can be changed until it is back; this page reconnects by itself.`;
}

function markFresh() {
  app.lastAnswerAt = Date.now();
  if (!app.stale) return;
  app.stale = null;
  document.body.dataset.stale = "false";
  $("stale").hidden = true;
  if ($("alert").dataset.code === "unreachable") clearAlert();
  // Back: everything on screen may be old.
  setTimeout(() => app.session && refreshVisible(true), 0);
}

async function showPairing(err) {
  closeEvents();
  app.session = null;
  $("tabs").hidden = true;
  $("find-form").hidden = true;
  $("sound-toggle").hidden = true;
  $("attention").hidden = true;
  stopChime();
  $("terminal-name").textContent = "";
  showScreen("pair");
  if (err) showError(err);
  $("pair-code").focus();
  // Opened from a pairing code's QR (#/pair/123-456-789): pair with it at once.
  const fromQr = !err && location.hash.match(/^#\/pair\/(\d{3}-\d{3}-\d{3})$/);
  if (fromQr) {
    location.hash = "#/queue";
    return pair(fromQr[1], null);
  }
  await offerDemoCode();
}

// Only the demo offers a code here; a real store's manager issues one with fulfilctl.
async function offerDemoCode() {
  $("demo-code").hidden = true;
  try {
    const demo = await api("POST", "/api/v1/demo/pairing-code");
    $("demo-code-value").textContent = demo.code;
    $("demo-code").hidden = false;
  } catch {
    // Not a demo: nothing to offer.
  }
}

async function pairAsAssociate(button) {
  await run(button, async () => {
    const demo = await api("POST", "/api/v1/demo/pairing-code?role=associate");
    $("demo-code-value").textContent = demo.code;
  });
  await pair($("demo-code-value").textContent, button);
}

async function pair(code, button) {
  await run(button, async () => {
    let t;
    try {
      t = await api("POST", "/api/v1/pair", { code });
    } catch (e) {
      // A demo code lives ten minutes: offer a fresh one next to the error.
      if (!$("demo-code").hidden) offerDemoCode();
      throw e;
    }
    app.token = t.token;
    localStorage.setItem(TOKEN_KEY, t.token);
    $("pair-code").value = "";
    if (!location.hash || location.hash === "#/") location.hash = "#/queue";
    await start();
  });
}

function showScreen(name) {
  if (app.screen !== name) clearAlert();
  app.screen = name;
  syncDesk(); // leaving the pick screen ends this terminal's desk session
  for (const s of document.querySelectorAll(".screen")) s.hidden = s.id !== `screen-${name}`;
  keepFocus();
  for (const t of document.querySelectorAll(".tab")) {
    const on = t.dataset.screen === name || (["order", "wave"].includes(name) && t.dataset.screen === "queue");
    t.classList.toggle("active", on);
    if (on) t.setAttribute("aria-current", "page");
    else t.removeAttribute("aria-current");
    if (on) revealInRow(t);
  }
}

// On a phone a row of tabs scrolls sideways: keep the current one in sight (sideways only,
// so the page itself does not jump).
function revealInRow(el) {
  const row = el.parentElement;
  const r = el.getBoundingClientRect();
  const b = row.getBoundingClientRect();
  if (r.left < b.left || r.right > b.right) row.scrollLeft += r.left - b.left - 8;
}

// Screens are addressed by the URL hash (#/queue, #/order/FO-1, …) so the browser's back
// button and a reload keep the associate where they were.
function route() {
  if (!app.session) return;
  const [, name = "queue", arg = ""] = location.hash.split("/");
  const screens = {
    queue: showQueue,
    order: () => openOrder(decodeURIComponent(arg)),
    wave: () => openWave(decodeURIComponent(arg)),
    manifest: showManifest,
    receiving: () => showReceiving(decodeURIComponent(arg)),
    returns: showReturns,
    stock: showStock,
    count: () => openCount(decodeURIComponent(arg)),
    devices: showDevices,
    manage: () => showManage(arg), // manager.js
  };
  (screens[name] || showQueue)();
}

// ---------------------------------------------------------------------------------------
// Live events (WebSocket) and refreshes
// ---------------------------------------------------------------------------------------

function setLive(live) {
  app.live = live;
  const el = $("link-status");
  el.dataset.live = String(live);
  el.textContent = live ? "live" : "reconnecting…";
}

function closeEvents() {
  const ws = app.ws;
  app.ws = null; // its onclose sees it is no longer current and does not reconnect
  if (ws) ws.close();
  setLive(false);
  $("link-status").textContent = "offline";
}

function connectEvents() {
  if (!app.token || app.ws) return;
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  // Browsers cannot put headers on a WebSocket: the token goes in the query.
  const ws = new WebSocket(`${proto}//${location.host}/api/v1/events?token=${enc(app.token)}`);
  app.ws = ws;
  ws.addEventListener("message", (m) => {
    let msg;
    try {
      msg = JSON.parse(m.data);
    } catch {
      return;
    }
    if (msg.type === "hello") {
      app.wsRetry = 0;
      setLive(true);
      refreshVisible(true); // events may have been missed while disconnected
      recheckDesk();
    } else if (msg.type === "station_session") {
      onStationSession(msg);
    } else if (msg.type === "event" && msg.event) {
      onEvent(msg.event);
    } else if (msg.type === "scan") {
      onHardwareScan(msg);
    } else if (msg.type === "devices") {
      onDevicesChanged(msg);
    } else if (msg.type === "count_session") {
      onCountSessionChanged(msg);
    } else if (msg.type === "claim") {
      if (app.order && msg.order_id === app.order.id) refreshOrder(app.order.id).catch(() => {});
    }
  });
  ws.addEventListener("close", () => {
    if (app.ws !== ws) return;
    app.ws = null;
    setLive(false);
    scheduleReconnect();
  });
}

// Exponential backoff with jitter, capped at 30 s, so a restarting fulfild is not stormed by
// every terminal in the store at once.
function scheduleReconnect() {
  const delay = Math.min(30000, 1000 * 2 ** app.wsRetry) * (0.5 + Math.random() / 2);
  app.wsRetry = Math.min(app.wsRetry + 1, 6);
  setTimeout(async () => {
    if (!app.token || app.ws) return;
    // A refused upgrade looks like any network error from here: ask whether the token is
    // still good (a 401 sends the terminal to pairing).
    try {
      await api("GET", "/api/v1/session");
    } catch (e) {
      if (e.status === 401) return;
    }
    connectEvents();
  }, delay);
}

function onEvent(ev) {
  if (ev.type === "order.received") flash($("topbar"), "flash-new"); // the banner and chime follow the refresh
  if (ev.type === "order.expired") announceExpiry(ev.subject);
  if (app.order && ev.subject === app.order.id) app.pendingOrderRefresh = true;
  // Events come in bursts (a pack writes several): refresh once after the burst.
  clearTimeout(app.refreshTimer);
  app.refreshTimer = setTimeout(() => refreshVisible(false), 250);
}

// orderToo: also re-read the open order even if no event named it.
async function refreshVisible(orderToo) {
  orderToo = orderToo || app.pendingOrderRefresh || !app.live;
  app.pendingOrderRefresh = false;
  try {
    if (app.screen === "queue") await loadQueue();
    await refreshRouted();
    if (app.screen === "order" && app.order && orderToo) {
      await refreshOrder(app.order.id);
      await loadPrintJobs(app.order.id);
    }
    if (app.screen === "manifest") await loadManifest();
    if (app.screen === "devices") await loadDevices();
    if (app.screen === "wave" && app.wave) await loadWave(app.wave.id);
    await refreshCount();
    await refreshManage(); // manager.js
    // fulfild answers again: the "cannot be reached" banner is stale.
    if ($("alert").dataset.code === "unreachable") clearAlert();
  } catch (e) {
    if (e.status !== 401) showError(e);
  }
}

// The orders waiting to be accepted: the tab's badge and the attention banner.
async function refreshRouted() {
  const data = await api("GET", "/api/v1/orders?state=routed&limit=200");
  app.clockSkewMs = data.now - Date.now();
  app.routed = data.orders.map((o) => ({ id: o.id, order_ref: o.order_ref, accept_by: o.accept_by }));
  setBadge(data.counts.routed || 0);
  updateAttention();
}

// An order nobody accepted in time: said where it cannot be missed, by its number.
async function announceExpiry(id) {
  let ref = id;
  try {
    ref = (await api("GET", `/api/v1/orders/${enc(id)}`)).order_ref || id;
  } catch {
    // The id will do.
  }
  sound.error();
  showNotice(`Order ${ref} expired: nobody accepted it in time, so the cloud routes it to another store.`, "order_expired");
}

// ---------------------------------------------------------------------------------------
// Alerts: orders waiting to be accepted, SLA clocks
// ---------------------------------------------------------------------------------------

const sla = () => ({ ...SLA_DEFAULTS, ...((app.reference && app.reference.sla) || {}) });
const SLA_RANK = { within: 0, nearing: 1, breached: 2 };

function slaLevel(leftMs, warnMs) {
  return leftMs <= 0 ? "breached" : leftMs < warnMs ? "nearing" : "within";
}

// Stays while any order waits to be accepted; chimes every CHIME_EVERY_MS until someone
// here acknowledges the orders it names (a new order chimes again).
function updateAttention() {
  const box = $("attention");
  const waiting = app.session ? app.routed : [];
  box.hidden = waiting.length === 0;
  if (box.hidden) return stopChime();
  const now = Date.now() + app.clockSkewMs;
  const soonest = waiting.reduce((a, b) => (a.accept_by <= b.accept_by ? a : b));
  const left = soonest.accept_by - now;
  box.dataset.sla = slaLevel(left, sla().accept_warn_ms);
  const n = waiting.length;
  $("attention-message").textContent =
    `${n} order${n === 1 ? "" : "s"} waiting to be accepted · ${soonest.order_ref}: ` + (left > 0 ? `accept within ${duration(left)}` : "accept deadline passed");
  $("attention-open").href = `#/order/${enc(soonest.id)}`;
  const unacknowledged = waiting.some((o) => !app.acknowledged.has(o.id));
  $("attention-ack").hidden = !unacknowledged;
  box.dataset.acknowledged = String(!unacknowledged);
  if (unacknowledged) startChime();
  else stopChime();
  return undefined;
}

function startChime() {
  if (app.chimeTimer) return;
  sound.newOrder();
  app.chimeTimer = setInterval(sound.newOrder, CHIME_EVERY_MS);
}

function stopChime() {
  clearInterval(app.chimeTimer);
  app.chimeTimer = 0;
}

function acknowledge() {
  app.acknowledged = new Set(app.routed.map((o) => o.id));
  sessionStorage.setItem(ACK_KEY, JSON.stringify([...app.acknowledged]));
  updateAttention();
  keepFocus();
}

// An order's clock crossing into nearing or breached is heard once, on every terminal.
function announceSla() {
  const now = Date.now() + app.clockSkewMs;
  for (const o of app.routed) {
    const level = slaLevel(o.accept_by - now, sla().accept_warn_ms);
    const was = app.slaLevels[o.id] || "within";
    if (SLA_RANK[level] > SLA_RANK[was]) (level === "breached" ? sound.error : sound.nearing)();
    app.slaLevels[o.id] = level;
  }
}

function setBadge(n) {
  const b = $("badge-routed");
  b.textContent = String(n);
  b.hidden = n === 0;
}

// ---------------------------------------------------------------------------------------
// Queue
// ---------------------------------------------------------------------------------------

async function showQueue() {
  showScreen("queue");
  // What was last known at once (marked stale if fulfild is down), then the fresh answer.
  renderChips(app.queue.counts || {});
  renderQueue();
  await run(null, loadQueue);
}

// The list endpoint answers the oldest orders first, up to its limit: "to do" asks for each
// open state separately so years of shipped orders can never push today's work off the end.
async function fetchOrders(states, method, q) {
  const one = (state) => {
    const params = new URLSearchParams({ limit: "1000" });
    if (state) params.set("state", state);
    if (method) params.set("method", method);
    if (q) params.set("q", q);
    return api("GET", `/api/v1/orders?${params}`);
  };
  const answers = await Promise.all(states.map(one));
  return { orders: answers.flatMap((a) => a.orders), counts: answers[0].counts, now: answers[0].now };
}

async function loadQueue() {
  const q = app.queue;
  const states = q.filter === "todo" ? ACTIVE_STATES : [ALL_STATES.includes(q.filter) ? q.filter : ""];
  const [data, lists, capacity] = await Promise.all([fetchOrders(states, q.method, q.q), api("GET", "/api/v1/pick-lists"), api("GET", "/api/v1/capacity")]);
  q.waves = lists.pick_lists;
  renderCapacity(capacity);
  const receivedAt = Date.now();
  app.clockSkewMs = data.now - receivedAt;
  const orders = data.orders;
  // Routed orders are the ones with a clock running: those first, soonest deadline first.
  const rank = (o) => (ACTIVE_STATES.includes(o.state) ? ACTIVE_STATES.indexOf(o.state) : 99);
  const due = (o) => (o.state === "routed" ? o.accept_by : o.ship_by);
  orders.sort((a, b) => rank(a) - rank(b) || due(a) - due(b));
  q.orders = orders.map((o) => ({ ...o, deadline: receivedAt + o.accept_in_ms }));
  // A ticked order that is no longer accepted (picked elsewhere, cancelled) is unticked.
  const accepted = new Set(orders.filter((o) => o.state === "accepted").map((o) => o.id));
  for (const id of q.selected) if (!accepted.has(id)) q.selected.delete(id);
  q.counts = data.counts;
  renderChips(data.counts);
  renderQueue();
  renderWaveBar();
  setBadge(data.counts.routed || 0);
  remember({ queue: { filter: q.filter, method: q.method, q: q.q, orders: q.orders, counts: q.counts, at: receivedAt } });
}

// The queue narrowed to what was searched for (or scanned), until cleared.
function searchQueue(text) {
  app.queue.q = text;
  app.queue.filter = "all";
  if (app.screen !== "queue") location.hash = "#/queue";
  else run(null, loadQueue);
}

function chip(label, count, active, testid, onClick) {
  return h(
    "button",
    { type: "button", class: `chip${active ? " active" : ""}${count === 0 ? " zero" : ""}`, testid, data: { count: String(count) }, on: { click: onClick } },
    label,
    count === null ? null : h("span", { class: "chip-count" }, String(count)),
  );
}

function renderChips(counts) {
  const q = app.queue;
  const n = (states) => states.reduce((sum, s) => sum + (counts[s] || 0), 0);
  const pickFilter = (f) => () => {
    q.filter = f;
    run(null, loadQueue);
  };
  clear($("state-chips")).append(
    chip("To do", n(ACTIVE_STATES), q.filter === "todo", "queue-chip-todo", pickFilter("todo")),
    // Finished states only once they hold an order: fewer chips to read on a busy screen.
    ...ALL_STATES.filter((s) => ACTIVE_STATES.includes(s) || counts[s] || q.filter === s).map((s) =>
      chip(humanize(s), counts[s] || 0, q.filter === s, `queue-chip-${s}`, pickFilter(s))),
    chip("All", n(ALL_STATES), q.filter === "all", "queue-chip-all", pickFilter("all")),
  );
  const pickMethod = (m) => () => {
    q.method = m;
    run(null, loadQueue);
  };
  clear($("method-chips")).append(
    chip("Ship & pickup", null, q.method === "", "method-chip-all", pickMethod("")),
    chip("Ship", null, q.method === "ship", "method-chip-ship", pickMethod("ship")),
    chip("Pickup", null, q.method === "pickup", "method-chip-pickup", pickMethod("pickup")),
  );
}

function renderSearchNote() {
  const note = $("queue-search");
  note.hidden = !app.queue.q;
  if (note.hidden) return;
  const clearSearch = h("button", { type: "button", class: "btn ghost", testid: "queue-search-clear" }, "Clear search");
  clearSearch.addEventListener("click", () => {
    app.queue.q = "";
    app.queue.filter = "todo";
    run(null, loadQueue);
    keepFocus();
  });
  clear(note).append(`Orders matching “${app.queue.q}” `, clearSearch);
}

// The SLA clock a row or header shows: accept-by while routed, then ship-by (ready-by for
// pickups) while the order is open. Finished orders have none.
function slaClock(o, testid) {
  if (o.state === "routed")
    return h("span", { class: "countdown", testid, data: { deadline: String(o.deadline || o.accept_by - app.clockSkewMs), warn: String(sla().accept_warn_ms), kind: "accept" } });
  // A pickup on its shelf has met its ready-by time; the customer's clock is not ours.
  if (!ACTIVE_STATES.includes(o.state) || o.state === "ready_for_pickup" || !o.ship_by) return null;
  return h("span", { class: "countdown", testid, data: { deadline: String(o.ship_by - app.clockSkewMs), warn: String(sla().ship_warn_ms), kind: o.method === "pickup" ? "ready" : "ship" } });
}

// How long a pickup has been on the shelf (ticking), marked when it is overdue for return
// to stock (pickup.return_after_days). Null for other orders.
function waitingOnShelf(o, testid) {
  if (o.state !== "ready_for_pickup" || !o.ready_at) return null;
  return h(
    "span",
    { class: "waiting-cell", testid, data: { overdue: String(Boolean(o.uncollected_overdue)) } },
    h("span", { class: "waited", data: { since: String(o.ready_at - app.clockSkewMs) } }),
    o.uncollected_overdue ? h("span", { class: "badge overdue", testid: `${testid}-overdue` }, "Overdue") : null,
  );
}

// A transfer to another store ships like an order; the associate is told it is one.
const METHOD_WORDS = { ship: "Ship", pickup: "Pickup", transfer: "Transfer" };
const methodOf = (o) => (o.kind === "transfer" ? "transfer" : o.method);
const storeName = (d) => (d ? [d.id, d.name].filter(Boolean).join(" ") : "another store");

function renderQueue() {
  renderSearchNote();
  const list = clear($("queue-list"));
  $("queue-empty").hidden = app.queue.orders.length > 0;
  $("queue-empty").textContent = app.queue.q ? `No order matches “${app.queue.q}”.` : "No orders here.";
  for (const o of app.queue.orders) {
    const due = slaClock(o, "sla") || waitingOnShelf(o, "queue-waiting");
    list.append(
      h(
        "li",
        { class: o.state === "accepted" ? "selectable" : "" },
        o.state === "accepted" ? selectBox(o) : null,
        h(
          "a",
          { class: "order-row", href: `#/order/${enc(o.id)}`, testid: `queue-order-${o.id}`, data: { state: o.state, method: o.method, kind: o.kind || "customer", id: o.id, overdue: String(Boolean(o.uncollected_overdue)) } },
          h("span", { class: "ref" }, o.order_ref),
          h("span", { class: `badge method-${methodOf(o)}`, testid: "queue-method" }, METHOD_WORDS[methodOf(o)]),
          h("span", { class: `badge state state-${o.state}` }, humanize(o.state)),
          h("span", { class: "customer", testid: "queue-customer" }, o.kind === "transfer" ? `to ${storeName(o.destination_store)}` : o.customer_name || ""),
          h("span", { class: "units" }, `${o.units} item${o.units === 1 ? "" : "s"}`),
          h("span", { class: "muted id" }, o.id),
          o.capacity_flag ? h("span", { class: "badge capacity-flag", testid: "queue-capacity-flag", title: "Routed while the store was not taking orders" }, CAPACITY_FLAG_WORDS[o.capacity_flag] || humanize(o.capacity_flag)) : null,
          due,
        ),
      ),
    );
  }
  tick();
}

// What the store takes: a bar above the queue when it is not taking orders (or has a daily
// limit), and a manager's pause and resume.
const CAPACITY_FLAG_WORDS = { paused: "Came while paused", closed: "Came while closed", over_capacity: "Over capacity" };

function renderCapacity(c) {
  app.capacity = c;
  const manager = app.session && app.session.role === "manager";
  const limited = c.orders_per_day !== null;
  let text = "";
  if (c.pause) text = `Not taking orders: paused, ${humanize(c.pause.reason)}${c.pause.note ? ` (${c.pause.note})` : ""}${c.pause.paused_until ? ` until ${time(c.pause.paused_until)}` : ""}.`;
  else if (!c.open_now) text = "Closed now (opening hours): orders routed now wait for the opening.";
  else if (c.flag_now === "over_capacity") text = `Today's capacity is used up: ${c.routed_today} of ${c.orders_per_day} orders.`;
  else if (limited) text = `${c.remaining_today} of ${c.orders_per_day} orders left today.`;
  $("capacity-bar").hidden = !text && !manager;
  $("capacity-bar").dataset.taking = String(c.taking_orders);
  $("capacity-text").textContent = text;
  $("capacity-toggle").hidden = !manager;
  $("capacity-toggle").textContent = c.pause ? "Resume taking orders" : "Pause taking orders";
}

async function toggleCapacity() {
  if (app.capacity && app.capacity.pause) {
    renderCapacity(await api("POST", "/api/v1/capacity/resume", {}));
    return toast("Taking orders again");
  }
  const values = await ask("Pause taking orders", [
    { name: "reason", label: "Why", type: "select", options: app.reference.pause_reasons || ["other"] },
  ], "Pause");
  if (!values) return;
  renderCapacity(await api("POST", "/api/v1/capacity/pause", { reason: values.reason }));
  toast("Paused: the cloud routes no more orders here until you resume");
}

// An accepted order's tick box: ticked orders go on the next pick list together.
function selectBox(o) {
  const box = h("input", { type: "checkbox", testid: `queue-select-${o.id}`, "aria-label": `Pick ${o.order_ref} with others` });
  box.checked = app.queue.selected.has(o.id);
  box.addEventListener("change", () => {
    if (box.checked) app.queue.selected.add(o.id);
    else app.queue.selected.delete(o.id);
    renderWaveBar();
  });
  return h("label", { class: "select-box" }, box);
}

const WAVE_SIZE = 5; // orders a pick list gathers by itself when none is ticked

// The queue's pick-list bar: start one (the ticked orders, or the most urgent accepted
// ones) and the open pick lists to go back to.
function renderWaveBar() {
  const q = app.queue;
  const accepted = (q.counts && q.counts.accepted) || 0;
  const bar = $("wave-bar");
  bar.hidden = accepted === 0 && q.waves.length === 0;
  const start = $("wave-start");
  start.hidden = accepted === 0;
  const n = q.selected.size;
  const label = n ? `Pick ${n} ticked together` : `Pick the next ${Math.min(WAVE_SIZE, accepted)} together`;
  clear(start).append(label, " ", h("kbd", {}, "Alt+W"));
  start.dataset.selected = String(n);
  const open = clear($("wave-open"));
  for (const w of q.waves)
    open.append(h("a", { class: "badge wave", href: `#/wave/${enc(w.id)}`, testid: `wave-link-${w.id}` }, `${w.id} · ${w.open_units} to pick`));
}

async function startWave() {
  const q = app.queue;
  const ticked = q.orders.filter((o) => q.selected.has(o.id)).map((o) => o.id);
  const body = ticked.length ? { orders: ticked } : { rule: { max_orders: WAVE_SIZE, ...(q.method ? { method: q.method } : {}) } };
  const list = await api("POST", "/api/v1/pick-lists", body);
  q.selected.clear();
  const problems = (list.printing && list.printing.problems) || [];
  toast(`Pick list ${list.id}: ${list.orders.length} orders, ${list.open_units} items${problems.length ? " (not printed)" : ", printing"}`);
  location.hash = `#/wave/${enc(list.id)}`;
}

const CLOCK_WORDS = { accept: "accept", ship: "ship", ready: "ready for pickup" };

// Every second: the SLA clocks (queue and detail), the attention banner, and the alarms of
// clocks that crossed a threshold.
function tick() {
  const now = Date.now();
  for (const el of document.querySelectorAll(".countdown")) {
    const left = Number(el.dataset.deadline) - now;
    const words = CLOCK_WORDS[el.dataset.kind] || "accept";
    const level = slaLevel(left, Number(el.dataset.warn) || SLA_DEFAULTS.accept_warn_ms);
    el.dataset.sla = level;
    el.textContent = left > 0 ? `${words} within ${duration(left)}` : `${words} deadline passed ${duration(-left)} ago`;
    el.classList.toggle("urgent", level !== "within");
  }
  for (const el of document.querySelectorAll(".waited")) el.textContent = `Waiting ${waited(now - Number(el.dataset.since))}`;
  updateAttention();
  announceSla();
}

// ---------------------------------------------------------------------------------------
// Order detail: actions, picking by scan
// ---------------------------------------------------------------------------------------

async function openOrder(id) {
  if (!app.order || app.order.id !== id) {
    app.order = null;
    app.orderKey = "";
    app.packDraft = null;
    clearOrderView();
  }
  showScreen("order");
  await run(null, async () => {
    await refreshOrder(id);
    await loadPrintJobs(id);
  });
}

function clearOrderView() {
  for (const id of ["order-ref", "order-method", "order-state", "order-meta", "order-customer", "order-address", "scan-last", "pick-progress"])
    $(id).textContent = "";
  clear($("pick-list"));
  clear($("order-actions"));
  for (const id of ["print-result", "print-buttons", "print-jobs"]) clear($(id));
  app.printJobs = { orderId: "", jobs: [] };
  app.printResult = null;
  for (const id of ["pack-card", "ready-card", "packages-card", "print-card", "print-result", "handover-card", "pickup-card", "done-card", "order-sla", "desk-indicator", "order-claim"]) $(id).hidden = true;
}

async function refreshOrder(id) {
  const o = await api("GET", `/api/v1/orders/${enc(id)}`);
  if (app.screen === "order" && location.hash.endsWith(`/${enc(id)}`)) setOrder(o);
}

// Re-render only when the order changed, so a refresh triggered by our own action's event
// does not wipe what the associate is typing.
function setOrder(o) {
  // A slow GET can answer after a newer scan's response: never step back in time.
  if (app.order && app.order.id === o.id && o.updated_at < app.order.updated_at) return;
  const key = JSON.stringify(o);
  const stateChanged = !app.order || app.order.id !== o.id || app.order.state !== o.state;
  app.order = o;
  syncDesk(); // picking started or ended: open or end the desk's session
  if (key === app.orderKey) return;
  app.orderKey = key;
  renderOrder();
  // A new step: show it from the top (the header says where the order is now), without the
  // previous step's hint.
  if (stateChanged) {
    window.scrollTo(0, 0);
    $("toast").hidden = true;
  }
}

const allowed = (action) => app.order && app.order.allowed_actions.includes(action);

function renderOrder() {
  const o = app.order;
  renderOrderHead(o);
  renderActions(o);
  renderPickList(o);
  renderPack(o);
  renderReady(o);
  renderPackages(o);
  renderPrint(o);
  renderHandover(o);
  renderPickup(o);
  renderDone(o);
  renderDeskIndicator();
  renderScanCard(o);
  keepFocus();
}

// Judged here, not by the claim's `mine`: a desk scanner's pushed result carries the order
// as the scanner saw it.
const claimedByOther = (o) => Boolean(o.claim && app.session && o.claim.holder !== `terminal:${app.session.id}`);

// The scan field is there only where a scan picks: while picking (a scan into an accepted
// order starts picking first), and not while another terminal holds the order.
function renderScanCard(o) {
  const picking = ["accepted", "picking"].includes(o.state) && !o.on_hold;
  $("scan-card").hidden = !picking || claimedByOther(o);
  const hint = $("scan-hint");
  if (o.state === "accepted") hint.textContent = "The first scan starts picking (or Alt+S). Alt+X rejects.";
  else if (o.lines.every((l) => l.open === 0)) hint.textContent = "Every line is done: Alt+C completes picking.";
  else hint.textContent = "Scan each item. A missing item: Short pick… on its line (Tab to it).";
}

function renderOrderHead(o) {
  $("order-ref").textContent = o.order_ref;
  $("order-method").textContent = METHOD_WORDS[methodOf(o)];
  $("order-method").className = `badge method-${methodOf(o)}`;
  $("order-method").dataset.method = o.method;
  const state = $("order-state");
  state.textContent = humanize(o.state);
  state.dataset.state = o.state;
  state.className = `badge state state-${o.state}`;
  $("order-hold").hidden = !o.on_hold;
  const claim = $("order-claim");
  claim.hidden = !claimedByOther(o);
  claim.textContent = claimedByOther(o) ? `Being picked on ${o.claim.holder_name} since ${time(o.claim.claimed_at)}` : "";
  const wave = $("order-wave");
  wave.hidden = !o.pick_list;
  if (o.pick_list) {
    wave.textContent = `${o.pick_list.id} · tote ${o.pick_list.tote}`;
    wave.href = `#/wave/${enc(o.pick_list.id)}`;
  }
  const units = o.lines.reduce((n, l) => n + l.quantity, 0);
  const shelf = o.pickup_shelf ? ` · on shelf ${o.pickup_shelf}` : "";
  $("order-meta").textContent = `${o.id} · routed ${time(o.routed_at)} · ${o.method === "pickup" ? "ready by" : "ship by"} ${time(o.ship_by)} · ${units} unit${units === 1 ? "" : "s"}${shelf}`;
  const c = o.customer || {};
  $("order-customer").textContent = o.kind === "transfer" ? `Transfer to store ${storeName(o.destination_store)}${o.notes ? ` · ${o.notes}` : ""}` : [c.name, c.phone, c.email].filter(Boolean).join(" · ");
  const a = o.address || {};
  const addr = [a.name, a.line1, a.line2, [a.postcode, a.city].filter(Boolean).join(" "), a.region, a.country].filter(Boolean);
  $("order-address").textContent = o.method === "ship" ? addr.join(", ") : "Customer collects in store";
  // A pickup on the shelf has no clock of ours: how long it waits, and the notices sent.
  const clock = slaClock(o, "order-sla-countdown") || waitingOnShelf(o, "order-waiting");
  const box = clear($("order-sla"));
  const notices = o.state === "ready_for_pickup" && o.pickup_notices > 0;
  box.hidden = !clock && !notices;
  if (clock) box.append(clock);
  // The first notice went when the order became ready: a notice sent again is the 2nd.
  if (notices) box.append(h("p", { class: "muted notices", testid: "pickup-notices" }, `Pickup notice sent (${ordinal(o.pickup_notices + 1)})`));
  tick();
}

// The buttons for what the server says may happen next. Pack, ship and collect have their
// own panels; "cancel" comes from the cloud only and has no terminal endpoint.
// Each with its Alt+key shortcut (ready for pickup, pack and hand over have their panels).
const ACTIONS = [
  { action: "accept", label: "Accept", cls: "primary", key: "KeyA", fn: (o) => post(o, "accept") },
  { action: "accept_part", label: "Accept part…", cls: "", key: "KeyY", fn: acceptPart },
  { action: "unaccept", label: "Un-accept", cls: "", key: "KeyZ", fn: (o) => post(o, "unaccept") },
  { action: "unpack", label: "Unpack", cls: "", key: "KeyZ", fn: (o) => post(o, "unpack") },
  { action: "start_picking", label: "Start picking", cls: "primary", key: "KeyS", fn: (o) => post(o, "start-picking") },
  { action: "complete_picking", label: "Complete picking", cls: "primary", key: "KeyC", fn: (o) => post(o, "complete-picking") },
  { action: "unlock_pickup", label: "Unlock pickup", cls: "", key: "KeyU", fn: (o) => post(o, "unlock-pickup") },
  { action: "send_pickup_notice", label: "Send pickup notice again", cls: "", key: "KeyN", fn: sendPickupNotice },
  { action: "return_uncollected", label: "Return to stock…", cls: "danger", key: "KeyT", fn: returnToStock },
  { action: "release_claim", label: "Release claim", cls: "", key: "KeyL", fn: (o) => post(o, "release-claim") },
  { action: "reject", label: "Reject…", cls: "danger", key: "KeyX", fn: rejectOrder },
];

// "Alt+A" for the KeyA shortcut.
const keyLabel = (code) => `Alt+${code.replace(/^Key|^Digit/, "")}`;

function offered(o, action) {
  // Unlocking only makes sense on a manager terminal after wrong codes were typed.
  if (action === "unlock_pickup") return allowed(action) && app.session.role === "manager" && o.pickup_attempts > 0;
  if (action === "release_claim") return claimedByOther(o) && app.session.role === "manager";
  // Offered by the server only once the pickup is overdue; a manager's decision.
  if (action === "return_uncollected") return allowed(action) && app.session.role === "manager";
  // Some units but not all: worth offering only where there is more than one.
  if (action === "accept_part") return allowed("accept") && o.lines.reduce((n, l) => n + l.quantity, 0) > 1;
  // Another terminal's order: only a manager releases or rejects it (or the cloud cancels).
  if (claimedByOther(o)) return action === "reject" && app.session.role === "manager" && allowed(action);
  return allowed(action);
}

function renderActions(o) {
  const bar = clear($("order-actions"));
  for (const a of ACTIONS) {
    if (!offered(o, a.action)) continue;
    const btn = h("button", { type: "button", class: `btn big ${a.cls}`, testid: `action-${a.action}`, data: { shortcut: a.key } }, a.label, " ", h("kbd", {}, keyLabel(a.key)));
    btn.addEventListener("click", () => run(btn, () => a.fn(app.order)));
    bar.append(btn);
  }
}

async function post(o, path, body = {}) {
  // Pack and ready-for-pickup also answer what they printed: that is not part of the order
  // (a later GET has no such field), so it is kept apart and shown on the Print card.
  const { printing, ...updated } = await api("POST", `/api/v1/orders/${enc(o.id)}/${path}`, body);
  clearAlert();
  setOrder(updated);
  if (printing) {
    showPrinted(updated.id, path === "pack" ? "Printed with pack" : "Printed for pickup", printing.jobs || [], printing.problems || []);
    loadPrintJobs(updated.id).catch(() => {});
  }
  return updated;
}

// Accept the units in stock, reject the rest with a reason (the cloud reroutes them).
async function acceptPart(o) {
  const fields = o.lines.map((l) => ({ name: `line_${l.line_no}`, label: `${l.title || l.sku}: units to accept (of ${l.quantity})`, type: "number", min: 0, max: l.quantity, value: l.quantity }));
  fields.push({ name: "reason", label: "Reason for the rest", type: "select", options: app.reference.reject_reasons });
  const values = await ask(`Accept part of ${o.order_ref}`, fields, "Accept these");
  if (!values) return;
  const lines = o.lines
    .map((l) => ({ line_no: l.line_no, quantity: Number(values[`line_${l.line_no}`]) }))
    .filter((x, i) => x.quantity !== o.lines[i].quantity);
  await post(o, "accept", lines.length ? { lines, reason: values.reason } : {});
}

async function sendPickupNotice(o) {
  const updated = await post(o, "pickup-notice");
  toast(`Pickup notice sent (${ordinal(updated.pickup_notices + 1)}): the customer hears from us again.`);
}

async function returnToStock(o) {
  const values = await ask(`Return ${o.order_ref} to stock? Waiting ${waited(Date.now() + app.clockSkewMs - o.ready_at)}: the order is cancelled (not collected) and its items go back on the shelf.`, [], "Return to stock");
  if (!values) return;
  const updated = await post(o, "return-uncollected");
  const items = updated.lines.reduce((n, l) => n + l.picked, 0);
  showNotice(`${updated.order_ref} returned to stock: put its ${items} item${items === 1 ? "" : "s"} back on the shelf${o.pickup_shelf ? ` (from ${o.pickup_shelf})` : ""}.`, "returned_uncollected");
}

// What a reason does to stock (the store's rejection policy), said before confirming: an
// associate who picks "out of stock" should know the shelf is then counted empty.
const STOCK_EFFECT_WORDS = {
  count_zero: "the shelf is counted as empty",
  reduce_on_hand: "stock is reduced by the missing units",
  unsellable: "the units are booked as damaged",
};
function reasonLabel(reason) {
  const effect = ((app.reference && app.reference.reason_effects) || {})[reason];
  const words = effect && STOCK_EFFECT_WORDS[effect.stock];
  return words ? `${humanize(reason)} (${words})` : humanize(reason);
}

async function rejectOrder(o) {
  const values = await ask("Reject this order", [
    { name: "reason", label: "Reason", type: "select", options: app.reference.reject_reasons, label_of: reasonLabel },
  ], "Reject order");
  if (values) await post(o, "reject", { reason: values.reason });
}

function ticks(line) {
  const box = h("span", { class: "ticks", "aria-hidden": "true" });
  for (let i = 0; i < line.quantity; i++) {
    if (i < line.picked) box.append(h("span", { class: "tick picked" }, "✓"));
    else if (i < line.picked + line.rejected) box.append(h("span", { class: "tick short" }, "✕"));
    else box.append(h("span", { class: "tick open" }, "○"));
  }
  return box;
}

function renderPickList(o) {
  const list = clear($("pick-list"));
  const canShort = allowed("short_pick");
  for (const l of o.pick_walk) {
    const li = h(
      "li",
      {
        class: `pick-line${l.open === 0 ? " done" : ""}`,
        testid: `pick-line-${l.line_no}`,
        data: { line: String(l.line_no), sku: l.sku, picked: String(l.picked), quantity: String(l.quantity), open: String(l.open), rejected: String(l.rejected) },
      },
      h("span", { class: "bin" }, l.bin || "no bin"),
      h(
        "span",
        { class: "what" },
        h("span", { class: "title" }, l.title || l.sku),
        h("span", { class: "muted" }, `${l.sku} · ${l.barcodes.join(", ") || "no barcode"}`),
        h("span", { class: "muted stock-note", testid: `pick-stock-${l.line_no}` }, `${l.on_hand} on hand · ${l.available} available`),
        l.rejected ? h("span", { class: "short-note" }, `${l.rejected} short: ${humanize(l.reject_reason)}`) : null,
      ),
      ticks(l),
      h("span", { class: "count", testid: `pick-count-${l.line_no}` }, `${l.picked}/${l.quantity}`),
    );
    if (canShort && l.open > 0) {
      const btn = h("button", { type: "button", class: "btn", testid: `short-pick-${l.line_no}` }, "Short pick…");
      btn.addEventListener("click", () => run(btn, () => shortPick(l)));
      li.append(btn);
    }
    list.append(li);
  }
  const sum = (k) => o.lines.reduce((n, l) => n + l[k], 0);
  const short = sum("rejected");
  $("pick-progress").textContent = `${sum("picked")} of ${sum("quantity")} picked${short ? `, ${short} short` : ""}`;
}

async function shortPick(line) {
  const values = await ask(`Short pick: ${line.title || line.sku}`, [
    { name: "quantity", label: `Units missing (up to ${line.open})`, type: "number", min: 1, max: line.open, value: line.open },
    { name: "reason", label: "Reason", type: "select", options: app.reference.short_pick_reasons },
  ], "Short pick");
  if (!values) return;
  await post(app.order, "short-pick", { line_no: line.line_no, quantity: Number(values.quantity), reason: values.reason });
}

function onScanKey(e) {
  if (e.key !== "Enter") return;
  e.preventDefault();
  const code = e.target.value.trim();
  e.target.value = "";
  if (!code || !app.order) return;
  const id = app.order.id;
  // A wedge scanner can fire the next code before the last answer is back: queue them.
  app.scanChain = app.scanChain.then(() => submitScan(id, code));
}

async function submitScan(id, barcode) {
  try {
    // Scanning the first item of an accepted order is how a scanner-only desk starts picking.
    if (app.order && app.order.id === id && app.order.state === "accepted") await post(app.order, "start-picking");
    showScanResult(id, barcode, await api("POST", `/api/v1/orders/${enc(id)}/scan`, { barcode }), null);
  } catch (e) {
    if (e.status === 401) return;
    // Not an item: maybe it names an order (its pick list's QR, its number, a parcel).
    if (e.code === "unknown_barcode") {
      const hit = await lookup(barcode).catch(() => null);
      if (opens(hit)) return openFound(hit);
    }
    showScanResult(id, barcode, null, e);
  }
}

// What a scanned or typed code names: {kind: "order", order_id, order_ref, state} or
// {kind: "item", sku, ...}; null when nothing in the store is known by it.
async function lookup(code) {
  try {
    return await api("GET", `/api/v1/lookup?code=${enc(code)}`);
  } catch (e) {
    if (e.status === 404) return null;
    throw e;
  }
}

function openFound(hit) {
  clearAlert();
  sound.ok();
  if (hit.kind === "count_session") {
    toast(`Opened count ${hit.count_session_id}`);
    location.hash = `#/count/${enc(hit.count_session_id)}`;
    return;
  }
  if (hit.kind === "pick_list") {
    toast(`Opened pick list ${hit.pick_list_id}`);
    location.hash = `#/wave/${enc(hit.pick_list_id)}`;
    return;
  }
  if (hit.kind === "shipment") {
    toast(`Opened delivery ${hit.shipment_id}`);
    location.hash = `#/receiving/${enc(hit.shipment_id)}`;
    return;
  }
  toast(`Opened order ${hit.order_ref || hit.order_id}`);
  location.hash = `#/order/${enc(hit.order_id)}`;
}

const opens = (hit) => hit && ["order", "pick_list", "count_session", "shipment"].includes(hit.kind);

// The top bar's field: a scan or typed text from any screen. A code that names an order
// opens it; anything else (a name, a phone number, an item) searches the queue.
async function find(text) {
  const hit = await lookup(text);
  if (opens(hit)) return openFound(hit);
  // An item scanned while the find field had the focus (a scan right after a tap or a
  // shortcut, before the screen's scan field took it back) is a pick where one is wanted.
  if (hit && hit.kind === "item" && app.screen === "order" && app.order && !$("scan-card").hidden) {
    const id = app.order.id;
    app.scanChain = app.scanChain.then(() => submitScan(id, text));
    return app.scanChain;
  }
  if (hit && hit.kind === "item" && app.screen === "wave" && app.wave && !$("wave-scan-card").hidden) {
    const id = app.wave.id;
    app.waveChain = app.waveChain.then(() => submitWaveScan(id, text));
    return app.waveChain;
  }
  if (hit && hit.kind === "item" && app.screen === "count" && app.count && !countHome() && !$("count-scan-card").hidden) return countScan(text);
  clearAlert();
  return searchQueue(hit && hit.kind === "item" ? hit.sku : text);
}

function onFindSubmit(e) {
  e.preventDefault();
  const input = $("find-input");
  const text = input.value.trim();
  input.value = "";
  if (text) run(null, () => find(text));
}

// The feedback for one scan into order `id`, whether typed into the scan field or read by
// the desk's hardware scanner (the agent picked it and pushed the same answer): `r` is the
// scan response, or `err` the refusal.
function showScanResult(id, barcode, r, err) {
  if (err) {
    // Nothing changed on the server: leave the pick list as it is, make the refusal loud.
    sound.error();
    flash(document.body, "flash-error");
    $("scan-last").textContent = `✕ ${barcode}`;
    showError(err);
    return;
  }
  clearAlert();
  sound.ok();
  flash(document.body, "flash-ok");
  const line = r.order.lines.find((l) => l.line_no === r.line_no);
  $("scan-last").textContent = `✓ ${line ? line.title || line.sku : r.sku}: ${r.line_picked} picked, ${r.line_open} still open`;
  if (app.order && app.order.id === id) setOrder(r.order);
  flash(document.querySelector(`[data-testid="pick-line-${r.line_no}"]`), "flash-line");
  if (r.all_lines_resolved) toast("Every line is picked: tap Complete picking");
}

// ---------------------------------------------------------------------------------------
// Pick lists (waves): one walk of the store for several orders, one tote each
// ---------------------------------------------------------------------------------------

async function openWave(name) {
  if (!app.wave || app.wave.id !== name) {
    app.wave = null;
    $("wave-tote").textContent = "";
    $("wave-last").textContent = "";
    clear($("wave-stops"));
    clear($("wave-totes"));
  }
  showScreen("wave");
  await run(null, () => loadWave(name));
}

async function loadWave(name) {
  setWave(await api("GET", `/api/v1/pick-lists/${enc(name)}`));
}

function setWave(w) {
  app.wave = w;
  if (app.screen === "wave") renderWave();
}

function renderWave() {
  const w = app.wave;
  if (!w) return;
  const open = w.state === "open";
  $("wave-id").textContent = w.id;
  const state = $("wave-state");
  state.textContent = open ? "Picking" : "Done";
  state.dataset.state = w.state;
  state.className = `badge state ${open ? "state-picking" : "state-picked"}`;
  const units = w.orders.reduce((n, o) => n + o.units, 0);
  const picked = w.orders.reduce((n, o) => n + o.picked, 0);
  const short = w.orders.reduce((n, o) => n + o.short, 0);
  $("wave-progress").textContent = `${w.orders.length} orders · ${picked} of ${units} picked${short ? `, ${short} short` : ""} · ${w.open_units} to go`;
  $("wave-scan-card").hidden = !open;
  $("wave-close").hidden = !open;
  const stops = clear($("wave-stops"));
  for (const stop of w.stops) stops.append(waveStop(stop, open));
  const totes = clear($("wave-totes"));
  for (const o of w.orders)
    totes.append(
      h(
        "tr",
        { testid: `wave-tote-${o.tote}`, data: { order: o.order_id, state: o.state } },
        h("td", { class: "tote-no" }, String(o.tote)),
        h("td", {}, h("a", { href: `#/order/${enc(o.order_id)}` }, o.order_ref)),
        h("td", {}, o.customer_name),
        h("td", { class: "num" }, `${o.picked}/${o.units}${o.short ? ` (${o.short} short)` : ""}`),
        h("td", {}, h("span", { class: `badge state state-${o.state}` }, humanize(o.state))),
      ),
    );
  keepFocus();
}

// One bin of the walk: the item, which totes take how many, and a short pick when the shelf
// is empty.
function waveStop(stop, open) {
  const need = stop.slots.reduce((n, t) => n + t.quantity - t.short, 0);
  const got = stop.slots.reduce((n, t) => n + t.picked, 0);
  const totes = h("span", { class: "totes" });
  for (const t of stop.slots)
    totes.append(h("span", { class: `tote${t.open === 0 ? " done" : ""}`, testid: `wave-slot-${stop.sku}-${t.tote}`, data: { open: String(t.open) } }, `Tote ${t.tote} × ${t.quantity - t.short}`, t.open === 0 ? " ✓" : "", t.short ? ` · ${t.short} short` : ""));
  const li = h(
    "li",
    { class: `pick-line wave-stop${stop.open === 0 ? " done" : ""}`, testid: `wave-stop-${stop.sku}`, data: { sku: stop.sku, open: String(stop.open) } },
    h("span", { class: "bin" }, stop.bin || "no bin"),
    h("span", { class: "what" }, h("span", { class: "title" }, stop.title || stop.sku), h("span", { class: "muted" }, `${stop.sku} · ${stop.barcodes.join(", ") || "no barcode"}`)),
    totes,
    h("span", { class: "count" }, `${got}/${need}`),
  );
  if (open && stop.open > 0) {
    const btn = h("button", { type: "button", class: "btn", testid: `wave-short-${stop.sku}` }, "Short pick…");
    btn.addEventListener("click", () => run(btn, () => waveShort(stop)));
    li.append(btn);
  }
  return li;
}

function onWaveScanKey(e) {
  if (e.key !== "Enter") return;
  e.preventDefault();
  const code = e.target.value.trim();
  e.target.value = "";
  if (!code || !app.wave) return;
  const id = app.wave.id;
  app.waveChain = app.waveChain.then(() => submitWaveScan(id, code));
}

// The tote is called out big and heard: the picker's eyes are on the trolley, not the text.
async function submitWaveScan(id, barcode) {
  const call = $("wave-tote");
  try {
    const r = await api("POST", `/api/v1/pick-lists/${enc(id)}/scan`, { barcode });
    clearAlert();
    sound.ok();
    flash(document.body, "flash-ok");
    call.textContent = `Tote ${r.tote}`;
    call.dataset.result = "ok";
    call.dataset.tote = String(r.tote);
    $("wave-last").textContent = `✓ ${r.title || r.sku} → tote ${r.tote} (${r.order_ref})${r.order_picked ? `: ${r.order_ref} is complete` : ""}`;
    if (app.wave && app.wave.id === id) setWave(r.pick_list);
    flash(document.querySelector(`[data-testid="wave-stop-${r.sku}"]`), "flash-line");
    if (r.list_closed) toast(`Pick list ${id} is done: every tote is complete`);
  } catch (e) {
    if (e.status === 401) return;
    if (e.code === "unknown_barcode") {
      const hit = await lookup(barcode).catch(() => null);
      if (opens(hit)) return openFound(hit);
    }
    sound.error();
    flash(document.body, "flash-error");
    call.textContent = "✕ Not into a tote";
    call.dataset.result = "error";
    call.dataset.tote = "";
    $("wave-last").textContent = `✕ ${barcode}`;
    showError(e);
  }
}

async function waveShort(stop) {
  const values = await ask(`Short pick: ${stop.title || stop.sku}`, [
    { name: "quantity", label: `Units not found (up to ${stop.open}; the last totes go short first)`, type: "number", min: 1, max: stop.open, value: stop.open },
    { name: "reason", label: "Reason", type: "select", options: app.reference.short_pick_reasons },
  ], "Short pick");
  if (!values) return;
  const r = await api("POST", `/api/v1/pick-lists/${enc(app.wave.id)}/short-pick`, { sku: stop.sku, quantity: Number(values.quantity), reason: values.reason });
  clearAlert();
  setWave(r.pick_list);
  toast(`Short: ${r.shorts.map((x) => `tote ${x.tote} × ${x.quantity}`).join(", ")}`);
}

async function printWave() {
  const r = await api("POST", `/api/v1/pick-lists/${enc(app.wave.id)}/print`, {});
  toast(`Pick list ${app.wave.id} sent to ${r.jobs.map((j) => j.printer).join(", ")}`);
}

async function closeWave() {
  const left = app.wave.open_units;
  if (left > 0 && !(await ask(`End pick list ${app.wave.id}? ${left} item${left === 1 ? " is" : "s are"} still to pick: those orders stay in picking, each finished on its own.`, [], "End the walk"))) return;
  setWave(await api("POST", `/api/v1/pick-lists/${enc(app.wave.id)}/close`, {}));
}

// ---------------------------------------------------------------------------------------
// Count sessions: a manager plans a count of bins or SKUs, associates count it blind by
// scanning, the manager reviews the variances (with what moved while counting), sends lines
// back for recounting and approves
// ---------------------------------------------------------------------------------------

const COUNT_STATES = { counting: "Counting", review: "In review", approved: "Approved", cancelled: "Cancelled" };
const isManager = () => Boolean(app.session && app.session.role === "manager");
const signed = (n) => (n === null || n === undefined ? "—" : n > 0 ? `+${n}` : String(n));
const countHome = () => !$("count-home").hidden;

// #/count lists the counts (and a manager's plan form); #/count/CS-4 is one count.
async function openCount(name) {
  if (!name) {
    app.count = null;
    showScreen("count");
    $("count-home").hidden = false;
    $("count-session").hidden = true;
    $("count-plan").hidden = !isManager();
    await run(null, loadCounts);
    return;
  }
  if (!app.count || app.count.id !== name) {
    app.count = null;
    app.countRecount = new Set();
    $("count-id").textContent = name;
    $("count-call").textContent = "";
    $("count-last").textContent = "";
    clear($("count-lines"));
  }
  $("count-home").hidden = true;
  $("count-session").hidden = false;
  showScreen("count");
  await run(null, () => loadCount(name));
}

async function loadCounts() {
  const data = await api("GET", "/api/v1/count-sessions?state=all&limit=20");
  const list = clear($("count-sessions"));
  $("count-empty").hidden = data.count_sessions.some((s) => s.state === "counting" || s.state === "review");
  for (const s of data.count_sessions)
    list.append(
      h("li", { testid: `count-session-${s.id}`, data: { state: s.state } },
        h("a", { class: "count-row", href: `#/count/${enc(s.id)}` },
          h("strong", {}, s.id),
          h("span", { class: `badge count-${s.state}` }, COUNT_STATES[s.state] || s.state),
          h("span", { class: "grow" }, s.note),
          h("span", { class: "muted" }, `${s.counted_lines}/${s.line_count} counted · ${time(s.created_at)}`))),
    );
}

async function loadCount(name) {
  setCount(await api("GET", `/api/v1/count-sessions/${enc(name)}`));
}

// Re-rendered only when the session changed: a refresh after someone else's event must not
// replace the row whose button the associate is tapping (the tap would be lost).
function setCount(s) {
  const key = JSON.stringify(s);
  const same = key === app.countKey && $("count-id").textContent === s.id;
  app.count = s;
  if (app.screen !== "count" || countHome() || same) return;
  app.countKey = key;
  renderCount();
}

function renderCount() {
  const s = app.count;
  if (!s) return;
  const counting = s.state === "counting";
  const review = s.state === "review";
  const manager = isManager();
  $("count-id").textContent = s.id;
  const state = $("count-state");
  state.textContent = COUNT_STATES[s.state] || s.state;
  state.dataset.state = s.state;
  state.className = `badge count-${s.state}`;
  const what = [...s.plan.bins.map((b) => `bins ${b}…`), ...s.plan.skus].join(", ");
  $("count-progress").textContent = `${s.counted_lines} of ${s.line_count} lines counted · ${what}${s.note ? ` · ${s.note}` : ""}${s.cancel_reason ? ` · cancelled: ${s.cancel_reason}` : ""}`;
  $("count-scan-card").hidden = !counting || s.open_lines === 0;
  $("count-submit").hidden = !counting;
  $("count-recount").hidden = !(manager && review);
  $("count-approve").hidden = !(manager && review);
  $("count-cancel").hidden = !(manager && (counting || review));
  $("count-review-note").hidden = !s.figures;
  for (const sku of [...app.countRecount]) if (!s.lines.some((l) => l.sku === sku)) app.countRecount.delete(sku);
  $("count-recount").dataset.selected = String(app.countRecount.size);
  const head = clear($("count-head"));
  const th = (label, num) => h("th", { class: num ? "num" : null }, label);
  if (s.figures)
    head.append(h("tr", {}, review ? th("Again") : null, th("Bin"), th("Item"), th("Expected", true), th("Counted", true), th("Variance", true),
      th("Moved after count", true), th(s.state === "approved" ? "Posted" : "On hand now", true)));
  else head.append(h("tr", {}, th("Bin"), th("Item"), th("Counted", true), th("")));
  const body = clear($("count-lines"));
  for (const l of s.lines) body.append(s.figures ? reviewLine(s, l, review) : blindLine(l, counting));
  keepFocus();
}

// Counting is blind: the line shows what was counted, never what the books hold.
function blindLine(l, counting) {
  const uncounted = l.counted === null;
  const action = h("td", {});
  if (counting && l.open && uncounted) {
    const btn = h("button", { type: "button", class: "btn", testid: `count-none-${l.sku}` }, "None here");
    btn.addEventListener("click", () => run(btn, () => countNone(l.sku)));
    action.append(btn);
  }
  return h("tr", { class: uncounted ? "uncounted" : null, testid: `count-line-${l.sku}`, data: { sku: l.sku, counted: uncounted ? "" : String(l.counted), open: String(l.open) } },
    h("td", { class: "bin" }, l.bin || "no bin"),
    h("td", { class: "item" }, h("div", { class: "title" }, l.title || l.sku), h("div", { class: "muted" }, `${l.sku}${l.round > 1 ? ` · counted again` : ""}`)),
    h("td", { class: "num strong" }, uncounted ? "—" : String(l.counted)),
    action);
}

// The review: each line against the books at its count, and the movements while counting.
function reviewLine(s, l, review) {
  const cells = [];
  if (review) {
    const box = h("input", { type: "checkbox", testid: `count-again-${l.sku}`, checked: app.countRecount.has(l.sku), "aria-label": `Count ${l.sku} again` });
    box.addEventListener("change", () => {
      if (box.checked) app.countRecount.add(l.sku);
      else app.countRecount.delete(l.sku);
      $("count-recount").dataset.selected = String(app.countRecount.size);
    });
    cells.push(h("td", {}, box));
  }
  const moves = l.movements.length
    ? h("details", { class: "moves", testid: `count-moves-${l.sku}` },
      h("summary", {}, `${l.movements.length} movement${l.movements.length === 1 ? "" : "s"} while counting`),
      h("ul", {}, ...l.movements.map((m) => h("li", { class: m.after_count ? "after" : "before" },
        `${signed(m.delta)} ${humanize(m.kind)}${m.reason ? ` (${m.reason})` : ""}, ${m.after_count ? "after" : "before"} the count, ${time(m.at)}`))))
    : null;
  const v = l.variance;
  return h("tr", { class: v ? "variance" : null, testid: `count-line-${l.sku}`, data: { sku: l.sku, variance: v === null ? "" : String(v), movedAfter: String(l.moved_after_count) } },
    ...cells,
    h("td", { class: "bin" }, l.bin || "no bin"),
    h("td", { class: "item" }, h("div", { class: "title" }, l.title || l.sku), h("div", { class: "muted" }, l.sku), moves),
    h("td", { class: "num" }, String(l.expected), l.moved_before_count ? h("div", { class: "muted" }, `${signed(l.moved_before_count)} before`) : null),
    h("td", { class: "num strong" }, l.counted === null ? "—" : String(l.counted)),
    h("td", { class: `num strong${v < 0 ? " neg" : v > 0 ? " pos" : ""}`, testid: `count-variance-${l.sku}` }, signed(v)),
    h("td", { class: "num", testid: `count-moved-${l.sku}` }, signed(l.moved_after_count)),
    h("td", { class: "num" }, s.state === "approved" ? signed(l.posted_delta) : String(l.on_hand_now)));
}

function onCountScanKey(e) {
  if (e.key !== "Enter") return;
  e.preventDefault();
  const code = e.target.value.trim();
  e.target.value = "";
  if (code) countScan(code);
}

// A scan from the field, the find field or the desk's scanner, with the units per scan.
function countScan(code) {
  if (!app.count) return app.countChain;
  const id = app.count.id;
  // Units per scan are for one scan of a multiple (a case of 12): back to 1 after it.
  const quantity = Math.max(1, Number($("count-qty").value) || 1);
  $("count-qty").value = "1";
  app.countChain = app.countChain.then(() => submitCountScan(id, code, quantity));
  return app.countChain;
}

async function submitCountScan(id, barcode, quantity) {
  const call = $("count-call");
  try {
    const r = await api("POST", `/api/v1/count-sessions/${enc(id)}/scan`, { barcode, quantity });
    clearAlert();
    sound.ok();
    flash(document.body, "flash-ok");
    call.textContent = `${r.counted} × ${r.title || r.sku}`;
    call.dataset.result = "ok";
    $("count-last").textContent = `✓ +${r.quantity} ${r.sku} (${r.bin || "no bin"}): ${r.counted} counted`;
    if (app.count && app.count.id === id) setCount(r.count_session);
    flash(document.querySelector(`[data-testid="count-line-${CSS.escape(r.sku)}"]`), "flash-line");
  } catch (e) {
    if (e.status === 401) return;
    if (e.code === "unknown_barcode") {
      const hit = await lookup(barcode).catch(() => null);
      if (opens(hit)) return openFound(hit);
    }
    sound.error();
    flash(document.body, "flash-error");
    call.textContent = "✕ Not counted";
    call.dataset.result = "error";
    $("count-last").textContent = `✕ ${barcode}`;
    showError(e);
  }
}

async function countNone(sku) {
  const s = await api("POST", `/api/v1/count-sessions/${enc(app.count.id)}/none-found`, { sku });
  clearAlert();
  setCount(s);
  toast(`${sku}: none here`);
}

async function planCount(e) {
  e.preventDefault();
  const words = (id) => $(id).value.split(/[\s,;]+/).filter(Boolean);
  const bins = words("count-plan-bins");
  const skus = words("count-plan-skus");
  if (!bins.length && !skus.length) {
    showAlert("error", "Name the bins (or bin prefixes) or the SKUs to count.", "missing_field");
    return;
  }
  await run(e.submitter, async () => {
    const s = await api("POST", "/api/v1/count-sessions", { bins, skus, note: $("count-plan-note").value.trim() });
    for (const id of ["count-plan-bins", "count-plan-skus", "count-plan-note"]) $(id).value = "";
    clearAlert();
    toast(`Count ${s.id} started: ${s.line_count} line${s.line_count === 1 ? "" : "s"} to count`);
    location.hash = `#/count/${enc(s.id)}`;
  });
}

async function submitCount() {
  const s = await api("POST", `/api/v1/count-sessions/${enc(app.count.id)}/submit`, {});
  clearAlert();
  setCount(s);
  toast(`Count ${s.id} is done: a manager reviews it`);
}

async function recountCount() {
  const skus = [...app.countRecount];
  if (!skus.length) {
    showAlert("error", "Tick the lines to count again first.", "nothing_ticked");
    return;
  }
  const s = await api("POST", `/api/v1/count-sessions/${enc(app.count.id)}/recount`, { skus });
  app.countRecount = new Set();
  clearAlert();
  setCount(s);
  toast(`${skus.length} line${skus.length === 1 ? "" : "s"} sent back for counting`);
}

async function approveCount() {
  const s = app.count;
  const off = s.lines.filter((l) => l.variance).length;
  const words = off ? `${off} line${off === 1 ? " differs" : "s differ"} from the books: the differences post to stock.` : "Every line matches the books.";
  if (!(await ask(`Approve count ${s.id}? ${words}`, [], "Approve and post"))) return;
  setCount(await api("POST", `/api/v1/count-sessions/${enc(s.id)}/approve`, {}));
  clearAlert();
  toast(`Count ${s.id} approved`);
}

async function cancelCount() {
  const values = await ask(`Cancel count ${app.count.id}? Nothing is posted.`, [{ name: "reason", label: "Why", type: "text" }], "Cancel count");
  if (!values) return;
  setCount(await api("POST", `/api/v1/count-sessions/${enc(app.count.id)}/cancel`, { reason: values.reason }));
  clearAlert();
}

// Another terminal counted or reviewed: show it (once per burst of scans).
function onCountSessionChanged(msg) {
  if (app.screen !== "count") return;
  if (!countHome() && !(app.count && app.count.id === msg.count_session_id)) return;
  clearTimeout(app.countTimer);
  app.countTimer = setTimeout(() => refreshCount().catch(() => {}), 200);
}

async function refreshCount() {
  if (app.screen !== "count") return;
  if (countHome()) await loadCounts();
  else if (app.count) await loadCount(app.count.id);
}

// ---------------------------------------------------------------------------------------
// The desk's hardware scanner: station session and pushed scans
// ---------------------------------------------------------------------------------------

// A terminal paired to a station (pack desk) opens the station's session on the order it
// shows while that order is being picked, so the desk's hardware scanner picks into it, and
// ends the session when it leaves the order or picking ends. Failures here never break the
// screen: the scan field still picks, and the pick card says why the desk scanner does not.
function syncDesk() {
  app.deskChain = app.deskChain.then(reconcileDesk).catch(() => {});
}

// The order the desk's scanner should pick into according to this terminal, or "".
function deskWanted() {
  const o = app.order;
  if (!app.session || !app.session.station || !app.deskScanners || app.screen !== "order" || !o || o.state !== "picking") return "";
  if (claimedByOther(o)) return "";
  return o.id;
}

async function reconcileDesk() {
  const desk = app.desk;
  const want = deskWanted();
  // Declining lasts while the associate stays on that order; coming back to it tries again.
  if (want !== desk.declined) desk.declined = "";
  if (desk.orderId && desk.orderId !== want) await closeDesk();
  if (want && want !== desk.orderId && want !== desk.declined) {
    try {
      await api("PUT", `/api/v1/stations/${enc(app.session.station)}/session`, { order_id: want });
      desk.orderId = want;
    } catch (e) {
      desk.declined = want;
      desk.reason = e.message;
    }
  }
  renderDeskIndicator();
}

// Ends the session only if it is still the one this terminal opened: another terminal at
// the same desk may have opened its own since, and that one is not ours to end.
async function closeDesk() {
  const orderId = app.desk.orderId;
  app.desk.orderId = "";
  if (!app.session || !app.session.station) return;
  const station = app.session.station;
  try {
    const { stations } = await api("GET", "/api/v1/stations");
    const s = (stations.find((x) => x.station === station) || {}).session;
    if (s && s.order_id === orderId && s.opened_by === `terminal:${app.session.id}`)
      await api("DELETE", `/api/v1/stations/${enc(station)}/session`);
  } catch {
    // The agent ends a session by itself once its order leaves picking.
  }
}

// The session went elsewhere (another terminal at the desk took it) or was ended: stop
// claiming it, and do not take it back while the associate stays on this order.
function loseDesk(reason) {
  app.desk.declined = app.desk.orderId;
  app.desk.orderId = "";
  app.desk.reason = reason;
  renderDeskIndicator();
}

// Another terminal (or fulfilctl) opened or ended this desk's session: the scanner no longer
// picks into this terminal's order.
function onStationSession(msg) {
  if (app.screen === "devices") loadStations().catch(() => {});
  const mine = app.session && `terminal:${app.session.id}`;
  const orderId = app.desk.orderId;
  if (!orderId || !app.session || msg.station !== app.session.station) return;
  if (msg.session && (msg.session.order_id !== orderId || msg.session.opened_by !== mine))
    loseDesk(`the desk now picks into ${msg.session.order_ref || msg.session.order_id}`);
  else if (!msg.session && msg.ended && msg.ended.order_id === orderId && msg.ended.opened_by === mine)
    loseDesk("the desk's session was ended");
}

// Back after a lost connection: fulfild ends the sessions of a terminal that stays away
// longer than api.desk_session_grace_s. One that ended is opened again (the associate is
// still at this order); one another terminal opened since is left to it.
function recheckDesk() {
  const orderId = app.desk.orderId;
  if (!orderId || !app.session || !app.session.station) return;
  app.deskChain = app.deskChain.then(async () => {
    const { stations } = await api("GET", "/api/v1/stations");
    const s = (stations.find((x) => x.station === app.session.station) || {}).session;
    if (app.desk.orderId !== orderId || (s && s.order_id === orderId && s.opened_by === `terminal:${app.session.id}`)) return;
    if (s) return loseDesk(`the desk now picks into ${s.order_ref || s.order_id}`);
    app.desk.orderId = "";
    await reconcileDesk();
  }).catch(() => {});
}

function renderDeskIndicator() {
  const el = $("desk-indicator");
  const o = app.order;
  const station = app.session && app.session.station;
  const on = Boolean(o && station && app.desk.orderId === o.id);
  const off = Boolean(o && station && !on && app.desk.declined === o.id);
  el.hidden = app.screen !== "order" || !(on || off);
  el.dataset.state = on ? "on" : "off";
  el.textContent = on ? "Desk scanner: picking into this order" : `Desk scanner: not picking into this order (${app.desk.reason})`;
}

function scanRefusal(msg) {
  const e = (msg.result && msg.result.error) || {};
  return new ApiError(msg.status, e.code || `http_${msg.status}`, e.message || `scan refused (${msg.status})`, e);
}

// A read of this desk's hardware scanner, pushed by the agent (see /api/v1/events).
function onHardwareScan(msg) {
  // An action barcode presses a button; the agent leaves the desk's session as it was.
  if (msg.action || isActionCode(msg.data)) return queueAction(msg.data);
  const o = app.order;
  const onOrder = app.screen === "order" && o;
  if (app.desk.orderId && msg.order_id !== app.desk.orderId)
    loseDesk(msg.order_id ? `the desk now picks into ${msg.order_id}` : "the desk's session was ended");
  if (app.screen === "devices") loadDevices().catch(() => {}); // its scan counters moved
  if (msg.order_id) {
    if (onOrder && msg.order_id === o.id) {
      const ok = msg.status >= 200 && msg.status < 300;
      showScanResult(o.id, msg.data, ok ? msg.result : null, ok ? null : scanRefusal(msg));
      refreshOrder(o.id).catch(() => {}); // e.g. after a refusal, in case another change was missed
    } else {
      toast(`Desk scanner: ${msg.data} went to order ${msg.order_id}`);
    }
    return;
  }
  // Nothing was picked: put the code where this screen expects a scan.
  if (app.screen === "stock") {
    $("stock-query").value = msg.data;
    $("stock-form").requestSubmit();
  } else if (app.screen === "count" && app.count && !countHome() && !$("count-scan-card").hidden) {
    countScan(msg.data);
  } else if (onOrder && !$("pickup-card").hidden) {
    $("pickup-code").value = msg.data;
    $("pickup-code").focus();
  } else if (onOrder && o.state === "picking") {
    toast(`Scanned ${msg.data} — the desk scanner is not picking into this order: use the scan field`);
  } else {
    toast(`Scanned ${msg.data} — open an order to pick into it`);
  }
}

// A scanner, a printer or a print job changed state: refresh what this screen shows of them.
function onDevicesChanged(msg) {
  // The scanners were reconfigured (SIGHUP): a desk without one gets no session.
  if (msg.scanners && app.session) app.deskScanners = msg.scanners.some((x) => x.station && x.station === app.session.station);
  if (app.screen === "order" && app.order) loadPrintJobs(app.order.id).catch(() => {});
  if (app.screen !== "devices") return;
  if (msg.scanners) renderScanners(msg.scanners);
  loadStations().catch(() => {});
  loadPrinters().catch(() => {});
}

// ---------------------------------------------------------------------------------------
// Action barcodes: the desk's printed sheet presses this screen's buttons
// ---------------------------------------------------------------------------------------

// The codes printed on the action sheet (POST /api/v1/action-sheet/print). "*" begins no
// item, order or parcel code (see drivers/include/codes/action_codes.hpp).
const ACTION_PREFIX = "*ACT-";

// An AIM symbology identifier ("]C0") from a desk scanner, and spaces, are not the code.
const bareCode = (raw) => String(raw).trim().replace(/^\][A-Za-z0-9]{2}/, "");
const isActionCode = (raw) => bareCode(raw).startsWith(ACTION_PREFIX);

// The visible, usable element showing an Alt shortcut (outside the dialog).
const shortcutButton = (code) => [...document.querySelectorAll(`[data-shortcut="${code}"]`)].find((el) => usable(el) && !el.closest("dialog"));
const shown = (id) => ($(id) && usable($(id)) ? $(id) : null);
const orderWords = () => (app.order ? `order ${app.order.order_ref} is ${humanize(app.order.state).toLowerCase()}` : "");
// Why an order step's button is not on this screen, in words.
function noOrderStep(what) {
  if (app.screen !== "order" || !app.order) return "no order is open here: open the order first (scan its number)";
  if (claimedByOther(app.order)) return `${app.order.order_ref} is being picked on ${app.order.claim.holder_name}`;
  return `${orderWords()}, so it cannot ${what} now`;
}

// Each code: what the sheet calls it, and what it presses here (or why it cannot).
const ACTION_CODES = {
  ACCEPT: { label: "ACCEPT", press: () => shortcutButton("KeyA") || noOrderStep("be accepted") },
  START: { label: "START PICKING", press: () => shortcutButton("KeyS") || noOrderStep("start picking") },
  COMPLETE: {
    label: "COMPLETE PICKING",
    press: () => {
      const o = app.order;
      if (app.screen === "order" && o && o.state === "picking" && o.lines.some((l) => l.open > 0) && !shortcutButton("KeyC"))
        return "items are still to be picked: scan them, or short-pick what is missing";
      return shortcutButton("KeyC") || noOrderStep("complete picking");
    },
  },
  PACK: { label: "PACK", press: () => shown("pack-submit") || noOrderStep("be packed") },
  PRINT: { label: "PRINT AGAIN", press: printAgainButton },
  QUEUE: {
    label: "QUEUE",
    press: () => {
      if (app.screen === "queue") return "this is the queue already";
      const tab = document.querySelector('[data-testid="nav-queue"]');
      return shortcutButton("KeyQ") || (tab && usable(tab) ? tab : "the queue cannot be opened from here");
    },
  },
};

// PRINT AGAIN: the newest job of the open order (the print jobs list is newest first), or
// the open pick list's print button.
function printAgainButton() {
  if (app.screen === "wave") return shown("wave-print") || "this pick list cannot be printed now";
  if (app.screen !== "order" || !app.order) return "no order or pick list is open here: open one first";
  const last = document.querySelector('#print-jobs [data-testid^="reprint-"]');
  return last && usable(last) ? last : `nothing has been printed for ${app.order.order_ref} yet`;
}

// The action a code names: {key, label, box?} or {label: null} for an unknown code.
function actionOf(raw) {
  const rest = bareCode(raw).slice(ACTION_PREFIX.length);
  if (rest.startsWith("BOX-") && rest.length > 4) return { key: "BOX", label: `BOX: ${rest.slice(4)}`, box: rest.slice(4) };
  const known = ACTION_CODES[rest];
  return known ? { key: rest, label: known.label } : { key: rest, label: null };
}

// BOX-<type>: the box type of the pack form's first package.
function chooseBox(box) {
  const select = shown("pack-box-1");
  if (!select) return { why: noOrderStep("be packed") };
  const types = app.reference.box_types;
  if (!types.includes(box)) return { why: `${box} is not one of this store's box types (${types.join(", ")})` };
  select.value = box;
  select.dispatchEvent(new Event("change"));
  flash(select, "flash-line");
  return { done: `Box ${box} for package 1` };
}

// The loud refusal: the code in words, why it does nothing here, and nothing changed.
function refuseAction(code, label, why) {
  sound.error();
  flash(document.body, "flash-error");
  const what = label ? `the ${label} action barcode (${code})` : `${code}, which is not one of the action sheet's codes`;
  showAlert("error", `Scanned ${what}: it does nothing here — ${why}. Nothing was changed.`, "action_refused");
}

// A scanned action code, from a scan field, the find field or the desk's scanner. It waits
// for the scans before it (a COMPLETE right after the last item acts once that item is in).
function queueAction(raw) {
  const code = bareCode(raw);
  const after = Promise.all([app.scanChain, app.waveChain]);
  app.scanChain = after.then(() => runAction(code)).catch(() => {});
}

function runAction(code) {
  const a = actionOf(code);
  if (!a.label) return refuseAction(code, null, "print the sheet again from the devices screen");
  if (!app.session) return refuseAction(code, a.label, "this terminal is not paired");
  if ($("dialog").open) return refuseAction(code, a.label, "a dialog is open: finish or close it first");
  if (a.key === "BOX") {
    const r = chooseBox(a.box);
    if (r.why) return refuseAction(code, a.label, r.why);
    clearAlert();
    sound.ok();
    toast(r.done);
    return keepFocus();
  }
  const target = ACTION_CODES[a.key].press();
  if (typeof target === "string") return refuseAction(code, a.label, target);
  toast(`Action barcode: ${a.label}`);
  target.click();
  keepFocus();
}

// Enter in any field holding an action code runs it instead of the field's own use (a
// search, a pick, a pickup code), before that field's handlers see the key.
function onActionEnter(e) {
  if (e.key !== "Enter" || !(e.target instanceof HTMLInputElement) || !isActionCode(e.target.value)) return;
  e.preventDefault();
  e.stopImmediatePropagation();
  const code = e.target.value;
  e.target.value = "";
  queueAction(code);
}

// The find field, where a "*" typed into a field that cannot hold it (a weight, a list)
// goes: the rest of the scan follows it there.
const findField = () => ($("find-form").hidden ? null : $("find-input"));

// ---------------------------------------------------------------------------------------
// Pack
// ---------------------------------------------------------------------------------------

// By default one package holding every picked unit; the associate can split into more.
function defaultDraft(o) {
  const items = {};
  for (const l of o.lines) if (l.picked > 0) items[l.line_no] = l.picked;
  return { orderId: o.id, packages: [{ box_type: app.reference.box_types[0] || "", weight: "", items }] };
}

function renderPack(o) {
  const card = $("pack-card");
  card.hidden = !allowed("pack");
  if (card.hidden) return;
  if (!app.packDraft || app.packDraft.orderId !== o.id) app.packDraft = defaultDraft(o);
  const box = clear($("pack-packages"));
  const several = app.packDraft.packages.length > 1;
  app.packDraft.packages.forEach((p, i) => box.append(packageEditor(o, p, i, several)));
}

function packageEditor(o, p, i, several) {
  const n = i + 1;
  const select = h("select", { class: "big-input", testid: `pack-box-type-${n}`, id: `pack-box-${n}` });
  fillSelect(select, app.reference.box_types);
  select.value = p.box_type;
  select.addEventListener("change", () => (p.box_type = select.value));
  const weight = h("input", { class: "big-input", testid: `pack-weight-${n}`, id: `pack-weight-${n}`, type: "number", inputmode: "numeric", min: "1", step: "1", placeholder: "grams, then Enter", value: p.weight });
  weight.addEventListener("input", () => (p.weight = weight.value));
  // A scale that types its reading ends with Enter: the next package's weight, or pack.
  weight.addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    e.preventDefault();
    const next = $(`pack-weight-${n + 1}`);
    if (next) next.focus();
    else $("pack-submit").click();
  });
  const fieldset = h(
    "fieldset",
    { class: "package", testid: `pack-package-${n}` },
    h("legend", {}, `Package ${n}`),
    h("div", { class: "grid2" }, h("label", { for: `pack-box-${n}` }, "Box type", select), h("label", { for: `pack-weight-${n}` }, "Weight (g)", weight)),
  );
  if (several) fieldset.append(packageItems(o, p, n));
  else fieldset.append(h("p", { class: "muted" }, `All ${o.lines.reduce((s, l) => s + l.picked, 0)} picked units`));
  if (several) {
    const remove = h("button", { type: "button", class: "btn ghost", testid: `pack-remove-${n}` }, "Remove package");
    remove.addEventListener("click", () => removePackage(o, i));
    fieldset.append(remove);
  }
  return fieldset;
}

// With several packages, each says how many units of each line it holds.
function packageItems(o, p, n) {
  const table = h("table", { class: "table compact" }, h("thead", {}, h("tr", {}, h("th", {}, "Item"), h("th", {}, "Picked"), h("th", {}, "In this package"))));
  const body = h("tbody");
  for (const l of o.lines) {
    if (l.picked === 0) continue;
    const qty = h("input", { type: "number", class: "qty", min: "0", max: String(l.picked), step: "1", testid: `pack-qty-${n}-${l.line_no}`, value: String(p.items[l.line_no] || 0) });
    qty.addEventListener("input", () => (p.items[l.line_no] = Number(qty.value) || 0));
    body.append(h("tr", {}, h("td", {}, `${l.title || l.sku} (${l.sku})`), h("td", { class: "num" }, String(l.picked)), h("td", {}, qty)));
  }
  table.append(body);
  return table;
}

function addPackage() {
  if (!app.order || !app.packDraft) return;
  app.packDraft.packages.push({ box_type: app.reference.box_types[0] || "", weight: "", items: {} });
  renderPack(app.order);
}

function removePackage(o, i) {
  const pkgs = app.packDraft.packages;
  const [gone] = pkgs.splice(i, 1);
  // Its units go back to the first package, so nothing is left out.
  for (const [line, qty] of Object.entries(gone.items)) pkgs[0].items[line] = (pkgs[0].items[line] || 0) + qty;
  renderPack(o);
}

async function submitPack() {
  const o = app.order;
  const packages = [];
  for (const [i, p] of app.packDraft.packages.entries()) {
    const weight = Number(p.weight);
    if (!Number.isInteger(weight) || weight < 1) {
      showAlert("error", `Enter the weight of package ${i + 1} in whole grams.`, "weight_missing");
      $(`pack-weight-${i + 1}`).focus();
      return;
    }
    const items = Object.entries(p.items)
      .filter(([, q]) => q > 0)
      .map(([line, q]) => ({ line_no: Number(line), quantity: q }));
    packages.push({ box_type: p.box_type, weight_g: weight, items });
  }
  await post(o, "pack", { packages });
  app.packDraft = null;
}

function renderReady(o) {
  $("ready-card").hidden = !allowed("ready_for_pickup") || o.on_hold;
}

async function submitReady() {
  const shelf = $("ready-shelf").value.trim();
  await post(app.order, "ready-for-pickup", shelf ? { shelf } : {});
  $("ready-shelf").value = "";
}

function renderPackages(o) {
  $("packages-card").hidden = o.packages.length === 0;
  const body = clear($("packages-body"));
  const title = (n) => {
    const l = o.lines.find((x) => x.line_no === n);
    return l ? l.title || l.sku : `line ${n}`;
  };
  for (const p of o.packages)
    body.append(
      h("tr", { testid: `package-${p.package_no}` }, h("td", {}, String(p.package_no)), h("td", {}, p.box_type), h("td", {}, grams(p.weight_g)),
        h("td", {}, p.items.map((i) => `${i.quantity} × ${title(i.line_no)}`).join("; ")), h("td", {}, p.tracking || "—")),
    );
}

// ---------------------------------------------------------------------------------------
// Printing: documents for the open order at this terminal's station
// ---------------------------------------------------------------------------------------

const DOCUMENTS = {
  shipping_label: "Shipping label",
  packing_slip: "Packing slip",
  pick_list: "Pick list",
  pickup_shelf_label: "Shelf label",
  return_label: "Return label",
  test_label: "Test label",
  action_sheet: "Action barcodes",
};
const docName = (kind) => DOCUMENTS[kind] || humanize(kind);
const PACKED_OR_LATER = ["packed", "ready_for_pickup", "shipped", "collected"];
// queued → sending → submitted (handed to CUPS) → printed; or failed / cancelled.
const JOB_STATES = { queued: "Queued", sending: "Sending", submitted: "Sent", printed: "Printed", failed: "Failed", cancelled: "Cancelled" };

// The documents that make sense for the order now. Return labels need a return's reference,
// so they are printed from a return, not from here.
function printableKinds(o) {
  const kinds = [];
  if (["accepted", "picking"].includes(o.state)) kinds.push("pick_list");
  if (PACKED_OR_LATER.includes(o.state)) {
    if (o.method === "ship") kinds.push("shipping_label");
    kinds.push("packing_slip");
  }
  if (o.method === "pickup" && o.state === "ready_for_pickup") kinds.push("pickup_shelf_label");
  return kinds;
}

function renderPrint(o) {
  const kinds = printableKinds(o);
  const bar = clear($("print-buttons"));
  for (const kind of kinds) {
    const btn = h("button", { type: "button", class: "btn big", testid: `print-${kind}` }, `Print ${docName(kind).toLowerCase()}`);
    btn.addEventListener("click", () => run(btn, () => printDocument(o.id, kind)));
    bar.append(btn);
  }
  bar.hidden = kinds.length === 0;
  renderPrintResult();
  renderPrintJobs();
}

// The card is there while something can be printed or has been: an order still waiting to
// be accepted has neither.
function syncPrintCard() {
  const o = app.order;
  const jobs = app.printJobs.orderId === (o && o.id) ? app.printJobs.jobs : [];
  $("print-card").hidden = !o || (printableKinds(o).length === 0 && jobs.length === 0 && !$("print-result").childElementCount);
}

async function printDocument(orderId, kind) {
  const { jobs } = await api("POST", `/api/v1/orders/${enc(orderId)}/print`, { kind });
  clearAlert();
  showPrinted(orderId, `${docName(kind)} sent to the printer`, jobs, []);
  await loadPrintJobs(orderId);
}

// What a step or a button printed. A problem (no printer for a document at this station,
// printing switched off) does not undo the step: it is said next to what did print, and in
// the banner, so the associate can print the document once the printer is sorted.
function showPrinted(orderId, title, jobs, problems) {
  app.printResult = { orderId, title, jobs, problems };
  renderPrintResult();
  if (problems.length) showNotice(`The order is ${humanize(app.order ? app.order.state : "done")}, but not everything printed: ${problems.join("; ")}. Print it again from the Print card once the printer is sorted.`, "print_problem");
  else if (jobs.length) toast(`${title}: ${jobs.map((j) => `${docName(j.kind)} ${j.id}`).join(", ")}`);
}

function renderPrintResult() {
  const box = clear($("print-result"));
  const r = app.printResult;
  const mine = r && app.order && r.orderId === app.order.id;
  box.hidden = !mine;
  if (mine) {
    box.dataset.problems = String(r.problems.length);
    box.append(h("strong", {}, r.title));
    const ul = h("ul", { class: "printed" });
    for (const j of r.jobs)
      ul.append(h("li", { testid: `printed-${j.id}`, data: { kind: j.kind, job: j.id } }, `${docName(j.kind)} · ${j.id} · on ${j.printer}${j.copies > 1 ? ` · ${j.copies} copies` : ""}`));
    for (const [i, p] of r.problems.entries()) ul.append(h("li", { class: "print-problem", testid: `print-problem-${i}` }, `Not printed: ${p}`));
    if (r.jobs.length === 0 && r.problems.length === 0) ul.append(h("li", { class: "muted" }, "Nothing is set to print at this terminal's station."));
    box.append(ul);
  }
  syncPrintCard();
}

async function loadPrintJobs(orderId) {
  const { jobs } = await api("GET", `/api/v1/print-jobs?order_id=${enc(orderId)}&limit=50`);
  if (!app.order || app.order.id !== orderId) return; // the associate moved on meanwhile
  app.printJobs = { orderId, jobs };
  renderPrintJobs();
}

function renderPrintJobs() {
  const ul = clear($("print-jobs"));
  const o = app.order;
  const jobs = o && app.printJobs.orderId === o.id ? app.printJobs.jobs : [];
  if (jobs.length === 0) ul.append(h("li", { class: "muted" }, "Nothing printed for this order yet."));
  for (const j of jobs) {
    const reprint = h("button", { type: "button", class: "btn", testid: `reprint-${j.id}` }, "Reprint");
    reprint.addEventListener("click", () => run(reprint, () => reprintJob(j)));
    const cancel = j.state === "queued" ? h("button", { type: "button", class: "btn ghost", testid: `cancel-job-${j.id}` }, "Cancel") : null;
    if (cancel) cancel.addEventListener("click", () => run(cancel, () => cancelJob(j)));
    ul.append(
      h("li", { class: `print-job job-${j.state}`, testid: `print-job-${j.id}`, data: { state: j.state, kind: j.kind, job: j.id } },
        h("div", { class: "print-job-what" },
          h("strong", {}, docName(j.kind)),
          h("span", { class: "muted" }, ` ${j.id} · ${j.printer} · ${time(j.created_at)}${j.reprint_of ? ` · reprint of ${j.reprint_of}` : ""}`),
          j.state === "failed" && j.last_error ? h("span", { class: "print-error", testid: `print-error-${j.id}` }, j.last_error) : null),
        h("span", { class: `badge job-state job-state-${j.state}`, testid: `print-state-${j.id}` }, JOB_STATES[j.state] || humanize(j.state)),
        h("span", { class: "print-job-buttons" }, cancel, reprint)),
    );
  }
  syncPrintCard();
}

async function reprintJob(job) {
  let again;
  try {
    again = await api("POST", `/api/v1/print-jobs/${enc(job.id)}/reprint`, {});
  } catch (e) {
    // Associates may only reprint recent jobs (a label printed twice can ship twice).
    if (e.status === 403) {
      showAlert("error", `${job.id} is too old for this terminal to reprint: a manager must reprint it. (${e.message})`, e.code);
      return;
    }
    throw e;
  }
  clearAlert();
  toast(`Reprinting ${docName(again.kind).toLowerCase()}: ${again.id} on ${again.printer}`);
  await loadPrintJobs(job.order_id || app.order.id);
}

async function cancelJob(job) {
  await api("POST", `/api/v1/print-jobs/${enc(job.id)}/cancel`, {});
  clearAlert();
  toast(`${job.id} cancelled`);
  await loadPrintJobs(job.order_id || app.order.id);
}

// ---------------------------------------------------------------------------------------
// Handover: carrier, customer pickup
// ---------------------------------------------------------------------------------------

function renderHandover(o) {
  $("handover-card").hidden = !(o.method === "ship" && allowed("ship"));
}

async function handOver() {
  const carrier = $("handover-carrier").value;
  if (!carrier) {
    showAlert("error", "Choose the carrier that takes the parcel.", "carrier_missing");
    return;
  }
  const tracking = $("handover-tracking").value.trim();
  await post(app.order, "ship", tracking ? { carrier, tracking } : { carrier });
  $("handover-tracking").value = "";
}

function renderPickup(o) {
  $("pickup-card").hidden = !allowed("collect");
  $("pickup-id-check").hidden = app.session.role !== "manager";
  if ($("pickup-card").hidden && signature.orderId !== o.id) clearSignature();
  const locked = $("pickup-locked");
  locked.hidden = !o.pickup_locked;
  locked.textContent = o.pickup_locked ? "Locked after too many wrong codes: a manager must unlock it before the customer can collect." : "";
  // A manager unlocked it: the lock's banner is out of date.
  if (!o.pickup_locked && $("alert").dataset.code === "pickup_locked") clearAlert();
}

function onPickupKey(e) {
  if (e.key !== "Enter") return;
  e.preventDefault();
  collect($("pickup-collect"));
}

// The signature pad: strokes drawn with a finger, a pen or the mouse. Optional.
const signature = { orderId: "", strokes: 0, drawing: false };

function clearSignature() {
  const pad = $("pickup-signature");
  pad.getContext("2d").clearRect(0, 0, pad.width, pad.height);
  signature.strokes = 0;
  signature.orderId = app.order ? app.order.id : "";
}

function wireSignature() {
  const pad = $("pickup-signature");
  const ctx = pad.getContext("2d");
  const at = (e) => {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
  };
  pad.addEventListener("pointerdown", (e) => {
    signature.drawing = true;
    signature.orderId = app.order ? app.order.id : "";
    pad.setPointerCapture(e.pointerId);
    ctx.lineWidth = 3;
    ctx.lineCap = "round";
    ctx.strokeStyle = "#14181d";
    ctx.beginPath();
    ctx.moveTo(...at(e));
  });
  pad.addEventListener("pointermove", (e) => {
    if (!signature.drawing) return;
    ctx.lineTo(...at(e));
    ctx.stroke();
  });
  const end = () => {
    if (signature.drawing) signature.strokes += 1;
    signature.drawing = false;
  };
  pad.addEventListener("pointerup", end);
  pad.addEventListener("pointercancel", end);
  $("pickup-signature-clear").addEventListener("click", clearSignature);
}

// The proof that goes with the handover besides the code or the ID check.
function pickupExtras() {
  const extras = {};
  const by = $("pickup-collected-by").value.trim();
  if (by) extras.collected_by = by;
  if (signature.strokes > 0 && app.order && signature.orderId === app.order.id)
    extras.signature_png_base64 = $("pickup-signature").toDataURL("image/png").split(",")[1];
  return extras;
}

async function collectById(button) {
  const digits = $("pickup-id-digits").value.trim();
  if (!digits) {
    showAlert("error", "Type the last 4 characters of the ID's number.", "id_missing");
    $("pickup-id-digits").focus();
    return;
  }
  await run(button, async () => {
    await post(app.order, "collect", { id_type: $("pickup-id-type").value, id_last_digits: digits, ...pickupExtras() });
    $("pickup-id-digits").value = "";
    $("pickup-collected-by").value = "";
    clearSignature();
    sound.ok();
  });
}

async function collect(button) {
  const input = $("pickup-code");
  const code = input.value.trim();
  if (!code) return;
  input.value = "";
  const id = app.order.id;
  await run(button, async () => {
    try {
      await post(app.order, "collect", { code, ...pickupExtras() });
      $("pickup-collected-by").value = "";
      clearSignature();
      sound.ok();
      flash(document.body, "flash-ok");
    } catch (e) {
      if (e.status === 401) return;
      sound.error();
      flash(document.body, "flash-error");
      // The message already counts the attempts left; at none, the lock is what matters.
      const left = e.detail && e.detail.attempts_left;
      if (e.code === "pickup_locked" || left === 0) showAlert("error", `${e.message}. No attempts left: a manager must unlock the order.`, "pickup_locked");
      else showError(e);
      await refreshOrder(id).catch(() => {}); // the attempt counter moved
    }
  });
}

function proofText(p) {
  if (!p) return "The customer has collected this order.";
  const how = p.method === "id_check" ? `against ${humanize(p.id_type)} …${p.id_last_digits}, checked by a manager` : "with the pickup code";
  const who = p.collected_by ? `by ${p.collected_by} for the customer` : "by the customer";
  return `Collected ${who} ${how}${p.signed ? ", signed" : ""} at ${time(p.collected_at)}.`;
}

function renderDone(o) {
  const card = $("done-card");
  const text = {
    shipped: ["Shipped", `Handed to ${o.carrier}${o.tracking ? `, tracking ${o.tracking}` : ""}.`],
    collected: ["Collected", proofText(o.pickup_proof)],
    rejected: ["Rejected", o.reject_reason ? `Reason: ${humanize(o.reject_reason)}` : ""],
    expired: ["Expired", "Nobody accepted this order in time; the cloud routes it elsewhere."],
    cancelled: o.reject_reason === "not_collected"
      ? ["Returned to stock", `The customer never collected it${o.pickup_shelf ? `: take it off shelf ${o.pickup_shelf}` : ""} and put its items back.`]
      : ["Cancelled", "The order was cancelled. Put any picked items back."],
    ready_for_pickup: ["Waiting for the customer", `${o.pickup_shelf ? `On shelf ${o.pickup_shelf}. ` : ""}Type or scan the code the customer shows to hand the order over.`],
  }[o.state];
  card.hidden = !text;
  if (!text) return;
  $("done-title").textContent = text[0];
  $("done-detail").textContent = text[1];
}

// ---------------------------------------------------------------------------------------
// Keyboard: where scans land, shortcuts
// ---------------------------------------------------------------------------------------

// The field a keyboard-wedge scanner types into on the order screen: item barcodes while
// picking, the customer's code at pickup, the staging shelf, the carrier label's tracking
// barcode at handover, the weight when packing.
function primaryInput() {
  if (app.screen !== "order") return null;
  if (!$("scan-card").hidden) return $("scan-input");
  if (!$("pickup-card").hidden) return $("pickup-code");
  if (!$("ready-card").hidden) return $("ready-shelf");
  if (!$("handover-card").hidden) return $("handover-tracking");
  if (!$("pack-card").hidden) return $("pack-weight-1");
  return null;
}

// Where a scan goes on each screen; the top bar's find field where the screen has none.
function scanTarget() {
  const find = $("find-form").hidden ? null : $("find-input");
  switch (app.screen) {
    case "pair":
      return $("pair-code");
    case "order":
      return primaryInput() || find;
    case "manifest":
      return $("manifest-scan");
    case "receiving":
      return $("receiving-scan");
    case "wave":
      return $("wave-scan-card").hidden ? find : $("wave-scan");
    case "returns": {
      const codes = [...document.querySelectorAll("#returns-lines input.code")];
      return codes.find((c) => !c.value) || codes[codes.length - 1] || null;
    }
    case "stock":
      return $("stock-query");
    case "count":
      return !countHome() && !$("count-scan-card").hidden ? $("count-scan") : find;
    case "manage":
      return manageScanTarget() || find; // manager.js
    default:
      return find;
  }
}

// After focus is lost (a re-render removed the focused button, a tap on empty space, a
// dialog closed), hand it to where the next scan should land. Focus the associate moved
// on purpose (Tab to a button or a link) stays where it is.
function keepFocus() {
  setTimeout(() => {
    if ($("dialog").open) return;
    const target = scanTarget();
    const active = document.activeElement;
    // Lost: on nothing, or on something no longer shown. An empty find field gives way to
    // the screen's own scan field once there is one (the order reached a scanning step).
    const lost = !active || active === document.body || active.offsetParent === null;
    const idleFind = active && active.id === "find-input" && !active.value && target !== active;
    if (target && (lost || idleFind)) target.focus({ preventScroll: true });
  }, 0);
}

const usable = (el) => !el.disabled && el.offsetParent !== null && !el.closest("[hidden]");

// Alt+key presses the visible button showing that shortcut (in the dialog while it is open).
function onShortcut(e) {
  if (!e.altKey || e.ctrlKey || e.metaKey || !e.code) return false;
  const scope = $("dialog").open ? $("dialog") : document;
  const el = [...scope.querySelectorAll(`[data-shortcut="${e.code}"]`)].find(usable);
  if (!el) return false;
  e.preventDefault();
  el.click();
  return true;
}

// A wedge scanner types wherever focus is. Typing on a button, a link or nothing goes to
// the screen's scan field instead of being lost: moving focus during keydown makes the
// character land in the field.
function onKeyDown(e) {
  unlockAudio();
  if (onShortcut(e)) return;
  if (e.ctrlKey || e.metaKey || e.altKey || e.key.length !== 1 || $("dialog").open) return;
  const active = document.activeElement;
  // An action barcode starts with "*", which a weight field or a list would drop.
  const noStar = (el) => el && el.matches('input[type="number"], select');
  if (e.key === "*" && noStar(active) && findField()) return findField().focus({ preventScroll: true });
  if (active && active.matches("input, select, textarea, [contenteditable]")) return;
  if (e.key === " " && active && active.matches("button, a, summary")) return; // Space presses it
  let target = scanTarget();
  if (e.key === "*" && noStar(target)) target = findField();
  if (target && target !== active) target.focus({ preventScroll: true });
}

// ---------------------------------------------------------------------------------------
// Dialog: a small form of selects and numbers, resolved with its values or null
// ---------------------------------------------------------------------------------------

function ask(title, fields, confirmLabel) {
  const dialog = $("dialog");
  $("dialog-title").textContent = title;
  $("dialog-confirm").textContent = confirmLabel;
  const box = clear($("dialog-fields"));
  const inputs = {};
  for (const f of fields) {
    let input;
    if (f.type === "select") {
      input = h("select", { class: "big-input", required: true });
      fillSelect(input, f.options, "— choose —", f.label_of);
    } else {
      input = h("input", { class: "big-input", type: f.type, min: f.min, max: f.max, required: true, value: f.value === undefined ? "" : String(f.value) });
    }
    input.dataset.testid = `dialog-${f.name}`;
    inputs[f.name] = input;
    box.append(h("label", {}, f.label, input));
  }
  return new Promise((resolve) => {
    const form = $("dialog-form");
    const done = (values) => {
      form.removeEventListener("submit", onSubmit);
      $("dialog-cancel").removeEventListener("click", onCancel);
      dialog.removeEventListener("cancel", onCancel);
      if (dialog.open) dialog.close();
      resolve(values);
      keepFocus();
    };
    const onSubmit = (e) => {
      e.preventDefault();
      if (!form.reportValidity()) return;
      done(Object.fromEntries(Object.entries(inputs).map(([k, el]) => [k, el.value])));
    };
    const onCancel = (e) => {
      e.preventDefault();
      done(null);
    };
    form.addEventListener("submit", onSubmit);
    $("dialog-cancel").addEventListener("click", onCancel);
    dialog.addEventListener("cancel", onCancel);
    dialog.showModal();
    Object.values(inputs)[0]?.focus();
  });
}

// ---------------------------------------------------------------------------------------
// Manifest
// ---------------------------------------------------------------------------------------

async function showManifest() {
  showScreen("manifest");
  await run(null, loadManifest);
}

async function loadManifest() {
  const data = await api("GET", "/api/v1/orders?state=packed&method=ship&limit=1000");
  const body = clear($("manifest-orders"));
  const ids = new Set(data.orders.map((o) => o.id));
  for (const id of [...app.manifestChecked]) if (!ids.has(id)) app.manifestChecked.delete(id);
  $("manifest-empty").hidden = data.orders.length > 0;
  for (const o of data.orders) {
    const check = h("input", { type: "checkbox", testid: `manifest-check-${o.id}`, checked: app.manifestChecked.has(o.id), data: { id: o.id } });
    check.addEventListener("change", () => (check.checked ? app.manifestChecked.add(o.id) : app.manifestChecked.delete(o.id)));
    const tracking = h("input", { class: "tracking", testid: `manifest-tracking-${o.id}`, data: { id: o.id }, autocomplete: "off", maxlength: "64" });
    const prev = document.querySelector(`#manifest-orders input.tracking[data-id="${CSS.escape(o.id)}"]`);
    if (prev) tracking.value = prev.value;
    body.append(
      h("tr", { testid: `manifest-order-${o.id}` }, h("td", {}, check), h("td", {}, h("a", { href: `#/order/${enc(o.id)}` }, o.order_ref), " ", h("span", { class: "muted" }, o.id)),
        h("td", {}, time(o.routed_at)), h("td", { class: "num" }, String(o.units)), h("td", {}, tracking)),
    );
  }
  $("manifest-all").checked = data.orders.length > 0 && data.orders.every((o) => app.manifestChecked.has(o.id));
}

// A scanned parcel (its label's package code or tracking number, or the order's number)
// ticks its row.
async function scanParcel(code) {
  const hit = await lookup(code);
  const id = hit && hit.kind === "order" ? hit.order_id : "";
  const box = id && document.querySelector(`#manifest-orders input[type=checkbox][data-id="${CSS.escape(id)}"]`);
  if (!box) {
    sound.error();
    flash(document.body, "flash-error");
    const why = id ? `order ${hit.order_ref} is ${humanize(hit.state)}, not a packed parcel waiting for a courier` : "no parcel or order of this store has that code";
    showAlert("error", `${code}: ${why}.`, "not_a_parcel");
    return;
  }
  clearAlert();
  box.checked = true;
  app.manifestChecked.add(id);
  sound.ok();
  flash(box.closest("tr"), "flash-line");
  toast(`Parcel ${hit.order_ref} on the manifest (${app.manifestChecked.size} ticked)`);
}

function onManifestScanKey(e) {
  if (e.key !== "Enter") return;
  e.preventDefault();
  const code = e.target.value.trim();
  e.target.value = "";
  if (code) run(null, () => scanParcel(code));
}

function checkAllManifest() {
  const on = $("manifest-all").checked;
  for (const c of document.querySelectorAll("#manifest-orders input[type=checkbox]")) {
    c.checked = on;
    if (on) app.manifestChecked.add(c.dataset.id);
    else app.manifestChecked.delete(c.dataset.id);
  }
}

async function createManifest() {
  const carrier = $("manifest-carrier").value;
  if (!carrier) return showAlert("error", "Choose the carrier collecting these parcels.", "carrier_missing");
  const parcels = [];
  for (const c of document.querySelectorAll("#manifest-orders input[type=checkbox]:checked")) {
    const t = document.querySelector(`#manifest-orders input.tracking[data-id="${CSS.escape(c.dataset.id)}"]`);
    parcels.push(t && t.value.trim() ? { order_id: c.dataset.id, tracking: t.value.trim() } : { order_id: c.dataset.id });
  }
  if (parcels.length === 0) return showAlert("error", "Tick the orders the driver takes.", "nothing_selected");
  const m = await api("POST", "/api/v1/manifests", { carrier, parcels });
  clearAlert();
  renderManifest(m);
  app.manifestChecked.clear();
  await loadManifest();
  $("manifest-result").scrollIntoView({ block: "start" });
  return m;
}

function renderManifest(m) {
  $("manifest-result").hidden = false;
  $("manifest-id").textContent = m.manifest_id;
  $("manifest-summary").textContent = `${m.carrier}: ${m.parcel_count} parcel${m.parcel_count === 1 ? "" : "s"}, ${grams(m.total_weight_g)} in total.`;
  const body = clear($("manifest-parcels"));
  for (const p of m.parcels)
    body.append(
      h("tr", {}, h("td", {}, p.order_ref), h("td", {}, String(p.package_no)), h("td", {}, p.box_type), h("td", {}, grams(p.weight_g)),
        h("td", {}, p.tracking || "—"), h("td", {}, p.recipient), h("td", {}, p.postcode), h("td", {}, p.country)),
    );
}

// ---------------------------------------------------------------------------------------
// Receiving deliveries (inbound shipments the cloud announced)
// ---------------------------------------------------------------------------------------

const SHIPMENT_KIND_WORDS = { asn: "Delivery", purchase_order: "Purchase order", transfer: "Transfer" };
const shipmentKind = (kind) => SHIPMENT_KIND_WORDS[kind] || humanize(kind);
const DISCREPANCY_WORDS = { none: "Complete", short: "Short", over: "Over", unexpected: "Not on the delivery" };

async function showReceiving(id) {
  showScreen("receiving");
  app.shipment = null;
  await run(null, () => (id ? loadShipment(id) : loadShipments()));
}

async function loadShipments() {
  const data = await api("GET", "/api/v1/shipments");
  $("receiving-list").hidden = false;
  $("receiving-shipment").hidden = true;
  $("receiving-title").textContent = "Receive a delivery";
  $("receiving-empty").hidden = data.shipments.length > 0;
  const body = clear($("receiving-shipments"));
  for (const s of data.shipments)
    body.append(
      h("tr", { testid: `shipment-row-${s.id}` },
        h("td", {}, h("a", { href: `#/receiving/${enc(s.id)}` }, s.id), " ", h("span", { class: "muted" }, shipmentKind(s.kind))),
        h("td", {}, s.source),
        h("td", { class: "wide-only" }, s.expected_at ? time(s.expected_at) : "—"),
        h("td", { class: "num" }, `${s.totals.received} / ${s.totals.expected}`)),
    );
}

async function loadShipment(id) {
  renderShipment(await api("GET", `/api/v1/shipments/${enc(id)}`));
}

function renderShipment(s) {
  app.shipment = s;
  $("receiving-list").hidden = true;
  $("receiving-shipment").hidden = false;
  $("receiving-title").textContent = `${shipmentKind(s.kind)} ${s.id} from ${s.source}`;
  const t = s.totals;
  $("receiving-totals").textContent =
    s.state === "closed" || s.state === "cancelled"
      ? `${s.state === "closed" ? "Closed" : "Cancelled"}: ${t.received} of ${t.expected} units received${t.damaged ? `, ${t.damaged} damaged` : ""}.`
      : `${t.received} of ${t.expected} units received${t.damaged ? `, ${t.damaged} damaged` : ""}; ${t.open} still expected.`;
  const body = clear($("receiving-lines"));
  for (const l of s.lines)
    body.append(
      h("tr", { testid: `shipment-line-${l.sku}`, class: l.discrepancy === "none" ? "done" : "" },
        h("td", {}, h("span", { class: "strong" }, l.sku), " ", h("span", { class: "muted" }, l.title)),
        h("td", { class: "wide-only" }, l.bin || "—"),
        h("td", { class: "num" }, String(l.expected)),
        h("td", { class: "num strong", testid: `shipment-received-${l.sku}` }, String(l.received)),
        h("td", { class: "num" }, String(l.damaged)),
        h("td", { testid: `shipment-status-${l.sku}` }, l.discrepancy === "short" && l.received === 0 ? "Expected" : DISCREPANCY_WORDS[l.discrepancy] || humanize(l.discrepancy))),
    );
  const open = s.state === "expected" || s.state === "receiving";
  $("receiving-close").hidden = !open;
  $("receiving-hint").textContent = open
    ? "Scan each item in. Tick Damaged before scanning a damaged unit: it is received as unsellable."
    : "This delivery is closed: nothing more can be received on it.";
}

// A scan on the receiving screen: a delivery's label opens it; an item is received into the
// open delivery (the units and damaged tick apply to this scan only).
async function receivingScan(code) {
  if (!app.shipment || (app.shipment.state !== "expected" && app.shipment.state !== "receiving")) {
    const hit = await lookup(code);
    if (hit && hit.kind === "shipment") return openFound(hit);
    sound.error();
    flash(document.body, "flash-error");
    return showAlert("error", `${code}: ${hit ? "not a delivery: open a delivery first, then scan its items" : "no delivery or item of this store has that code"}.`, "not_a_shipment");
  }
  const quantity = Math.max(1, Number($("receiving-qty").value) || 1);
  const damaged = $("receiving-damaged").checked;
  try {
    const r = await api("POST", `/api/v1/shipments/${enc(app.shipment.id)}/receive`, { barcode: code, quantity, damaged });
    clearAlert();
    sound.ok();
    renderShipment(r.shipment);
    flash($(`shipment-line-${r.sku}`) || document.body, "flash-line");
    toast(`${r.quantity} × ${r.sku}${damaged ? " (damaged)" : ""} received${r.discrepancy === "over" ? ": more than expected" : r.discrepancy === "unexpected" ? ": not on the delivery" : ""}`);
  } catch (e) {
    if (e.status === 404 || e.code === "unknown_barcode") {
      const hit = await lookup(code).catch(() => null);
      if (hit && hit.kind === "shipment") return openFound(hit);
    }
    sound.error();
    flash(document.body, "flash-error");
    throw e;
  } finally {
    $("receiving-qty").value = "1";
    $("receiving-damaged").checked = false;
  }
}

function onReceivingScanKey(e) {
  if (e.key !== "Enter") return;
  e.preventDefault();
  const code = e.target.value.trim();
  e.target.value = "";
  if (code) run(null, () => receivingScan(code));
}

async function closeShipment() {
  const s = app.shipment;
  if (!s) return;
  const short = s.totals.open;
  if (short > 0 && !(await ask(`Close ${s.id} with ${short} unit${short === 1 ? "" : "s"} not received?`, [], "Receive and close"))) return;
  const closed = await api("POST", `/api/v1/shipments/${enc(s.id)}/close`, {});
  renderShipment(closed.shipment || closed);
  toast(`Delivery ${s.id} closed: the differences are reported`);
}

// ---------------------------------------------------------------------------------------
// Returns
// ---------------------------------------------------------------------------------------

let returnLineSeq = 0;

function showReturns() {
  showScreen("returns");
  if ($("returns-lines").children.length === 0) addReturnLine();
  $("returns-lines").querySelector("input")?.focus();
}

function addReturnLine() {
  const n = ++returnLineSeq;
  const code = h("input", { class: "code", testid: `return-code-${n}`, autocomplete: "off", spellcheck: "false", placeholder: "scan or type", maxlength: "100" });
  const qty = h("input", { class: "qty", type: "number", min: "1", step: "1", value: "1", testid: `return-qty-${n}` });
  const disposition = h("select", { testid: `return-disposition-${n}` });
  fillSelect(disposition, app.reference.dispositions);
  const reason = h("input", { class: "reason", testid: `return-reason-${n}`, maxlength: "200", placeholder: "optional" });
  const remove = h("button", { type: "button", class: "btn ghost", testid: `return-remove-${n}`, "aria-label": "Remove line" }, "×");
  const row = h("tr", { class: "return-line", testid: `return-line-${n}` }, h("td", {}, code), h("td", {}, qty), h("td", {}, disposition), h("td", {}, reason), h("td", {}, remove));
  remove.addEventListener("click", () => {
    row.remove();
    if ($("returns-lines").children.length === 0) addReturnLine();
  });
  // A scanner ends with Enter: go on to the next line instead of submitting the form.
  code.addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    e.preventDefault();
    const next = row.nextElementSibling || addReturnLine();
    next.querySelector("input.code").focus();
  });
  for (const el of [qty, reason]) el.addEventListener("keydown", (e) => e.key === "Enter" && e.preventDefault());
  $("returns-lines").append(row);
  return row;
}

// GTINs are 8 to 14 digits; anything else is taken for a SKU.
function returnLineBody(row) {
  const code = row.querySelector("input.code").value.trim();
  if (!code) return null;
  const line = /^\d{8,14}$/.test(code) ? { barcode: code } : { sku: code };
  line.quantity = Number(row.querySelector("input.qty").value);
  line.disposition = row.querySelector("select").value;
  const reason = row.querySelector("input.reason").value.trim();
  if (reason) line.reason = reason;
  return line;
}

async function submitReturn(e) {
  e.preventDefault();
  const button = e.submitter;
  await run(button, async () => {
    const lines = [...$("returns-lines").children].map(returnLineBody).filter(Boolean);
    if (lines.length === 0) return showAlert("error", "Scan or type at least one returned item.", "no_lines");
    const body = { lines };
    const orderId = $("returns-order").value.trim();
    const note = $("returns-note").value.trim();
    if (orderId) body.order_id = orderId;
    if (note) body.note = note;
    const r = await api("POST", "/api/v1/returns", body);
    clearAlert();
    $("return-id").textContent = r.return_id;
    $("returns-result").hidden = false;
    // Ready for the next customer.
    $("returns-order").value = "";
    $("returns-note").value = "";
    clear($("returns-lines"));
    addReturnLine().querySelector("input.code").focus(); // the next customer's first scan
    return r;
  });
}

// ---------------------------------------------------------------------------------------
// Stock lookup
// ---------------------------------------------------------------------------------------

function showStock() {
  showScreen("stock");
  $("stock-query").focus();
}

async function searchStock(e) {
  e.preventDefault();
  const q = $("stock-query").value.trim();
  if (!q) return;
  await run(e.submitter, async () => {
    const data = await api("GET", `/api/v1/inventory?q=${enc(q)}`);
    clearAlert();
    const body = clear($("stock-body"));
    $("stock-table").hidden = data.items.length === 0;
    $("stock-empty").hidden = data.items.length > 0;
    $("stock-truncated").hidden = !data.truncated;
    $("stock-truncated").textContent = data.truncated ? `Showing the first ${data.items.length}: add a word to narrow the search.` : "";
    for (const i of data.items)
      body.append(
        h("tr", { testid: `stock-row-${i.sku}` }, h("td", { class: "sku" }, i.sku), h("td", {}, i.title), h("td", { class: "bin" }, i.bin), h("td", { class: "muted wide-only" }, i.barcodes.join(", ")),
          ...["on_hand", "reserved", "unsellable", "safety_stock"].map((k) => h("td", { class: `num${["unsellable", "safety_stock"].includes(k) ? " wide-only" : ""}` }, String(i[k]))),
          h("td", { class: `num strong${i.available > 0 ? "" : " none"}` }, String(i.available))),
      );
    $("stock-query").select(); // the next scan replaces the query
  });
}

// ---------------------------------------------------------------------------------------
// Devices
// ---------------------------------------------------------------------------------------

async function showDevices() {
  showScreen("devices");
  await run(null, loadDevices);
}

function facts(dl, pairs) {
  clear(dl);
  for (const [k, v] of pairs) dl.append(h("dt", {}, k), h("dd", {}, v));
  return dl;
}

function list(ul, items, empty) {
  clear(ul);
  if (items.length === 0) ul.append(h("li", { class: "muted" }, empty));
  for (const i of items) ul.append(h("li", {}, typeof i === "string" ? i : [i.name, i.id, i.state, i.message].filter(Boolean).join(" · ") || JSON.stringify(i)));
}

async function loadDevices() {
  const [d, st, pr] = await Promise.all([api("GET", "/api/v1/devices"), api("GET", "/api/v1/stations"), api("GET", "/api/v1/printers")]);
  renderStations(st.stations);
  renderPrinters(pr);
  // The link reports itself as "cloud"; accept "sync" too, the component's own name.
  renderCloudLink($("devices-cloud"), $("devices-alarms"), d.cloud || d.sync || null);
  renderScanners(d.scanners);
  $("devices-terminals").textContent = String(d.terminals_connected);
  const s = app.session;
  facts($("devices-session"), [["Name", s.name], ["Role", s.role], ["Station", s.station || "—"], ["Id", s.id], ["Live updates", app.live ? "connected" : "not connected"]]);
  $("print-action-sheet").closest("p").hidden = !s.station;
}

// The cloud link as its health reports it: the devices screen and the manager's sync part.
function renderCloudLink(dl, alarms, link) {
  if (link) {
    facts(dl, [
      ["Link", link.credential_revoked ? "credential revoked: re-enrol the store" : link.enrolled ? "enrolled" : "not enrolled"],
      ["Last contact", link.last_sync_at ? `${time(link.last_sync_at)} (${duration(Date.now() + (app.clockSkewMs || 0) - link.last_sync_at)} ago)` : "never"],
      ["Cloud", link.cloud_url || "—"],
      ["Events sent", String(link.events_sent ?? "—")],
      ["Failures", `upload ${link.upload_failures ?? 0}, feed ${link.feed_failures ?? 0}`],
      ["Last error", link.last_error || "none"],
    ]);
  } else {
    facts(dl, [["Link", "not running: this fulfild has no cloud configured"]]);
  }
  list(alarms, (link && link.alarms) || [], "none");
}

// The station's action sheet, through the print queue at the station's page printer.
async function printActionSheet() {
  const { jobs } = await api("POST", "/api/v1/action-sheet/print", {});
  clearAlert();
  toast(`Action barcodes for ${app.session.station}: ${jobs.map((j) => `${j.id} on ${j.printer}`).join(", ")}`);
  await loadPrinters();
}

const SCANNER_STATES = { connected: "Connected", disconnected: "Disconnected", error: "Error" };

function renderScanners(scanners) {
  const ul = clear($("devices-scanners"));
  if (scanners.length === 0) ul.append(h("li", { class: "muted" }, "none configured"));
  for (const s of scanners)
    ul.append(
      h("li", { class: `device scanner-${s.state}`, testid: `scanner-${s.id}`, data: { state: s.state } },
        h("div", { class: "device-head" }, h("strong", {}, s.id),
          h("span", { class: `badge device-state device-${s.state}`, testid: `scanner-state-${s.id}` }, SCANNER_STATES[s.state] || humanize(s.state))),
        facts(h("dl", { class: "facts" }), [
          ["Kind", s.kind],
          ["Station", s.station || "—"],
          ["Detail", s.detail || "—"],
          ["Last scan", s.last_scan_at ? time(s.last_scan_at) : "never"],
          ["Scans", String(s.scans ?? 0)],
          ["Rejected reads", String(s.rejected_reads ?? 0)],
        ])),
    );
}

const PRINTER_STATES = { idle: "Idle", printing: "Printing", stopped: "Stopped", offline: "Offline", unknown: "Unknown" };
// IPP printer-state-reasons as an associate would say them; the -error/-warning/-report
// suffix only grades the same condition.
const PRINTER_REASONS = {
  "media-empty": "Out of labels/paper",
  "media-needed": "Out of labels/paper",
  "media-low": "Labels/paper running low",
  "media-jam": "Paper jam",
  "cover-open": "Cover open",
  "door-open": "Door open",
  paused: "Paused",
  offline: "Offline",
  "marker-supply-empty": "Ribbon out",
  "marker-supply-low": "Ribbon running low",
  "connecting-to-device": "Connecting",
};

function printerReason(reason) {
  const base = String(reason).replace(/-(error|warning|report)$/, "");
  return PRINTER_REASONS[base] || base.replaceAll("-", " ");
}

async function loadPrinters() {
  renderPrinters(await api("GET", "/api/v1/printers"));
}

function renderPrinters({ printers = [], alarms = [] }) {
  const ul = clear($("devices-printers"));
  if (printers.length === 0) ul.append(h("li", { class: "muted" }, "none configured"));
  const manager = app.session && app.session.role === "manager";
  for (const p of printers) {
    const reasons = (p.reasons || []).filter((r) => r && r !== "none").map(printerReason);
    let test = null;
    if (manager) {
      test = h("button", { type: "button", class: "btn", testid: `printer-test-${p.id}` }, "Test label");
      test.addEventListener("click", () => run(test, () => testPrinter(p.id)));
    }
    ul.append(
      h("li", { class: `device printer-${p.state}`, testid: `printer-${p.id}`, data: { state: p.state } },
        h("div", { class: "device-head" }, h("strong", {}, p.id),
          h("span", { class: `badge device-state printer-state-${p.state}`, testid: `printer-state-${p.id}` }, PRINTER_STATES[p.state] || humanize(p.state))),
        reasons.length ? h("p", { class: "printer-reasons", testid: `printer-reasons-${p.id}` }, reasons.join(" · ")) : null,
        facts(h("dl", { class: "facts" }), [
          ["Kind", `${p.kind} · ${String(p.language || "").toUpperCase()}`],
          ["Detail", p.detail || "—"],
          ["Queued", String(p.queued ?? 0)],
          ["Printed", String(p.printed ?? 0)],
          ["Last error", p.last_error || "none"],
        ]),
        test ? h("div", { class: "row" }, test) : null),
    );
  }
  const al = $("devices-printer-alarms");
  list(al, alarms, "");
  al.hidden = alarms.length === 0;
}

async function testPrinter(id) {
  const job = await api("POST", `/api/v1/printers/${enc(id)}/test`, {});
  clearAlert();
  toast(`Test label ${job.id} sent to ${id}`);
  await loadPrinters();
}

async function loadStations() {
  renderStations((await api("GET", "/api/v1/stations")).stations);
}

function renderStations(stations) {
  const ul = clear($("devices-stations"));
  if (stations.length === 0) ul.append(h("li", { class: "muted" }, "none"));
  for (const st of stations) {
    const s = st.session;
    const session = s
      ? [h("a", { href: `#/order/${enc(s.order_id)}` }, s.order_ref || s.order_id), ` · ${humanize(s.state || "?")} · opened by ${s.opened_by} at ${time(s.opened_at)}`]
      : "none: scans are shown, not picked";
    ul.append(
      h("li", { class: `device${s ? " station-active" : ""}`, testid: `station-${st.station}`, data: { session: s ? s.order_id : "" } },
        h("div", { class: "device-head" }, h("strong", {}, st.station),
          app.session && app.session.station === st.station ? h("span", { class: "badge" }, "this terminal") : null),
        facts(h("dl", { class: "facts" }), [
          ["Picking into", session],
          ["Scanners", st.scanners.map((x) => `${x.id} (${SCANNER_STATES[x.state] || x.state})`).join(", ") || "none"],
        ])),
    );
  }
}

async function unpair() {
  const values = await ask("Forget this terminal's pairing?", [], "Forget pairing");
  if (!values) return;
  forgetToken();
  location.hash = "";
  showPairing();
}

// ---------------------------------------------------------------------------------------
// Wiring
// ---------------------------------------------------------------------------------------

function wire() {
  $("pair-form").addEventListener("submit", (e) => {
    e.preventDefault();
    pair($("pair-code").value.trim(), e.submitter);
  });
  $("demo-code-use").addEventListener("click", (e) => pair($("demo-code-value").textContent, e.currentTarget));
  $("demo-code-associate").addEventListener("click", (e) => pairAsAssociate(e.currentTarget));
  $("find-form").addEventListener("submit", onFindSubmit);
  $("find-input").addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || !app.queue.q) return;
    app.queue.q = "";
    app.queue.filter = "todo";
    if (app.screen === "queue") run(null, loadQueue);
  });
  $("sound-toggle").addEventListener("click", toggleSound);
  $("attention-ack").addEventListener("click", acknowledge);
  $("ready-submit").addEventListener("click", (e) => run(e.currentTarget, submitReady));
  $("ready-shelf").addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    e.preventDefault();
    $("ready-submit").click();
  });
  $("handover-tracking").addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    e.preventDefault();
    $("handover-submit").click();
  });
  $("manifest-scan").addEventListener("keydown", onManifestScanKey);
  $("receiving-scan").addEventListener("keydown", onReceivingScanKey);
  $("capacity-toggle").addEventListener("click", (e) => run(e.currentTarget, toggleCapacity));
  $("receiving-close").addEventListener("click", (e) => run(e.currentTarget, closeShipment));
  $("wave-scan").addEventListener("keydown", onWaveScanKey);
  $("count-scan").addEventListener("keydown", onCountScanKey);
  $("count-qty").addEventListener("keydown", (e) => e.key === "Enter" && (e.preventDefault(), $("count-scan").focus()));
  $("count-plan").addEventListener("submit", planCount);
  $("count-submit").addEventListener("click", (e) => run(e.currentTarget, submitCount));
  $("count-recount").addEventListener("click", (e) => run(e.currentTarget, recountCount));
  $("count-approve").addEventListener("click", (e) => run(e.currentTarget, approveCount));
  $("count-cancel").addEventListener("click", (e) => run(e.currentTarget, cancelCount));
  $("wave-start").addEventListener("click", (e) => run(e.currentTarget, startWave));
  $("wave-print").addEventListener("click", (e) => run(e.currentTarget, printWave));
  $("wave-close").addEventListener("click", (e) => run(e.currentTarget, closeWave));
  $("alert-close").addEventListener("click", () => {
    clearAlert();
    keepFocus();
  });
  $("scan-input").addEventListener("keydown", onScanKey);
  $("pickup-code").addEventListener("keydown", onPickupKey);
  $("pickup-collect").addEventListener("click", (e) => collect(e.currentTarget));
  $("pickup-id-collect").addEventListener("click", (e) => collectById(e.currentTarget));
  wireSignature();
  $("pack-add").addEventListener("click", addPackage);
  $("pack-submit").addEventListener("click", (e) => run(e.currentTarget, submitPack));
  $("handover-submit").addEventListener("click", (e) => run(e.currentTarget, handOver));
  $("manifest-all").addEventListener("change", checkAllManifest);
  $("manifest-submit").addEventListener("click", (e) => run(e.currentTarget, createManifest));
  $("returns-add").addEventListener("click", () => addReturnLine().querySelector("input.code").focus());
  $("returns-form").addEventListener("submit", submitReturn);
  $("stock-form").addEventListener("submit", searchStock);
  $("unpair").addEventListener("click", unpair);
  $("print-action-sheet").addEventListener("click", (e) => run(e.currentTarget, printActionSheet));
  document.addEventListener("focusout", keepFocus);
  document.addEventListener("pointerdown", unlockAudio);
  document.addEventListener("keydown", onActionEnter, true); // before any field's own Enter
  document.addEventListener("keydown", onKeyDown);
  window.addEventListener("hashchange", route);
  // The banners stick just under the top bar, whose height changes as its tabs wrap.
  new ResizeObserver(() => document.documentElement.style.setProperty("--topbar-h", `${$("topbar").offsetHeight}px`)).observe($("topbar"));
  setInterval(tick, 1000);
  // Without the live link, poll; with it, a slow safety refresh in case an event was lost.
  setInterval(() => app.session && !app.live && !app.stale && refreshVisible(true), 10000);
  setInterval(() => app.session && app.stale && refreshVisible(true), 3000); // back soon after fulfild is
  setInterval(() => app.session && app.live && refreshVisible(true), 60000);
}

wire();
// manager.js (loaded after this file, deferred like it) runs before DOMContentLoaded.
document.addEventListener("DOMContentLoaded", start);
