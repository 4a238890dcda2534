// fulfild — the manager's desk: terminals, stock adjustments by scanning, the audit trail,
// sync health and configuration. Loaded after app.js and built on its helpers (h, api, run,
// ask, facts, time, …); app.js routes #/manage/<part> here and asks for refreshes.
"use strict";

const MANAGE_PARTS = ["terminals", "adjust", "audit", "sync", "config"];
const ROLE_WORDS = { associate: "Associate", manager: "Manager", pos: "Till" };
const CONFIG_FATES = {
  received: "Received",
  trying: "On trial",
  active: "In effect",
  superseded: "Superseded",
  rolled_back: "Rolled back",
  refused: "Refused",
};

// What each adjustment reason does to the books (the server's kAdjustmentReasons).
const ADJUST_EFFECTS = {
  damaged: "The units stay in the store but can no longer be sold (unsellable).",
  found: "The units are added to on hand.",
  theft: "The units are taken off on hand.",
  lost: "The units are taken off on hand.",
  display: "The units are taken off on hand (kept for display).",
  disposed: "Unsellable units are taken off the books.",
  received: "The units are added to on hand (goods that came without an announced delivery).",
};

const manage = {
  part: "terminals",
  terminals: [], // the last list, for the audit's "who" names
  adjust: [], // [{code, sku, title, bin, on_hand, quantity}] in scan order, one per SKU
  adjustChain: Promise.resolve(), // scans resolve one after another, in order
  config: null, // the last GET /api/v1/config, for the filter
};

async function showManage(part) {
  manage.part = MANAGE_PARTS.includes(part) ? part : "terminals";
  showScreen("manage");
  for (const p of MANAGE_PARTS) $(`manage-${p}`).hidden = p !== manage.part;
  for (const a of document.querySelectorAll(".subtab")) {
    const on = a.dataset.part === manage.part;
    a.classList.toggle("active", on);
    if (on) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
    // On a phone the row scrolls: the part shown stays in sight.
    if (on) revealInRow(a);
  }
  if (app.session.role !== "manager") {
    showAlert("error", "Only a store manager's terminal manages terminals, stock adjustments, the audit trail and the configuration.", "forbidden");
    return;
  }
  await run(null, loadManagePart);
  keepFocus();
}

const loaders = {
  terminals: loadTerminals,
  adjust: prepareAdjust,
  audit: prepareAudit,
  sync: loadSync,
  config: loadConfig,
};

function loadManagePart() {
  return loaders[manage.part]();
}

// The live refresh after events: the parts that show what changes on their own.
async function refreshManage() {
  if (app.screen !== "manage") return;
  if (manage.part === "sync") await loadSync();
  if (manage.part === "terminals") await loadTerminals();
}

function manageScanTarget() {
  return manage.part === "adjust" ? $("adjust-scan") : null;
}

// ---------------------------------------------------------------------------------------
// Terminals: pair, list, revoke
// ---------------------------------------------------------------------------------------

async function loadTerminals() {
  const [{ terminals }, { stations }] = await Promise.all([
    api("GET", `/api/v1/terminals${$("terminals-all").checked ? "?all=1" : ""}`),
    api("GET", "/api/v1/stations"),
  ]);
  manage.terminals = terminals;
  fillSelect($("pairing-station"), stations.map((s) => s.station), "— no station —", (s) => s);
  renderTerminals(terminals);
}

function renderTerminals(terminals) {
  const body = clear($("terminals-body"));
  for (const t of terminals) {
    const revoked = t.revoked_at > 0;
    const self = t.id === app.session.id;
    const revoke = revoked || self ? null : h("button", { type: "button", class: "btn danger", testid: `terminal-revoke-${t.id}`, on: { click: (e) => run(e.currentTarget, () => revokeTerminal(t)) } }, "Revoke");
    body.append(
      h("tr", { testid: `terminal-${t.id}`, class: revoked ? "terminal-revoked" : null },
        h("td", {}, t.name || t.id, self ? h("span", { class: "muted" }, " (this terminal)") : null),
        h("td", {}, ROLE_WORDS[t.role] || t.role),
        h("td", {}, t.station || "—"),
        h("td", { class: "wide-only" }, time(t.paired_at)),
        h("td", {}, revoked ? `revoked ${time(t.revoked_at)}` : time(t.last_seen_at)),
        h("td", {}, revoke)),
    );
  }
}

async function createPairingCode(e) {
  e.preventDefault();
  await run(e.submitter, async () => {
    const body = { role: $("pairing-role").value };
    const name = $("pairing-name").value.trim();
    if (name) body.name = name;
    // A till is paired for its own till id: it may post only that till's sales.
    const station = body.role === "pos" ? $("pairing-till").value.trim() : $("pairing-station").value;
    if (station) body.station = station;
    const issued = await api("POST", "/api/v1/pairing-codes", body);
    clearAlert();
    showPairingCode(issued);
  });
}

// The digits to type, and the QR code a tablet's camera opens the pairing screen with.
function showPairingCode(issued) {
  $("pairing-issued").hidden = false;
  $("pairing-code-value").textContent = issued.code;
  $("pairing-code-note").textContent = `${ROLE_WORDS[issued.role] || issued.role} terminal · valid until ${time(issued.expires_at)}, once. On the new terminal: open this page and type the code, or scan the square with its camera.`;
  const qr = clear($("pairing-qr"));
  qr.hidden = !issued.qr_svg;
  if (issued.qr_svg) qr.append(h("img", { src: `data:image/svg+xml;charset=utf-8,${enc(issued.qr_svg)}`, alt: `QR code for pairing code ${issued.code}`, testid: "pairing-qr-image" }));
}

async function revokeTerminal(t) {
  const sure = await ask(`Revoke ${t.name || t.id}? It is disconnected at once and must be paired again.`, [], "Revoke");
  if (!sure) return;
  await api("DELETE", `/api/v1/terminals/${enc(t.id)}`);
  clearAlert();
  toast(`${t.name || t.id} is revoked`);
  await loadTerminals();
}

// ---------------------------------------------------------------------------------------
// Stock adjustments by scanning: one reason, many scans, one batch
// ---------------------------------------------------------------------------------------

function prepareAdjust() {
  const reasons = app.reference.adjustment_reasons || [];
  fillSelect($("adjust-reason"), reasons, "— choose a reason —");
  $("adjust-effect").textContent = ADJUST_EFFECTS[$("adjust-reason").value] || "";
  renderAdjust();
}

function onAdjustScanKey(e) {
  if (e.key !== "Enter") return;
  e.preventDefault();
  const code = e.target.value.trim();
  e.target.value = "";
  if (!code) return;
  const quantity = Math.max(1, Number($("adjust-qty").value) || 1);
  $("adjust-qty").value = "1"; // units per scan are for one scan of a multiple
  manage.adjustChain = manage.adjustChain.then(() => adjustScan(code, quantity));
}

// A scan names the item; the books' figures show beside it so the manager sees what the
// adjustment will change. Nothing is posted until the batch is.
async function adjustScan(code, quantity) {
  const call = $("adjust-call");
  try {
    const hit = await lookup(code);
    if (!hit || hit.kind !== "item") throw new ApiError(422, "unknown_barcode", `${code} is not an item of this store${hit ? ` (it is ${humanize(hit.kind)} ${hit.order_ref || hit.sku || ""})` : ""}: nothing was added`);
    const line = manage.adjust.find((l) => l.sku === hit.sku);
    if (line) line.quantity += quantity;
    else {
      const stock = await api("GET", `/api/v1/inventory/${enc(hit.sku)}`);
      manage.adjust.push({ code, sku: hit.sku, title: hit.title, bin: hit.bin, on_hand: stock.on_hand, available: stock.available, quantity });
    }
    clearAlert();
    sound.ok();
    call.textContent = `+${quantity} ${hit.title || hit.sku}`;
    call.dataset.result = "ok";
    $("adjust-result").textContent = "";
    renderAdjust();
  } catch (e) {
    if (e.status === 401) return;
    sound.error();
    call.textContent = "✕ Not added";
    call.dataset.result = "error";
    showError(e);
  }
}

function renderAdjust() {
  const body = clear($("adjust-lines"));
  const lines = manage.adjust;
  $("adjust-empty").hidden = lines.length > 0;
  $("adjust-table").hidden = lines.length === 0;
  $("adjust-post").disabled = lines.length === 0;
  for (const l of lines) {
    const step = (d) => () => {
      l.quantity = Math.max(0, l.quantity + d);
      if (l.quantity === 0) manage.adjust = manage.adjust.filter((x) => x !== l);
      renderAdjust();
    };
    body.append(
      h("tr", { testid: `adjust-line-${l.sku}` },
        h("td", {}, h("span", { class: "sku" }, l.sku), " ", l.title),
        h("td", { class: "bin wide-only" }, l.bin || "—"),
        h("td", { class: "num", title: `available ${l.available}` }, `${l.on_hand}`),
        h("td", { class: "num" }, h("span", { class: "adjust-units" },
          h("button", { type: "button", class: "btn", "aria-label": `one fewer ${l.sku}`, testid: `adjust-less-${l.sku}`, on: { click: step(-1) } }, "−"),
          h("strong", { testid: `adjust-units-${l.sku}` }, String(l.quantity)),
          h("button", { type: "button", class: "btn", "aria-label": `one more ${l.sku}`, on: { click: step(1) } }, "+"))),
        h("td", {}, h("button", { type: "button", class: "btn ghost", testid: `adjust-remove-${l.sku}`, on: { click: step(-l.quantity) } }, "Remove"))),
    );
  }
}

async function postAdjustment() {
  const reason = $("adjust-reason").value;
  if (!reason) throw new ApiError(422, "invalid_argument", "Choose the reason for these units first: each line is posted to the ledger with it.");
  const units = manage.adjust.reduce((n, l) => n + l.quantity, 0);
  const sure = await ask(`Post ${units} unit${units === 1 ? "" : "s"} of ${manage.adjust.length} item${manage.adjust.length === 1 ? "" : "s"} as ${humanize(reason)}?`, [], "Post to the books");
  if (!sure) return;
  const note = $("adjust-note").value.trim();
  const r = await api("POST", "/api/v1/inventory/adjustment-batches", {
    reason,
    ...(note ? { note } : {}),
    lines: manage.adjust.map((l) => ({ code: l.sku, quantity: l.quantity })),
  });
  clearAlert();
  manage.adjust = [];
  $("adjust-note").value = "";
  renderAdjust();
  $("adjust-result").textContent = `Posted as ${humanize(r.reason)}: ${r.lines.map((l) => `${l.sku} now ${l.on_hand} on hand`).join(", ")}.`;
  toast(`${units} unit${units === 1 ? "" : "s"} posted as ${humanize(r.reason)}`);
}

// ---------------------------------------------------------------------------------------
// Audit trail with filters
// ---------------------------------------------------------------------------------------

const terminalName = (actor) => {
  const id = actor.startsWith("terminal:") ? actor.slice(9) : "";
  const t = id && manage.terminals.find((x) => x.id === id);
  return t ? t.name || t.id : actor.replace(/^local:/, "on the box: ").replace(/^system:/, "fulfild: ");
};

// An audit action ("POST /api/v1/orders/FO-1/accept") in the words a manager reads; the
// raw action stays beside it.
const ACTION_WORDS = [
  [/^POST \/api\/v1\/orders\/([^/]+)\/([a-z-]+)$/, (m) => `${humanize(m[2].replaceAll("-", "_"))} · order ${decodeURIComponent(m[1])}`],
  [/^POST \/api\/v1\/pick-lists\/([^/]+)\/([a-z-]+)$/, (m) => `${humanize(m[2].replaceAll("-", "_"))} · pick list ${decodeURIComponent(m[1])}`],
  [/^POST \/api\/v1\/pick-lists$/, () => "started a pick list"],
  [/^POST \/api\/v1\/count-sessions\/([^/]+)\/([a-z-]+)$/, (m) => `${humanize(m[2].replaceAll("-", "_"))} · count ${decodeURIComponent(m[1])}`],
  [/^POST \/api\/v1\/count-sessions$/, () => "planned a count"],
  [/^POST \/api\/v1\/shipments\/([^/]+)\/([a-z-]+)$/, (m) => `${humanize(m[2])} · delivery ${decodeURIComponent(m[1])}`],
  [/^POST \/api\/v1\/inventory\/adjustment-batches$/, () => "posted a stock adjustment"],
  [/^POST \/api\/v1\/inventory\/adjustments$/, () => "adjusted stock"],
  [/^POST \/api\/v1\/inventory\/counts$/, () => "posted a count"],
  [/^POST \/api\/v1\/returns$/, () => "took a return"],
  [/^POST \/api\/v1\/pairing-codes$/, () => "created a pairing code"],
  [/^POST \/api\/v1\/pair$/, () => "paired this terminal"],
  [/^DELETE \/api\/v1\/terminals\/([^/]+)$/, (m) => `revoked terminal ${terminalName(`terminal:${m[1]}`)}`],
  [/^POST \/api\/v1\/capacity\/(pause|resume)$/, (m) => (m[1] === "pause" ? "paused taking orders" : "resumed taking orders")],
  [/^POST \/api\/v1\/outbox\/dead-letters\/[^/]+\/retry$/, () => "sent a dead letter again"],
];

function describeAction(action) {
  for (const [re, words] of ACTION_WORDS) {
    const m = action.match(re);
    if (m) return words(m);
  }
  return action;
}

async function prepareAudit() {
  const { terminals } = await api("GET", "/api/v1/terminals?all=1");
  manage.terminals = terminals;
  const select = $("audit-actor");
  const keep = select.value;
  fillSelect(select, terminals.map((t) => `terminal:${t.id}`), "Anyone", (a) => terminalName(a));
  select.value = keep;
  await loadAudit();
}

function auditQuery() {
  const q = new URLSearchParams({ limit: "200" });
  const add = (key, value) => value && q.set(key, value);
  add("actor", $("audit-actor").value);
  add("action", $("audit-action").value.trim());
  add("order", $("audit-order").value.trim());
  // datetime-local is the terminal's local time, as the manager reads the clock.
  const at = (id) => ($(id).value ? String(new Date($(id).value).getTime()) : "");
  add("since", at("audit-since"));
  add("until", at("audit-until"));
  if ($("audit-refused").checked) q.set("refused", "1");
  return q.toString();
}

async function loadAudit() {
  const query = auditQuery();
  const { entries } = await api("GET", `/api/v1/audit?${query}`);
  const body = clear($("audit-body"));
  body.dataset.query = query; // what the rows answer (a test waits for its own query)
  $("audit-empty").hidden = entries.length > 0;
  for (const [i, e] of entries.entries())
    body.append(
      h("tr", { testid: `audit-row-${i}`, data: { status: String(e.status) } },
        h("td", {}, time(e.at)),
        h("td", {}, terminalName(e.actor), h("div", { class: "muted" }, ROLE_WORDS[e.role] || e.role)),
        h("td", { class: "action-text" }, describeAction(e.action), h("div", { class: "muted" }, e.action)),
        h("td", { class: `num${e.status >= 400 ? " none" : ""}` }, e.status >= 400 ? `refused ${e.status}${e.detail ? `: ${humanize(e.detail)}` : ""}` : "done")),
    );
}

// ---------------------------------------------------------------------------------------
// Sync health: the outbox, dead letters, the cloud link
// ---------------------------------------------------------------------------------------

async function loadSync() {
  const o = await api("GET", "/api/v1/outbox");
  facts($("sync-outbox"), [
    ["Waiting to send", String(o.pending)],
    ["Oldest waiting", o.pending ? duration(o.oldest_pending_age_s * 1000) : "—"],
    ["Dead letters", String(o.dead)],
    ["Last event number", String(o.last_seq)],
  ]);
  renderCloudLink($("sync-link"), $("sync-alarms"), o.link);
  const ul = clear($("sync-dead"));
  if (o.dead_letters.length === 0) ul.append(h("li", { class: "muted" }, "none: the cloud accepted every event"));
  for (const d of o.dead_letters)
    ul.append(
      h("li", { testid: `dead-letter-${d.seq}` },
        h("div", { class: "grow" },
          h("strong", {}, `#${d.seq} ${d.type}`), ` · ${d.subject} · ${time(d.created_at)}`,
          h("div", { class: "muted" }, d.reason ? `The cloud said: ${d.reason}` : "The cloud gave no reason")),
        h("button", { type: "button", class: "btn", testid: `dead-letter-retry-${d.seq}`, on: { click: (e) => run(e.currentTarget, () => retryDeadLetter(d)) } }, "Send again")),
    );
}

async function retryDeadLetter(d) {
  await api("POST", `/api/v1/outbox/dead-letters/${enc(d.event_id)}/retry`);
  clearAlert();
  toast(`Event #${d.seq} (${d.type}) is queued again`);
  await loadSync();
}

// ---------------------------------------------------------------------------------------
// Configuration: in effect, the remote version, the history of remote configurations
// ---------------------------------------------------------------------------------------

async function loadConfig() {
  const [config, { configs }] = await Promise.all([api("GET", "/api/v1/config"), api("GET", "/api/v1/config/history?limit=50")]);
  manage.config = config;
  const r = config.rollout || {};
  facts($("config-remote"), [
    ["Version in effect", config.remote_version ? String(config.remote_version) : "none: the local file alone"],
    ["Rollout", r.state ? humanize(r.state) : r.trial_version ? `trying version ${r.trial_version}` : "nothing on trial"],
  ]);
  $("config-history-empty").hidden = configs.length > 0;
  $("config-history").closest("table").hidden = configs.length === 0;
  const body = clear($("config-history"));
  for (const c of configs)
    body.append(
      h("tr", { testid: `config-version-${c.id}`, data: { state: c.state } },
        h("td", { class: "num" }, c.version ? String(c.version) : "—"),
        h("td", {}, time(c.received_at)),
        h("td", {}, CONFIG_FATES[c.state] || humanize(c.state)),
        h("td", { class: "action-text" }, c.reason || "")),
    );
  renderEffective();
}

// Every setting as "section.key = value", the way the README's reference names them.
// Lists of objects (printers, stations) by position: printers[0].id.
function flatten(value, prefix, out) {
  const objects = Array.isArray(value) && value.length > 0 && value.every((v) => v && typeof v === "object");
  if (objects) value.forEach((v, i) => flatten(v, `${prefix}[${i}]`, out));
  else if (value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length)
    for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
  else out.push([prefix, typeof value === "string" ? value : JSON.stringify(value)]);
  return out;
}

function renderEffective() {
  if (!manage.config) return;
  const filter = $("config-filter").value.trim().toLowerCase();
  const rows = flatten(manage.config.effective, "", []).filter(([k, v]) => !filter || k.toLowerCase().includes(filter) || v.toLowerCase().includes(filter));
  const body = clear($("config-effective"));
  for (const [k, v] of rows) body.append(h("tr", { testid: `config-${k}` }, h("td", {}, k), h("td", {}, v)));
  if (rows.length === 0) body.append(h("tr", {}, h("td", { colspan: "2", class: "muted" }, "No setting matches.")));
}

function wireManager() {
  $("pairing-form").addEventListener("submit", createPairingCode);
  $("pairing-role").addEventListener("change", () => {
    const till = $("pairing-role").value === "pos";
    $("pairing-till-label").hidden = !till;
    $("pairing-station-label").hidden = till;
    $("pairing-till").required = till;
  });
  $("terminals-all").addEventListener("change", () => run(null, loadTerminals));
  $("adjust-scan").addEventListener("keydown", onAdjustScanKey);
  $("adjust-reason").addEventListener("change", () => {
    $("adjust-effect").textContent = ADJUST_EFFECTS[$("adjust-reason").value] || "";
    keepFocus();
  });
  $("adjust-qty").addEventListener("keydown", (e) => e.key === "Enter" && (e.preventDefault(), $("adjust-scan").focus()));
  $("adjust-post").addEventListener("click", (e) => run(e.currentTarget, postAdjustment));
  $("adjust-clear").addEventListener("click", () => {
    manage.adjust = [];
    $("adjust-result").textContent = "";
    renderAdjust();
  });
  $("audit-form").addEventListener("submit", (e) => {
    e.preventDefault();
    run(e.submitter, loadAudit);
  });
  $("sync-refresh").addEventListener("click", (e) => run(e.currentTarget, loadSync));
  $("config-filter").addEventListener("input", renderEffective);
}

wireManager();
