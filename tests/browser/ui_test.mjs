// Headless-Chromium test of the associates' web UI, end to end against a real fulfild.
//
//   node ui_test.mjs /path/to/fulfild /path/to/artifacts
//
// Starts `fulfild --demo` on a free loopback port with a fresh state directory, drives the
// UI served by that binary (the embedded copy; set UI_DIR=agent/ui to test the files in a
// working tree instead, through FULFIL_UI_DIR) and always stops fulfild again.
//   A: ship from store — pair with the demo code, accept, pick by wedge-scanner typing
//      (a wrong item first), complete, pack: the demo's file printers at the terminal's
//      station pack-1 write the shipping label (ZPL) and packing slip (PDF) into
//      STATE_DIR/labels, the page lists the jobs, a reprint writes one more file; hand over.
//   B: pickup in store — accept, pick, pack, ready for pickup, how long it waits, the pickup
//      notice sent again twice (Alt+N), a wrong code, the right one.
//   C: the smaller screens — stock lookup, a return of A's items, devices (the two demo
//      printers with their state and a manager's test-label button).
//   D: a courier manifest for another packed ship order.
//   E: the desk's hardware scanner — a second fulfild with a `network` scanner at station
//      desk-1 (the test is the scanner sled: a TCP listener that writes CR LF-terminated
//      reads), a terminal paired to desk-1: picking opens the desk's session, sled reads tick
//      the pick list (a wrong item first), completing or leaving ends it (never a session
//      another terminal opened); the devices screen shows the scanner connected, then
//      disconnected when the sled goes away; reads without a session fill the stock lookup.
//      Action barcodes: a wedge scan of *ACT-START starts picking, the sled's *ACT-COMPLETE
//      completes it, *ACT-PACK on the queue is refused loudly; C prints the action sheet.
//   M: the manager's desk: terminals paired and revoked, stock adjusted by scanning, the
//      audit trail filtered, sync health, the configuration; at tablet and phone widths.
//   V: a count session planned by a manager, counted blind on the tablet and the phone,
//      reviewed with what moved while counting, a line recounted, approved.
// Screenshots and fulfild's log go to the artifacts directory. Exit 0 on success, 1 on any
// failure (with the reason on stderr).

import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const GLOBAL_TIMEOUT_MS = 300_000; // ctest gives the whole script 420 s
const STEP_TIMEOUT_MS = 15_000; // any single UI expectation
const ROUTED_WAIT_MS = 60_000; // the demo routes DEMO_ORDERS at once, then one every 45 s
const DEMO_ORDERS = 22; // enough for every scenario without waiting for the 45 s ones
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
  "--no-first-run", "--disable-component-update", "--disable-sync"];

const started = Date.now();
const log = (msg) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${msg}`);

class TestFailure extends Error {}
function check(condition, message) {
  if (!condition) throw new TestFailure(message);
}

// ---------------------------------------------------------------------------------------
// fulfild: start on a free port, wait for /health, stop (TERM, then KILL after 3 s)
// ---------------------------------------------------------------------------------------

// The kernel picks a free port for a throwaway listener; fulfild gets it right after.
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function startFulfild(binary, port, stateDir, logFile, extraArgs = []) {
  const env = { ...process.env };
  delete env.FULFIL_UI_DIR; // the embedded UI is what ships
  if (process.env.UI_DIR) env.FULFIL_UI_DIR = path.resolve(process.env.UI_DIR);
  const out = fs.openSync(logFile, "a");
  const child = spawn(binary, ["--demo", "--demo-orders", String(DEMO_ORDERS), "--state-dir", stateDir, "--listen", `127.0.0.1:${port}`, ...extraArgs], {
    env,
    stdio: ["ignore", out, out],
  });
  fs.closeSync(out); // the child has its own copy
  child.exited = new Promise((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  child.on("error", (e) => log(`cannot start ${binary}: ${e.message}`));
  return child;
}

async function waitHealthy(base, child, timeoutMs = 20_000) {
  let exited = null;
  child.exited.then((r) => (exited = r));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    check(!exited, `fulfild exited before answering /health (${JSON.stringify(exited)}); see fulfild.log`);
    try {
      const r = await fetch(`${base}/health`);
      if (r.ok) return r.json();
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new TestFailure(`fulfild did not answer GET /health within ${timeoutMs / 1000} s`);
}

async function stopFulfild(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const result = await Promise.race([child.exited, sleep(3000).then(() => null)]);
  if (result) {
    log(`fulfild stopped (${result.signal || `exit ${result.code}`})`);
    return;
  }
  log("fulfild ignored SIGTERM for 3 s: SIGKILL");
  child.kill("SIGKILL");
  await child.exited;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------
// Helpers for the page and the API
// ---------------------------------------------------------------------------------------

function makeHelpers(page, base, artifacts) {
  const tid = (id) => page.locator(`[data-testid="${id}"]`);

  // The terminal's own token, as the UI stored it at pairing.
  const token = () => page.evaluate(() => localStorage.getItem("fulfild.token"));

  async function api(pathAndQuery) {
    const r = await fetch(base + pathAndQuery, { headers: { Authorization: `Bearer ${await token()}` } });
    const body = await r.json();
    check(r.ok, `GET ${pathAndQuery} answered ${r.status}: ${JSON.stringify(body)}`);
    return body;
  }

  async function alertText() {
    const a = tid("alert");
    if (!(await a.isVisible())) return "(no banner)";
    return `${await a.getAttribute("data-kind")}: ${(await tid("alert-message").innerText()).replace(/\s+/g, " ")}`;
  }

  // Waits for the order screen to show a state; on timeout says what the banner said.
  async function expectState(state, timeout = STEP_TIMEOUT_MS) {
    try {
      await page.locator(`[data-testid="order-state"][data-state="${state}"]`).waitFor({ timeout });
    } catch {
      const now = await tid("order-state").getAttribute("data-state").catch(() => "?");
      throw new TestFailure(`order did not reach state ${state} (shows ${now}); banner: ${await alertText()}`);
    }
  }

  async function action(name, expected) {
    await tid(`action-${name}`).click();
    await expectState(expected);
    log(`  ${name} → ${expected}`);
  }

  async function expectFocus(testid) {
    try {
      await page.waitForFunction((id) => document.activeElement?.dataset?.testid === id, testid, { timeout: 5000 });
    } catch {
      const active = await page.evaluate(() => document.activeElement?.dataset?.testid || document.activeElement?.tagName);
      throw new TestFailure(`expected the focus in ${testid}, it is in ${active}`);
    }
  }

  // What a keyboard-wedge scanner does: type the code into whatever has the focus, then Enter.
  async function wedge(code) {
    await page.keyboard.type(code, { delay: 5 });
    await page.keyboard.press("Enter");
  }

  const pickedTotal = () =>
    page.$$eval('[data-testid^="pick-line-"]', (lines) => lines.reduce((n, l) => n + Number(l.dataset.picked), 0));

  // Scans every open unit of the order; after each scan waits for the tick to appear, so a
  // lost or doubled scan is caught where it happens. `scan` is how a code is read: typed by
  // a keyboard wedge into the page, or sent by the desk's hardware scanner.
  async function pickAll(order, scan = wedge) {
    let expected = await pickedTotal();
    for (const line of order.pick_walk) {
      check(line.barcodes.length > 0, `line ${line.line_no} (${line.sku}) has no barcode to scan`);
      for (let i = 0; i < line.open; i++) {
        // Alternate the SKU's barcodes: any of them must resolve to it.
        await scan(line.barcodes[i % line.barcodes.length]);
        expected += 1;
        try {
          await page.waitForFunction((n) => {
            const lines = document.querySelectorAll('[data-testid^="pick-line-"]');
            return [...lines].reduce((s, l) => s + Number(l.dataset.picked), 0) === n;
          }, expected, { timeout: STEP_TIMEOUT_MS });
        } catch {
          const server = await api(`/api/v1/orders/${order.id}`).catch(() => null);
          const onServer = server ? server.lines.reduce((n, l) => n + l.picked, 0) : "?";
          throw new TestFailure(`scan of ${line.barcodes[0]} (line ${line.line_no}) did not tick (page shows ${await pickedTotal()}, fulfild has ${onServer} picked, ${expected} expected); banner: ${await alertText()}; last scan: ${await tid("scan-last").innerText().catch(() => "?")}`);
        }
      }
      log(`  picked line ${line.line_no}: ${line.open} × ${line.sku} from ${line.bin}`);
    }
  }

  async function pack(boxType, weight) {
    await tid("pack-panel").waitFor();
    await tid("pack-box-type-1").selectOption(boxType);
    await tid("pack-weight-1").fill(String(weight));
    await tid("pack-submit").click();
    await expectState("packed");
    await tid("package-1").waitFor();
    log(`  pack (${boxType}, ${weight} g) → packed`);
  }

  // Opens an order from the queue screen by tapping its row.
  // Waits for the red banner of a refused scan with this error code.
  async function expectErrorBanner(code, what) {
    try {
      await page.locator(`[data-testid="alert"][data-kind="error"][data-code="${code}"]`).waitFor({ timeout: STEP_TIMEOUT_MS });
    } catch {
      throw new TestFailure(`no red ${code} banner after ${what}; banner: ${await alertText()}`);
    }
    return tid("alert-message").innerText();
  }

  async function openFromQueue(id) {
    await tid("nav-queue").click();
    await tid("screen-queue").waitFor();
    await tid(`queue-order-${id}`).click();
    await tid("screen-order").waitFor();
    const ref = await tid("order-ref").innerText();
    log(`opened ${id} (${ref})`);
  }

  async function shot(name) {
    await page.screenshot({ path: path.join(artifacts, `${name}.png`) });
  }

  return { tid, token, api, alertText, expectState, action, expectFocus, wedge, pickedTotal, pickAll, pack, expectErrorBanner, openFromQueue, shot };
}

// ---------------------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------------------

async function pairWithDemoCode(page, t, base) {
  await page.goto(`${base}/`);
  try {
    await t.tid("screen-pair").waitFor();
  } catch {
    const title = await page.title();
    const body = (await page.locator("body").innerText()).slice(0, 80);
    throw new TestFailure(`no pairing screen at ${base}/ (title "${title}", text "${body}"): is the UI compiled into this fulfild a placeholder? (UI_DIR=agent/ui tests the working tree's files)`);
  }
  await t.tid("demo-code-use").click(); // appears once the demo endpoint answered
  await t.tid("screen-queue").waitFor();
  check(await t.token(), "no token in localStorage after pairing");
  const who = await t.tid("terminal-name").innerText();
  log(`paired: ${who}`);
}

// The documents the demo's file printers wrote for a job: `<job id>-<copy>.<zpl|pdf>`.
function jobFiles(labelsDir, jobId) {
  if (!fs.existsSync(labelsDir)) return [];
  return fs.readdirSync(labelsDir).filter((f) => f.startsWith(`${jobId}-`) && !f.startsWith("."));
}
const labelFiles = (labelsDir) => (fs.existsSync(labelsDir) ? fs.readdirSync(labelsDir).filter((f) => !f.startsWith(".")) : []);

// Packing at the demo terminal printed a shipping label and a packing slip: the page says
// so, the spooler writes them, a reprint from the order's job list writes one more file.
async function checkPackPrinting(page, t, orderId, labelsDir) {
  const printed = page.locator('[data-testid="print-result"] [data-testid^="printed-"]');
  try {
    await printed.nth(1).waitFor();
  } catch {
    throw new TestFailure(`the order screen does not show the two documents printed with pack: "${await t.tid("print-result").innerText().catch(() => "no print-result")}"; banner: ${await t.alertText()}`);
  }
  const jobs = await printed.evaluateAll((els) => els.map((e) => ({ id: e.dataset.job, kind: e.dataset.kind })));
  const label = jobs.find((j) => j.kind === "shipping_label");
  const slip = jobs.find((j) => j.kind === "packing_slip");
  check(label && slip, `pack printed ${JSON.stringify(jobs)}, expected a shipping label and a packing slip`);
  check(!(await t.tid("alert").isVisible()), `a banner after a pack that printed everything: ${await t.alertText()}`);
  // The jobs are listed on the Print card and reach "printed" once the files are written.
  for (const j of [label, slip]) {
    try {
      await page.locator(`[data-testid="print-job-${j.id}"][data-state="printed"]`).waitFor();
    } catch {
      const row = await t.tid(`print-job-${j.id}`).innerText().catch(() => "not listed");
      throw new TestFailure(`print job ${j.id} (${j.kind}) did not show as printed: "${row.replace(/\s+/g, " ")}"; see fulfild.log`);
    }
  }
  const read = (f) => fs.readFileSync(path.join(labelsDir, f));
  const [zpl] = jobFiles(labelsDir, label.id);
  const [pdf] = jobFiles(labelsDir, slip.id);
  check(zpl && zpl.endsWith(".zpl"), `no ZPL file for ${label.id} in ${labelsDir}: ${labelFiles(labelsDir).join(", ")}`);
  check(pdf && pdf.endsWith(".pdf"), `no PDF file for ${slip.id} in ${labelsDir}: ${labelFiles(labelsDir).join(", ")}`);
  check(read(zpl).toString("latin1").trimStart().startsWith("^XA"), `${zpl} does not start with ^XA`);
  check(read(pdf).subarray(0, 5).toString("latin1") === "%PDF-", `${pdf} does not start with %PDF-`);
  await t.shot("03b-printed");
  log(`  pack printed ${label.id} → ${zpl}, ${slip.id} → ${pdf}`);

  // Reprint the label from the order's job list: a new job, one more file.
  const before = labelFiles(labelsDir).length;
  await t.tid(`reprint-${label.id}`).click();
  const again = page.locator(`[data-testid^="print-job-"][data-kind="shipping_label"]`);
  try {
    await again.nth(1).waitFor();
  } catch {
    throw new TestFailure(`no new shipping-label job listed after reprinting ${label.id}; banner: ${await t.alertText()}`);
  }
  await waitFor(`one more file in ${labelsDir} after the reprint (${before} before)`, async () => labelFiles(labelsDir).length === before + 1);
  const reprinted = (await t.api(`/api/v1/print-jobs?order_id=${encodeURIComponent(orderId)}`)).jobs.find((j) => j.reprint_of === label.id);
  check(reprinted, `the API lists no job reprinting ${label.id}`);
  log(`  reprint of ${label.id} → ${reprinted.id}, ${labelFiles(labelsDir).length} files`);
}

async function scenarioShip(page, t, labelsDir) {
  log("A: ship from store");
  // The demo routes its first orders within seconds of starting.
  const row = page.locator('[data-testid^="queue-order-"][data-state="routed"][data-method="ship"][data-kind="customer"]').first();
  await row.waitFor({ timeout: 30_000 });
  const sla = await row.locator('[data-testid="sla"]').innerText();
  check(/accept within \d+:\d\d/.test(sla), `routed order shows no SLA countdown (shows "${sla}")`);
  await t.shot("01-queue");
  const id = await row.getAttribute("data-id");
  await row.click();
  await t.tid("screen-order").waitFor();
  log(`opened ${id} (${await t.tid("order-ref").innerText()})`);
  await t.expectState("routed");
  // On hand beside available to promise, on each line, before accepting.
  const stockNote = await t.tid("pick-stock-1").innerText();
  const routedOrder = await t.api(`/api/v1/orders/${id}`);
  const line1 = routedOrder.lines.find((l) => l.line_no === 1);
  check(stockNote === `${line1.on_hand} on hand · ${line1.available} available`, `line 1 shows "${stockNote}"`);

  await t.action("accept", "accepted");
  // Undo before picking (Alt+Z), then accept again.
  await press(page, "Alt+Z");
  await t.expectState("routed");
  log("  Alt+Z → routed (un-accepted)");
  await t.action("accept", "accepted");
  await t.action("start_picking", "picking");
  await t.expectFocus("scan-input");
  await t.tid("print-pick_list").waitFor(); // the Print card offers the pick list while picking

  // First a barcode of a catalog item that is not on this order.
  const order = await t.api(`/api/v1/orders/${id}`);
  const onOrder = new Set(order.lines.map((l) => l.sku));
  const { items } = await t.api("/api/v1/inventory?q=SKU-1");
  const stranger = items.find((i) => !onOrder.has(i.sku) && i.barcodes.length > 0);
  check(stranger, "found no catalog item off this order to scan");
  await t.wedge(stranger.barcodes[0]);
  const banner = page.locator('[data-testid="alert"][data-kind="error"][data-code="wrong_item"]');
  try {
    await banner.waitFor({ timeout: STEP_TIMEOUT_MS });
  } catch {
    throw new TestFailure(`no red wrong-item banner after scanning ${stranger.barcodes[0]}; banner: ${await t.alertText()}`);
  }
  const text = await t.tid("alert-message").innerText();
  check(/wrong item/i.test(text), `wrong-item banner does not carry the server's message: "${text}"`);
  check((await t.pickedTotal()) === 0, "a wrong-item scan ticked a line");
  const after = await t.api(`/api/v1/orders/${id}`);
  check(after.lines.every((l) => l.picked === 0), "a wrong-item scan picked something on the server");
  await t.expectFocus("scan-input");
  await t.shot("02-pick-wrong-scan");
  log(`  wrong item ${stranger.sku} refused: "${text.replace(/\s+/g, " ").trim()}"`);

  await t.pickAll(order);
  check(!(await t.tid("alert").isVisible()), `banner still shown after good scans: ${await t.alertText()}`);
  await t.action("complete_picking", "picked");
  await t.pack("M", 850);
  await t.shot("03-packed");

  await checkPackPrinting(page, t, id, labelsDir);

  await t.tid("handover-carrier").selectOption("DHL");
  await t.tid("handover-tracking").fill("UITEST-0001");
  await t.tid("handover-submit").click();
  await t.expectState("shipped");
  const shipped = await t.api(`/api/v1/orders/${id}`);
  check(shipped.carrier === "DHL" && shipped.tracking === "UITEST-0001", `shipped with ${shipped.carrier}/${shipped.tracking}`);
  await t.shot("04-shipped");
  log(`  hand over (DHL) → shipped`);
  return shipped;
}

// The id of a routed order of this method, waiting for the demo cloud to route one.
async function findRouted(t, method) {
  const deadline = Date.now() + ROUTED_WAIT_MS;
  for (;;) {
    // Customers' orders: the demo's transfer (TRF-DEMO-1) cannot be returned in C.
    const { orders } = await t.api(`/api/v1/orders?state=routed&method=${method}&kind=customer`);
    if (orders.length > 0) return orders[0].id;
    check(Date.now() < deadline, `no routed ${method} order within ${ROUTED_WAIT_MS / 1000} s`);
    await sleep(1000);
  }
}

async function scenarioPickup(page, t) {
  log("B: pickup in store");
  const id = await findRouted(t, "pickup");
  await t.openFromQueue(id);
  await t.expectState("routed");
  await t.action("accept", "accepted");
  await t.action("start_picking", "picking");
  await t.expectFocus("scan-input");
  await t.pickAll(await t.api(`/api/v1/orders/${id}`));
  await t.action("complete_picking", "picked");
  // No box, no weight: a pickup goes onto a staging shelf.
  check(!(await t.tid("pack-panel").isVisible()), "a pickup order offers packing");
  await t.tid("ready-shelf").fill("P-03");
  await t.tid("ready-submit").click();
  await t.expectState("ready_for_pickup");
  check((await t.tid("order-meta").innerText()).includes("shelf P-03"), "the order does not show its staging shelf");
  await t.expectFocus("pickup-code-input");
  // How long it has waited (just now: minutes), not overdue; the notice sent again, twice.
  const waiting = t.tid("order-waiting");
  check(/^Waiting \d+ min$/.test((await waiting.innerText()).trim()), `a fresh pickup shows "${await waiting.innerText()}"`);
  check((await waiting.getAttribute("data-overdue")) === "false", "a fresh pickup is marked overdue");
  for (const nth of ["2nd", "3rd"]) {
    await press(page, "Alt+N");
    await page.locator(`[data-testid="pickup-notices"]:text-is("Pickup notice sent (${nth})")`).waitFor();
    await t.expectFocus("pickup-code-input");
  }
  const noticed = await t.api(`/api/v1/orders/${id}`);
  check(noticed.pickup_notices === 2 && noticed.state === "ready_for_pickup", `after two notices the order is ${JSON.stringify({ state: noticed.state, pickup_notices: noticed.pickup_notices })}`);
  log("  Alt+N twice → pickup notice sent (3rd)");

  // This terminal is a manager, so the API shows it the code the customer would bring.
  const { pickup_code: code } = await t.api(`/api/v1/orders/${id}`);
  check(/^\d+$/.test(code || ""), `no pickup code for a manager terminal: ${JSON.stringify(code)}`);
  const wrong = code.slice(0, -1) + String((Number(code.at(-1)) + 1) % 10);
  await t.wedge(wrong);
  const banner = page.locator('[data-testid="alert"][data-kind="error"][data-code="wrong_pickup_code"]');
  try {
    await banner.waitFor({ timeout: STEP_TIMEOUT_MS });
  } catch {
    throw new TestFailure(`no red banner after a wrong pickup code; banner: ${await t.alertText()}`);
  }
  const text = await t.tid("alert-message").innerText();
  check(/4 attempt\(s\) left/i.test(text), `wrong-code banner does not say how many attempts are left: "${text}"`);
  check((text.match(/attempt/gi) || []).length === 1, `wrong-code banner says the attempts left twice: "${text}"`);
  await t.expectState("ready_for_pickup");
  await t.shot("05-pickup-wrong-code");
  log(`  wrong code refused: "${text.replace(/\s+/g, " ").trim()}"`);

  // A neighbour collects for the customer and signs on the pad.
  await t.tid("pickup-collected-by").fill("Sam (neighbour)");
  await t.tid("pickup-signature").scrollIntoViewIfNeeded();
  const pad = await t.tid("pickup-signature").boundingBox();
  await page.mouse.move(pad.x + 20, pad.y + 40);
  await page.mouse.down();
  await page.mouse.move(pad.x + 140, pad.y + 70, { steps: 6 });
  await page.mouse.move(pad.x + 260, pad.y + 25, { steps: 6 });
  await page.mouse.up();
  await t.tid("pickup-code-input").focus();
  await t.wedge(code);
  await t.expectState("collected");
  const proof = (await t.api(`/api/v1/orders/${id}`)).pickup_proof;
  check(proof && proof.method === "code" && proof.signed && proof.collected_by === "Sam (neighbour)", `the proof kept is ${JSON.stringify(proof)}`);
  const said = await t.tid("done-detail").innerText();
  check(/Sam \(neighbour\)/.test(said) && /signed/.test(said), `the collected order says "${said}"`);
  await t.shot("06-collected");
  log(`  right code → collected: "${said}"`);
}

async function scenarioOtherScreens(page, t, shipped) {
  log("C: stock, returns, devices");
  const line = shipped.lines.find((l) => l.picked > 0);
  await t.tid("nav-stock").click();
  await t.tid("stock-query").fill(line.sku);
  await t.tid("stock-search").click();
  await t.tid(`stock-row-${line.sku}`).waitFor();
  log(`  stock lookup shows ${line.sku}`);

  await t.tid("nav-returns").click();
  await t.tid("returns-order-id").fill(shipped.order_ref); // the customer's order number
  await t.tid("screen-returns").locator('[data-testid^="return-code-"]').first().fill(line.barcodes[0]);
  await t.tid("returns-submit").click();
  const rid = t.tid("return-id");
  try {
    await page.waitForFunction(() => /^RT-/.test(document.querySelector('[data-testid="return-id"]')?.textContent || ""), null, { timeout: STEP_TIMEOUT_MS });
  } catch {
    throw new TestFailure(`no return id shown; banner: ${await t.alertText()}`);
  }
  log(`  return of 1 × ${line.sku} from ${shipped.id}: ${await rid.innerText()}`);

  await t.tid("nav-devices").click();
  await page.locator('[data-testid="devices-scanners"] li', { hasText: "none configured" }).waitFor();
  // The demo's two file printers, writable folders: idle, with a test button for a manager.
  const states = [];
  for (const id of ["demo-labels", "demo-paper"]) {
    try {
      await t.tid(`printer-${id}`).waitFor();
    } catch {
      throw new TestFailure(`devices screen does not list printer ${id}: "${await t.tid("devices-printers").innerText()}"`);
    }
    await t.tid(`printer-test-${id}`).waitFor();
    states.push(`${id} ${await t.tid(`printer-state-${id}`).innerText()}`);
  }
  const terminals = await t.tid("devices-terminals").innerText();
  check(Number(terminals) >= 1, `devices screen shows ${terminals} connected terminals, expected this one`);
  await t.shot("07a-devices-printers");
  // The desk's action barcodes, through the print queue at the station's page printer.
  await t.tid("print-action-sheet").click();
  const sheet = await waitFor("no action sheet printed after Print action barcodes", async () => {
    const { jobs } = await t.api("/api/v1/print-jobs?printer=demo-paper&limit=5");
    return jobs.find((j) => j.kind === "action_sheet" && j.state === "printed");
  });
  check(sheet.order_id === null, `the action sheet's job names order ${sheet.order_id}`);
  log(`  action barcodes printed: ${sheet.id} on ${sheet.printer} (station ${sheet.station})`);
  log(`  devices: no scanners; printers ${states.join(", ")}; ${terminals} terminal(s) connected`);
}

// A second ship order packed and handed to a courier on one manifest.
async function scenarioManifest(page, t) {
  log("D: courier manifest");
  const id = await findRouted(t, "ship");
  await t.openFromQueue(id);
  await t.action("accept", "accepted");
  await t.action("start_picking", "picking");
  await t.pickAll(await t.api(`/api/v1/orders/${id}`));
  await t.action("complete_picking", "picked");
  await t.pack("M", 1400);
  // A wrong box: unpack (Alt+Z) and pack again.
  await press(page, "Alt+Z");
  await t.expectState("picked");
  await t.pack("L", 1500);
  await t.tid("handover-manifest-link").click();
  await t.tid("screen-manifest").waitFor();
  await t.tid(`manifest-check-${id}`).check();
  await t.tid("manifest-carrier").selectOption("UPS");
  await t.tid("manifest-submit").click();
  try {
    await t.tid("manifest-result").waitFor();
  } catch {
    throw new TestFailure(`no manifest shown; banner: ${await t.alertText()}`);
  }
  const mid = await t.tid("manifest-id").innerText();
  const summary = await t.tid("manifest-summary").innerText();
  check(/UPS: 1 parcel, 1\.50 kg/.test(summary), `manifest summary reads "${summary}"`);
  const o = await t.api(`/api/v1/orders/${id}`);
  check(o.state === "shipped" && o.carrier === "UPS", `manifested order is ${o.state} with "${o.carrier}"`);
  await t.shot("07-manifest");
  log(`  manifest ${mid}: ${summary}`);
}

// ---------------------------------------------------------------------------------------
// F-J: the associate's shift on a tablet and a phone, by keyboard and scanner only
// ---------------------------------------------------------------------------------------

const TABLET = { width: 820, height: 1180 };
const PHONE = { width: 390, height: 844 };

// Nothing on the screen may be wider than the viewport (a table that does not fit scrolls
// inside its own box).
async function checkNoOverflow(page, what) {
  // A banner's pop (scale 1.02 for a quarter second) widens the page while it runs.
  await page.evaluate(() => Promise.all(document.getAnimations().filter((a) => a.effect.getTiming().iterations !== Infinity).map((a) => a.finished.catch(() => {}))));
  const r = await page.evaluate(() => {
    const width = window.innerWidth;
    const doc = document.documentElement.scrollWidth;
    // The element reaching furthest right outside any box that scrolls or clips it.
    let widest = "";
    let right = 0;
    if (doc > width)
      for (const el of document.querySelectorAll("body *")) {
        if (el.offsetParent === null) continue;
        let clipped = false;
        for (let p = el.parentElement; p && p !== document.body && !clipped; p = p.parentElement)
          clipped = getComputedStyle(p).overflowX !== "visible";
        const box = el.getBoundingClientRect();
        if (!clipped && box.right > right) {
          right = box.right;
          widest = `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ""}${el.dataset.testid ? `[${el.dataset.testid}]` : ""}${el.className ? `.${String(el.className).split(" ")[0]}` : ""} ends at ${Math.round(box.right)} px`;
        }
      }
    return { width, doc, widest };
  });
  check(r.doc <= r.width, `${what}: the page is ${r.doc} px wide in a ${r.width} px viewport (${r.widest})`);
}

// A terminal of its own (a browser profile), paired as an associate by typing the code.
async function associateTerminal(env, viewport, name) {
  const context = await env.browser.newContext({ viewport });
  const page = await context.newPage();
  env.watch(page);
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  const t = makeHelpers(page, env.base, env.artifacts);
  await page.goto(`${env.base}/`);
  await t.tid("screen-pair").waitFor();
  const { code } = await postJson(env.base, "/api/v1/demo/pairing-code?role=associate", {});
  await t.expectFocus("pair-code-input");
  await t.wedge(code);
  await t.tid("screen-queue").waitFor();
  const who = await t.tid("terminal-name").innerText();
  check(/associate/.test(who), `${name} paired as "${who}", expected an associate`);
  log(`${name} (${viewport.width}×${viewport.height}) paired by keyboard: ${who}`);
  return { context, page, t, shot: (n) => page.screenshot({ path: path.join(env.artifacts, `${n}.png`) }) };
}

async function press(page, keys) {
  await page.keyboard.press(keys);
}

// A routed order of this method not yet taken by another scenario, with its number.
async function takeRouted(t, method, taken, minUnits = 1) {
  const deadline = Date.now() + ROUTED_WAIT_MS;
  for (;;) {
    const { orders } = await t.api(`/api/v1/orders?state=routed&method=${method}&kind=customer`);
    const o = orders.find((x) => !taken.has(x.id) && x.units >= minUnits);
    if (o) {
      taken.add(o.id);
      return o;
    }
    check(Date.now() < deadline, `no routed ${method} order within ${ROUTED_WAIT_MS / 1000} s`);
    await sleep(1000);
  }
}

// Scans every unit with wedge bursts, checking the focus lands in the scan field first.
async function scanAll(a, order) {
  await a.t.pickAll(order, async (code) => {
    await a.t.wedge(code);
  });
}

// F: ship from store on a tablet, no pointer: find by the customer's order number, accept,
// Tab around the buttons (no trap), scan while a button has the focus (the scan still lands),
// complete, weigh, choose the carrier and hand over.
async function scenarioKeyboardShip(env, manager, taken) {
  log("F: ship from store by keyboard and scanner only (tablet)");
  const a = await associateTerminal(env, TABLET, "tablet");
  const o = await takeRouted(manager, "ship", taken);
  await a.t.expectFocus("find-input");
  await a.t.wedge(o.order_ref);
  await a.t.expectState("routed");
  check((await a.t.tid("order-ref").innerText()) === o.order_ref, `the find field did not open ${o.order_ref}`);
  await checkNoOverflow(a.page, "tablet order screen");
  await a.shot("20-kb-opened");
  await press(a.page, "Alt+A");
  await a.t.expectState("accepted");
  await a.t.expectFocus("scan-input");
  // Tab and Shift+Tab move on and stay (the old UI snapped back to the scan field).
  await press(a.page, "Shift+Tab");
  await sleep(150);
  const onButton = await a.page.evaluate(() => document.activeElement?.tagName);
  check(onButton === "BUTTON" || onButton === "A", `Shift+Tab from the scan field went to ${onButton}, or was pulled back`);
  await press(a.page, "Shift+Tab");
  await sleep(150);
  check(await a.page.evaluate(() => document.activeElement?.dataset?.testid !== "scan-input"), "focus snapped back to the scan field");
  log("  Tab moves between buttons without snapping back");
  // A scan while a button has the focus lands in the scan field; the first scan starts picking.
  const order = await manager.api(`/api/v1/orders/${o.id}`);
  await scanAll(a, order);
  await a.t.expectState("picking");
  await a.shot("21-kb-picked");
  await press(a.page, "Alt+C");
  await a.t.expectState("picked");
  await a.t.expectFocus("pack-weight-1");
  await a.t.wedge("920"); // a scale typing its reading
  await a.t.expectState("packed");
  await a.t.expectFocus("handover-tracking");
  await press(a.page, "Shift+Tab");
  await a.t.expectFocus("handover-carrier");
  await press(a.page, "ArrowDown");
  await press(a.page, "Tab");
  await a.t.expectFocus("handover-tracking");
  await a.t.wedge("KB-TRACK-1");
  await a.t.expectState("shipped");
  const shipped = await manager.api(`/api/v1/orders/${o.id}`);
  check(shipped.tracking === "KB-TRACK-1" && shipped.carrier, `shipped as ${shipped.carrier}/${shipped.tracking}`);
  await a.shot("22-kb-shipped");
  log(`  ${o.order_ref}: found, accepted, picked, packed and shipped (${shipped.carrier}) without a click`);
  return a;
}

// G: pickup on a phone, no pointer: accept, scan, complete, staging shelf, a wrong code
// (said once), the right one.
async function scenarioKeyboardPickup(env, manager, taken) {
  log("G: pickup in store by keyboard and scanner only (phone)");
  const a = await associateTerminal(env, PHONE, "phone");
  await checkNoOverflow(a.page, "phone queue");
  const o = await takeRouted(manager, "pickup", taken);
  await a.t.expectFocus("find-input");
  await a.t.wedge(o.order_ref);
  await a.t.expectState("routed");
  await checkNoOverflow(a.page, "phone order screen");
  await press(a.page, "Alt+A");
  await a.t.expectState("accepted");
  await scanAll(a, await manager.api(`/api/v1/orders/${o.id}`));
  await press(a.page, "Alt+C");
  await a.t.expectState("picked");
  await a.t.expectFocus("ready-shelf");
  await a.t.wedge("P-07");
  await a.t.expectState("ready_for_pickup");
  await a.t.expectFocus("pickup-code-input");
  check(!(await a.t.tid("pickup-id-check").isVisible()), "an associate is offered the manager's ID check");
  check(!(await a.page.content()).includes((await manager.api(`/api/v1/orders/${o.id}`)).pickup_code), "the associate's page holds the pickup code");
  await press(a.page, "Alt+N");
  await a.page.locator('[data-testid="pickup-notices"]:text-is("Pickup notice sent (2nd)")').waitFor();
  await a.t.expectFocus("pickup-code-input");
  await checkNoOverflow(a.page, "phone pickup waiting on its shelf");
  const { pickup_code: code } = await manager.api(`/api/v1/orders/${o.id}`);
  await a.t.wedge(code === "000000" ? "111111" : "000000");
  const text = await a.t.expectErrorBanner("wrong_pickup_code", "a wrong pickup code");
  check((text.match(/attempt/gi) || []).length === 1, `the attempts left are said more than once: "${text}"`);
  await a.shot("23-kb-pickup-wrong");
  await a.t.expectFocus("pickup-code-input");
  await a.t.wedge(code);
  await a.t.expectState("collected");
  await checkNoOverflow(a.page, "phone collected order");
  await a.shot("24-kb-collected");
  log(`  ${o.order_ref}: accepted, picked, shelved on P-07, collected without a click`);
  return a;
}

// K: a pickup nobody collected (the demo shelved W100000 nine days before it started): the
// queue and the order say how long it waited and that it is overdue, on a phone and a
// tablet alike (no overflow); an associate is not offered to return it; the manager returns
// it to stock by keyboard (Alt+T, a confirmation) and is told to put its item back.
async function scenarioUncollected(phone, tablet, manager, managerPage) {
  log("K: an overdue pickup, returned to stock");
  const old = await manager.api("/api/v1/orders/FO-DEMO-0");
  check(old.state === "ready_for_pickup" && old.uncollected_overdue, `the demo's uncollected pickup is ${JSON.stringify({ state: old.state, overdue: old.uncollected_overdue })}`);
  const { orders } = await manager.api("/api/v1/orders?overdue=true");
  check(orders.length === 1 && orders[0].id === "FO-DEMO-0", `?overdue=true lists ${orders.map((o) => o.id)}`);
  for (const [a, device] of [[phone, "phone"], [tablet, "tablet"]]) {
    await a.t.tid("find-input").focus();
    await a.t.wedge(old.order_ref);
    await a.t.expectState("ready_for_pickup");
    await a.t.tid("order-waiting-overdue").waitFor();
    const said = (await a.t.tid("order-waiting").innerText()).replace(/\s+/g, " ").trim();
    check(/^Waiting 9 days Overdue$/i.test(said), `the ${device} says "${said}" for a pickup shelved nine days ago`);
    check(!(await a.t.tid("action-return_uncollected").isVisible()), `an associate's ${device} offers to return it to stock`);
    await checkNoOverflow(a.page, `${device} overdue pickup`);
    await a.shot(`30-${device}-overdue-pickup`);
  }
  // The manager's queue: the row says how long, and that it is overdue.
  await managerPage.evaluate(() => (location.hash = "#/queue"));
  await manager.tid("queue-chip-ready_for_pickup").click();
  const row = managerPage.locator('[data-testid="queue-order-FO-DEMO-0"][data-overdue="true"]');
  await row.locator('[data-testid="queue-waiting-overdue"]').waitFor();
  check(/Waiting 9 days/.test(await row.innerText()), `the queue row says "${await row.innerText()}"`);
  await row.click();
  await manager.expectState("ready_for_pickup");
  await press(managerPage, "Alt+T");
  await manager.tid("dialog").waitFor();
  await manager.expectFocus("dialog-cancel"); // the safe choice first: Enter cancels
  await press(managerPage, "Tab");
  await manager.expectFocus("dialog-confirm");
  await press(managerPage, "Enter");
  await manager.expectState("cancelled");
  const notice = await manager.alertText();
  check(/returned to stock: put its 1 item back on the shelf \(from P-09\)/.test(notice), `after returning it the banner says "${notice}"`);
  const done = await manager.tid("done-title").innerText();
  check(done === "Returned to stock", `the returned order's card says "${done}"`);
  const returned = await manager.api("/api/v1/orders/FO-DEMO-0");
  check(returned.reject_reason === "not_collected", `the returned order's reason is ${returned.reject_reason}`);
  await manager.shot("31-returned-to-stock");
  log(`  ${old.order_ref}: overdue on phone, tablet and queue; Alt+T → cancelled (not collected)`);
}

// H: two terminals on one order: the tablet picks, the manager sees who has it and releases
// it, then picks on; the tablet sees the manager has it.
async function scenarioClaims(env, tablet, manager, managerPage, taken) {
  log("H: two terminals, one order");
  const o = await takeRouted(manager, "ship", taken, 2); // a unit for each terminal
  const order = await manager.api(`/api/v1/orders/${o.id}`);
  await tablet.t.tid("find-input").waitFor();
  await tablet.page.evaluate(() => document.activeElement?.blur());
  await press(tablet.page, "Alt+Q");
  await tablet.t.tid("screen-queue").waitFor();
  await tablet.t.expectFocus("find-input"); // a scan before the focus is there is lost
  await tablet.t.wedge(o.order_ref);
  await tablet.t.expectState("routed");
  await press(tablet.page, "Alt+A");
  await tablet.t.expectState("accepted");
  const first = order.pick_walk[0];
  await tablet.t.expectFocus("scan-input"); // where the next scan lands, as in F
  await tablet.t.wedge(first.barcodes[0]); // starts picking: the tablet holds the order
  await tablet.t.expectState("picking");

  await managerPage.goto(`${env.base}/#/order/${encodeURIComponent(o.id)}`);
  await manager.expectState("picking");
  const badge = manager.tid("order-claim");
  await badge.waitFor();
  const says = await badge.innerText();
  check(/Demo associate/i.test(says), `the claim badge reads "${says}"`);
  check(!(await manager.tid("scan-card").isVisible()), "another terminal's order offers the scan field");
  await managerPage.screenshot({ path: path.join(env.artifacts, "25-claimed-elsewhere.png") });
  await press(managerPage, "Alt+L");
  await manager.tid("scan-card").waitFor();
  check(!(await badge.isVisible()), "the claim badge stays after the release");
  await manager.expectFocus("scan-input");
  const second = order.pick_walk.find((l) => l.open > (l === first ? 1 : 0));
  await manager.wedge(second.barcodes[0]);
  await waitFor("the manager's scan to take the order", async () => {
    const now = await manager.api(`/api/v1/orders/${o.id}`);
    return now.claim && now.claim.mine && now.lines.reduce((n, l) => n + l.picked, 0) === 2;
  });
  const claimed = tablet.t.tid("order-claim");
  try {
    await tablet.page.locator('[data-testid="order-claim"]', { hasText: "Demo manager" }).waitFor();
  } catch {
    throw new TestFailure(`the tablet does not show the manager picking: "${await claimed.innerText().catch(() => "")}"`);
  }
  check(!(await tablet.t.tid("scan-card").isVisible()), "the tablet still offers to scan into the manager's order");
  await tablet.shot("26-claim-taken-over");
  log(`  ${o.order_ref}: tablet picked, manager released and took over; tablet shows "${await claimed.innerText()}"`);
}

// I: an order waiting to be accepted is announced until acknowledged; the sound switch is
// kept across a reload.
async function scenarioAlerts(tablet) {
  log("I: alerts that get noticed");
  const box = tablet.t.tid("attention");
  await box.waitFor();
  const text = await tablet.t.tid("attention-message").innerText();
  check(/waiting to be accepted/.test(text) && /accept within \d+:\d\d/.test(text), `the new-orders banner reads "${text}"`);
  check((await box.getAttribute("data-acknowledged")) === "false", "new orders are acknowledged before anyone saw them");
  await press(tablet.page, "Alt+G");
  await tablet.page.locator('[data-testid="attention"][data-acknowledged="true"]').waitFor();
  check(await box.isVisible(), "acknowledging hid the banner while orders still wait");
  // On (or waiting for a first tap), then off: the switch is kept per terminal.
  const sound = tablet.t.tid("sound-toggle");
  const before = await sound.getAttribute("data-state");
  for (let i = 0; i < 2 && (await sound.getAttribute("data-state")) !== "off"; i++) {
    await sound.press("Enter");
    await sleep(200);
  }
  const after = await sound.getAttribute("data-state");
  check(after === "off", `the sound switch did not turn off (shows ${after})`);
  await tablet.page.reload();
  await tablet.t.tid("sound-toggle").waitFor();
  const kept = await tablet.t.tid("sound-toggle").getAttribute("data-state");
  check(kept === "off", `the sound switch was off and came back ${kept} after a reload`);
  await tablet.shot("27-attention");
  log(`  banner "${text}"; acknowledged; sound ${before} → ${after}, after reload ${kept}`);
}

// W: a wave of 5 orders picked to totes on the tablet: ticked in the queue, one walk by bin
// with every scan called to its tote (wedge bursts), a unit not on the shelf short-picked on
// the last tote that needs it, and the list done with every order moved on.
async function scenarioWave(env, tablet, manager, taken) {
  log("W: a pick list of 5 orders, picked to totes");
  const token = await manager.token();
  const ids = [];
  for (let i = 0; i < 5; i++) {
    const o = await takeRouted(manager, "", taken);
    await postJson(env.base, `/api/v1/orders/${encodeURIComponent(o.id)}/accept`, {}, token);
    ids.push(o.id);
  }
  const { page, t } = tablet;
  await page.evaluate(() => (location.hash = "#/queue"));
  await t.tid("queue-chip-accepted").click();
  for (const id of ids) await t.tid(`queue-select-${id}`).check();
  await page.locator('[data-testid="wave-start"][data-selected="5"]').waitFor();
  await checkNoOverflow(page, "tablet queue with tick boxes");
  await tablet.shot("30-wave-ticked");
  await page.evaluate(() => document.activeElement?.blur());
  await press(page, "Alt+W");
  await t.tid("screen-wave").waitFor();
  await t.expectFocus("wave-scan");
  const name = await t.tid("wave-id").innerText();
  const list = await t.api(`/api/v1/pick-lists/${name}`);
  check(list.orders.map((o) => o.order_id).join() === ids.join(), `totes hold ${list.orders.map((o) => o.order_id)}, ticked ${ids}`);
  await checkNoOverflow(page, "tablet pick list");
  await tablet.shot("31-wave-walk");

  // The walk as listed; the very last unit is "not on the shelf".
  const units = list.stops.flatMap((stop) => stop.slots.flatMap((slot) => Array(slot.open).fill({ stop, slot })));
  const short = units.pop();
  let scans = 0;
  for (const { stop, slot } of units) {
    await t.wedge(stop.barcodes[scans % stop.barcodes.length]);
    scans += 1;
    try {
      await page.waitForFunction(
        ([n, tote]) => document.querySelector('[data-testid="wave-tote"]').dataset.tote === String(tote) &&
          [...document.querySelectorAll('[data-testid^="wave-tote-"]')].reduce((s, r) => s + Number(r.children[3].textContent.split("/")[0]), 0) === n,
        [scans, slot.tote], { timeout: STEP_TIMEOUT_MS });
    } catch {
      throw new TestFailure(`scan ${scans} (${stop.sku}) was not called to tote ${slot.tote}: "${await t.tid("wave-tote").innerText()}"; banner: ${await t.alertText()}`);
    }
  }
  log(`  ${scans} scans, each called to its tote (${list.stops.length} bins, walked once)`);
  await t.tid(`wave-short-${short.stop.sku}`).click();
  await t.tid("dialog-reason").selectOption("not_found");
  await t.tid("dialog-confirm").click();
  await page.locator('[data-testid="wave-state"][data-state="closed"]').waitFor();
  await tablet.shot("32-wave-done");
  const done = await t.api(`/api/v1/pick-lists/${name}`);
  for (const o of done.orders) {
    const expected = o.tote === short.slot.tote && o.units === 1 ? "rejected" : "picked";
    check(o.state === expected, `tote ${o.tote} (${o.order_ref}) ended ${o.state}, expected ${expected}`);
  }
  const shownStop = await t.tid(`wave-stop-${short.stop.sku}`).innerText();
  check(/Tote \d+ × \d+ ✓ · 1 short/.test(shownStop.replace(/\s+/g, " ")), `the short stop reads "${shownStop}"`);
  const shortOrder = await t.api(`/api/v1/orders/${short.slot.order_id}`);
  check(shortOrder.lines.some((l) => l.rejected === 1 && l.reject_reason === "not_found"), `tote ${short.slot.tote} has no short line`);
  log(`  ${name}: ${done.orders.length} orders, tote ${short.slot.tote} short one ${short.stop.sku}; the list closed by itself`);
  await page.evaluate(() => (location.hash = "#/queue"));
  await t.tid("queue-chip-todo").click(); // as the later scenarios expect the queue
}

// Every screen at a tablet's or a phone's width: nothing wider than the viewport.
async function scenarioNarrowScreens(phone, sku, device) {
  for (const screen of ["queue", "manifest", "receiving", "returns", "stock", "count", "devices"]) {
    await phone.page.evaluate((s) => (location.hash = `#/${s}`), screen);
    await phone.t.tid(`screen-${screen}`).waitFor();
    if (screen === "stock") {
      await phone.t.tid("stock-query").fill(sku.slice(0, 5));
      await phone.t.tid("stock-query").press("Enter");
      await phone.t.tid("stock-results").waitFor();
    }
    await sleep(300);
    await checkNoOverflow(phone.page, `${device} ${screen} screen`);
    await phone.shot(`28-${device}-${screen}`);
  }
  // The pick list of scenario W, done: its walk and totes.
  await phone.page.evaluate(() => (location.hash = "#/wave/PL-1"));
  await phone.page.locator('[data-testid="wave-id"]', { hasText: "PL-1" }).waitFor();
  await phone.page.locator('[data-testid^="wave-stop-"]').first().waitFor();
  await checkNoOverflow(phone.page, `${device} pick list screen`);
  await phone.shot(`28-${device}-wave`);
  log(`  ${device}: queue, manifest, receiving, returns, stock, count, devices and a pick list fit ${phone.page.viewportSize().width} px`);
}

// V: a count session — the manager plans a count of bin prefix A03; two associates (the
// tablet and the phone) count it blind by scanning, one line with units per scan and one
// with none here; stock received after a line was counted is no variance, stock received
// before is expected; the manager reviews (variance and moved-after-count columns), sends a
// line back, the tablet counts it again, the manager approves: on hand is what was counted
// plus what moved after. Tablet and phone widths, blind and review, with no overflow.
async function scenarioCount(env, tablet, phone, manager, managerPage) {
  log("V: a count session of bins A03, counted blind by two associates, reviewed, approved");
  const token = await manager.token();
  const onHand = async (sku) => (await manager.api(`/api/v1/inventory/${encodeURIComponent(sku)}`)).on_hand;
  const receive = (sku, quantity) => postJson(env.base, "/api/v1/inventory/adjustments", { sku, kind: "receipt", quantity, reason: "delivery" }, token);
  await managerPage.evaluate(() => (location.hash = "#/count"));
  await manager.tid("count-plan-bins").fill("A03");
  await manager.tid("count-plan-note").fill("aisle A03");
  await manager.tid("count-plan-submit").click();
  await manager.tid("count-session").waitFor();
  const name = (await manager.tid("count-id").innerText()).trim();
  const planned = await manager.api(`/api/v1/count-sessions/${name}`);
  check(planned.lines.length >= 4, `${name} has ${planned.lines.length} lines for bins A03, expected 4`);
  const [l1, l2, l3, l4] = await Promise.all(planned.lines.slice(0, 4).map(async (l) => ({ ...l, ...(await manager.api(`/api/v1/inventory/${encodeURIComponent(l.sku)}`)) })));
  for (const l of planned.lines.slice(4)) await postJson(env.base, `/api/v1/count-sessions/${name}/none-found`, { sku: l.sku }, token);
  const row = (a, sku) => a.page.locator(`[data-testid="count-line-${sku}"]`);
  const counted = async (a, sku, n) => {
    try {
      await a.page.locator(`[data-testid="count-line-${sku}"][data-counted="${n}"]`).waitFor();
    } catch {
      throw new TestFailure(`${sku} does not show ${n} counted (shows "${await row(a, sku).getAttribute("data-counted").catch(() => "?")}"); banner: ${await a.t.alertText()}`);
    }
  };

  // The tablet opens the count from the list; the phone by scanning its name.
  await tablet.page.evaluate(() => (location.hash = "#/count"));
  await tablet.t.tid(`count-session-${name}`).click();
  await tablet.t.expectFocus("count-scan");
  await phone.page.evaluate(() => (location.hash = "#/queue"));
  await phone.t.tid("screen-queue").waitFor();
  await phone.t.wedge(name);
  await phone.t.tid("count-session").waitFor();
  await phone.t.expectFocus("count-scan");

  await tablet.t.wedge(l1.barcodes[0]);
  await counted(tablet, l1.sku, 1);
  await tablet.t.wedge(l1.barcodes[0]);
  await counted(tablet, l1.sku, 2);
  await receive(l1.sku, 3); // after its count: kept, no variance
  await phone.t.tid("count-qty").fill(String(l2.on_hand));
  await phone.t.tid("count-scan").focus();
  await phone.t.wedge(l2.barcodes[0]);
  await counted(phone, l2.sku, l2.on_hand);
  await counted(tablet, l2.sku, l2.on_hand); // pushed to the other terminal
  await receive(l3.sku, 2); // before its count: part of what the shelf should hold
  await tablet.t.tid("count-qty").fill(String(l3.on_hand + 2));
  await tablet.t.tid("count-scan").focus();
  await tablet.t.wedge(l3.barcodes[0]);
  await counted(tablet, l3.sku, l3.on_hand + 2);
  await tablet.t.tid(`count-none-${l4.sku}`).click();
  await counted(tablet, l4.sku, 0);
  await tablet.t.wedge("0000000000000");
  await tablet.t.expectErrorBanner("unknown_barcode", "an unknown barcode");
  for (const a of [tablet, phone]) {
    check((await a.page.locator('[data-testid^="count-variance-"]').count()) === 0, "an associate sees variances while counting");
    check(!/expected|on hand/i.test(await a.t.tid("count-session").innerText()), "the counting view shows the books' figures");
  }
  await sleep(300); // the banner's pop animation scales it past the edge for 0.25 s
  await checkNoOverflow(tablet.page, "tablet count (counting)");
  await checkNoOverflow(phone.page, "phone count (counting)");
  await tablet.shot("40-count-tablet");
  await phone.shot("41-count-phone");
  log(`  ${name}: ${planned.lines.length} lines counted by the tablet and the phone`);

  await tablet.t.tid("count-submit").click();
  await tablet.page.locator('[data-testid="count-state"][data-state="review"]').waitFor();
  check((await tablet.page.locator('[data-testid^="count-variance-"]').count()) === 0, "an associate sees variances in review");
  check(!(await tablet.t.tid("count-approve").isVisible()), "an associate is offered to approve");

  // The manager's review, at the tablet's and the phone's width too.
  await managerPage.locator('[data-testid="count-state"][data-state="review"]').waitFor();
  const text = async (id) => (await manager.tid(id).innerText()).trim();
  await manager.tid(`count-variance-${l1.sku}`).waitFor();
  const v1 = 2 - l1.on_hand;
  check((await text(`count-variance-${l1.sku}`)) === (v1 > 0 ? `+${v1}` : String(v1)), `${l1.sku} variance reads "${await text(`count-variance-${l1.sku}`)}", expected ${v1}`);
  check((await text(`count-moved-${l1.sku}`)) === "+3", `${l1.sku} moved after its count reads "${await text(`count-moved-${l1.sku}`)}"`);
  check((await text(`count-variance-${l3.sku}`)) === "0", `${l3.sku} (received before its count) variance reads "${await text(`count-variance-${l3.sku}`)}"`);
  for (const viewport of [TABLET, PHONE]) {
    await managerPage.setViewportSize(viewport);
    await sleep(200);
    await checkNoOverflow(managerPage, `manager's count review at ${viewport.width} px`);
    await manager.shot(`42-count-review-${viewport.width}`);
  }
  await managerPage.setViewportSize({ width: 1280, height: 800 });

  // l4 was found on another shelf: counted again by the tablet.
  await manager.tid(`count-again-${l4.sku}`).check();
  await manager.tid("count-recount").click();
  await managerPage.locator('[data-testid="count-state"][data-state="counting"]').waitFor();
  await tablet.page.locator(`[data-testid="count-line-${l4.sku}"][data-open="true"][data-counted=""]`).waitFor();
  await tablet.t.expectFocus("count-scan");
  if (l4.on_hand > 0) {
    await tablet.t.tid("count-qty").fill(String(l4.on_hand));
    await tablet.t.tid("count-scan").focus();
    await tablet.t.wedge(l4.barcodes[0]);
  } else {
    await tablet.t.tid(`count-none-${l4.sku}`).click();
  }
  await counted(tablet, l4.sku, l4.on_hand);
  await tablet.t.wedge(l1.barcodes[0]);
  await tablet.t.expectErrorBanner("illegal_transition", "a scan of a line not sent back");
  await tablet.t.tid("count-submit").click();
  await managerPage.locator('[data-testid="count-state"][data-state="review"]').waitFor();
  await manager.tid("count-approve").click();
  await manager.tid("dialog-confirm").click();
  await managerPage.locator('[data-testid="count-state"][data-state="approved"]').waitFor();
  await tablet.page.locator('[data-testid="count-state"][data-state="approved"]').waitFor();
  const expected = { [l1.sku]: 2 + 3, [l2.sku]: l2.on_hand, [l3.sku]: l3.on_hand + 2, [l4.sku]: l4.on_hand };
  for (const [sku, n] of Object.entries(expected)) check((await onHand(sku)) === n, `${sku} has ${await onHand(sku)} on hand after approving, expected ${n}`);
  await manager.shot("43-count-approved");
  log(`  approved: ${l1.sku} ${l1.on_hand}→5 (3 received after its count kept), ${l3.sku} unchanged (2 received before its count), ${l4.sku} recounted`);
  await tablet.page.evaluate(() => (location.hash = "#/queue"));
  await managerPage.evaluate(() => (location.hash = "#/queue"));
}

// R: a delivery the demo cloud announced (ASN-DEMO-1), received on the tablet by scanning:
// found by its label, items in one by one and several at once, a damaged unit, an item the
// delivery does not list, an unknown code refused; closed with what was short reported.
async function scenarioReceiving(tablet) {
  log("R: receiving a delivery by scanning");
  const { page, t } = tablet;
  await page.evaluate(() => (location.hash = "#/receiving"));
  await t.tid("shipment-row-ASN-DEMO-1").waitFor();
  await checkNoOverflow(page, "tablet receiving list");
  await t.expectFocus("receiving-scan");
  await t.wedge("DEMO-ASN-1");
  await t.tid("shipment-line-SKU-10001").waitFor();
  const received = async (sku, n, what) => {
    try {
      await page.locator(`[data-testid="shipment-received-${sku}"]`, { hasText: new RegExp(`^${n}$`) }).waitFor({ timeout: STEP_TIMEOUT_MS });
    } catch {
      throw new TestFailure(`${what}: ${sku} does not show ${n} received; banner: ${await t.alertText()}`);
    }
  };
  await t.wedge("2010000000014");
  await received("SKU-10001", 1, "one scan");
  await t.wedge("2010000000014");
  await received("SKU-10001", 2, "a second scan");
  await t.tid("receiving-qty").fill("4");
  await t.tid("receiving-scan").focus();
  await t.wedge("2010000000014");
  await received("SKU-10001", 6, "4 at once");
  await t.tid("receiving-damaged").check();
  await t.tid("receiving-scan").focus();
  await t.wedge("2010000000021");
  await received("SKU-10002", 1, "a damaged unit");
  check(!(await t.tid("receiving-damaged").isChecked()), "the damaged tick stays on after its scan");
  await t.tid("receiving-scan").focus();
  await t.wedge("2010000000038"); // SKU-10003: not on the delivery
  await received("SKU-10003", 1, "an item not on the delivery");
  const status = await t.tid("shipment-status-SKU-10003").innerText();
  check(/not on the delivery/i.test(status), `the unexpected item's status reads "${status}"`);
  await t.tid("receiving-scan").focus();
  await t.wedge("9999999999994");
  await t.expectErrorBanner("unknown_barcode", "an unknown code at receiving");
  await sleep(400); // the banner's pop animation scales it up for a moment
  await checkNoOverflow(page, "tablet delivery being received");
  await t.shot("30-receiving");
  await t.tid("receiving-close").click();
  await t.tid("dialog-confirm").click();
  await page.locator('[data-testid="receiving-totals"]', { hasText: /^Closed/ }).waitFor({ timeout: STEP_TIMEOUT_MS });
  const s = await t.api("/api/v1/shipments/ASN-DEMO-1");
  check(s.state === "closed", `the delivery is ${s.state} after closing`);
  const line = (sku) => s.lines.find((l) => l.sku === sku) || {};
  check(line("SKU-10001").discrepancy === "none" && line("SKU-10002").damaged === 1 && line("SKU-10003").discrepancy === "unexpected" && line("SKU-10010").discrepancy === "short",
    `closed delivery's lines: ${JSON.stringify(s.lines)}`);
  log(`  ASN-DEMO-1: ${s.totals.received} of ${s.totals.expected} received, ${s.totals.damaged} damaged; ${s.discrepancies.map((d) => `${d.kind} ${d.sku}`).join(", ")}`);
}

// A manager pauses taking orders ("short staffed") from the queue and resumes.
async function scenarioCapacity(page, t) {
  log("P: a manager pauses taking orders, then resumes");
  await page.evaluate(() => (location.hash = "#/queue"));
  await t.tid("capacity-toggle").click();
  await t.tid("dialog-reason").selectOption("short_staffed");
  await t.tid("dialog-confirm").click();
  await page.locator('[data-testid="capacity-text"]', { hasText: "paused, short staffed" }).waitFor({ timeout: STEP_TIMEOUT_MS });
  const paused = await t.api("/api/v1/capacity");
  check(paused.paused && paused.flag_now === "paused", `capacity after pausing: ${JSON.stringify(paused)}`);
  await t.shot("31-paused");
  await t.tid("capacity-toggle").click();
  await page.locator('[data-testid="capacity-toggle"]', { hasText: "Pause taking orders" }).waitFor({ timeout: STEP_TIMEOUT_MS });
  check((await t.api("/api/v1/capacity")).taking_orders, "the store does not take orders after resuming");
  log("  paused (short staffed) and resumed; the router was told both");
}

// M: the manager's desk at a tablet's width — a pairing code (digits and QR) pairs a new
// tablet that opens the QR code's address, the list shows it, a revoke sends it back to pairing at once; damaged
// stock adjusted by scanning (an unknown code refused, two scans of one item, reviewed,
// posted as one batch); the audit trail filtered by action, by who and to refused changes;
// sync health; the configuration in effect filtered. No screen wider than the tablet or a
// phone.
async function scenarioManagerDesk(env, page, t) {
  log("M: the manager's desk");
  await page.setViewportSize(TABLET);
  const part = async (name) => {
    await page.evaluate((n) => (location.hash = `#/manage/${n}`), name);
    await t.tid(`manage-${name}`).waitFor();
  };
  const fits = async (name) => {
    for (const viewport of [TABLET, PHONE]) {
      await page.setViewportSize(viewport);
      await sleep(200);
      await checkNoOverflow(page, `manager's ${name} at ${viewport.width} px`);
      await t.shot(`45-manage-${name}-${viewport.width}`);
    }
    await page.setViewportSize(TABLET);
  };

  // Terminals: a code for a new associate tablet, typed on it; revoked, it must pair again.
  await part("terminals");
  await t.tid("pairing-role").selectOption("associate");
  await t.tid("pairing-name").fill("Tablet M");
  await t.tid("pairing-create").click();
  await t.tid("pairing-code-value").waitFor();
  const code = await t.tid("pairing-code-value").innerText();
  check(/^\d{3}-\d{3}-\d{3}$/.test(code), `the pairing code shown is "${code}"`);
  const size = await t.tid("pairing-qr-image").evaluate((img) => img.complete && img.naturalWidth);
  check(size > 0, "the pairing QR code did not render");
  const context = await env.browser.newContext({ viewport: TABLET });
  env.cleanup(() => context.close());
  const tablet = await context.newPage();
  env.watch(tablet);
  tablet.setDefaultTimeout(STEP_TIMEOUT_MS);
  const tt = makeHelpers(tablet, env.base, env.artifacts);
  // What the QR code holds: the page, with the code to pair with at once.
  await tablet.goto(`${env.base}/#/pair/${code}`);
  await tt.tid("screen-queue").waitFor();
  check(await tt.tid("nav-manage").isHidden(), "an associate's terminal offers the manager's desk");
  const me = await tt.api("/api/v1/session");
  await t.tid("terminals-all").check(); // the list reloads, with the new tablet in it
  const row = page.locator(`[data-testid="terminal-${me.id}"]`);
  await row.waitFor();
  check(/Tablet M/.test(await row.innerText()) && /Associate/.test(await row.innerText()), `the new terminal's row: ${await row.innerText()}`);
  await fits("terminals");
  await t.tid(`terminal-revoke-${me.id}`).click();
  await t.tid("dialog-confirm").click();
  await page.locator(`[data-testid="terminal-${me.id}"].terminal-revoked`).waitFor();
  // The tablet's next request is refused: back to pairing (its live link was closed).
  await tablet.evaluate(() => (location.hash = "#/stock"));
  await tt.tid("screen-pair").waitFor({ timeout: 30_000 });
  log(`  paired ${me.id} by the QR code's address for ${code}, revoked: the tablet is back at pairing`);

  // Stock adjustment by scanning: damaged units become unsellable.
  const { items } = await t.api("/api/v1/inventory?q=SKU-102");
  const item = items.find((i) => i.available >= 4 && i.barcodes.length > 0);
  check(item, "no SKU-102* item with 4 available to damage");
  await part("adjust");
  await t.tid("adjust-reason").selectOption("damaged");
  check(/unsellable/.test(await t.tid("adjust-effect").innerText()), "the damaged reason does not say what it does");
  await t.expectFocus("adjust-scan");
  await t.wedge("0000000000000");
  await t.expectErrorBanner("unknown_barcode", "an unknown code on the adjustment screen");
  check((await page.locator('[data-testid^="adjust-line-"]').count()) === 0, "an unknown code made an adjustment line");
  await t.tid("adjust-scan").focus();
  await t.wedge(item.barcodes[0]);
  await t.tid(`adjust-line-${item.sku}`).waitFor();
  await t.wedge(item.barcodes[0]);
  await page.locator(`[data-testid="adjust-units-${item.sku}"]`, { hasText: "2" }).waitFor();
  await fits("adjust");
  await t.tid("adjust-post").click();
  check(/Post 2 units of 1 item as damaged/.test(await t.tid("dialog-title").innerText()), "the review does not say what is posted");
  await t.tid("dialog-confirm").click();
  await page.locator('[data-testid="adjust-result"]', { hasText: "Posted as damaged" }).waitFor();
  const after = await t.api(`/api/v1/inventory/${item.sku}`);
  check(after.unsellable === item.unsellable + 2, `${item.sku} unsellable ${item.unsellable} → ${after.unsellable}, expected +2`);
  log(`  2 × ${item.sku} posted as damaged: unsellable ${item.unsellable} → ${after.unsellable}`);

  // Audit: by action, by who, refused only.
  await part("audit");
  // The rows on screen answer a query: wait for this one's before reading them.
  const answered = (part) => page.locator(`[data-testid="audit-body"][data-query*="${part}"]`).waitFor();
  await t.tid("audit-action").fill("adjustment-batches");
  await t.tid("audit-search").click();
  await answered("action=adjustment-batches");
  await page.locator('[data-testid="audit-row-0"]', { hasText: "posted a stock adjustment" }).waitFor();
  check((await page.locator('[data-testid^="audit-row-"]').count()) === 1, "the action filter shows other changes");
  await t.tid("audit-action").fill("");
  await t.tid("audit-actor").selectOption(`terminal:${me.id}`);
  await t.tid("audit-search").click();
  await answered(`actor=terminal%3A${me.id}`);
  await page.locator('[data-testid="audit-row-0"]', { hasText: "paired this terminal" }).waitFor();
  await t.tid("audit-actor").selectOption("");
  await t.tid("audit-refused").check();
  await t.tid("audit-search").click();
  await answered("refused=1");
  await page.locator('[data-testid="audit-row-0"]').waitFor();
  const statuses = await page.$$eval('[data-testid^="audit-row-"]', (rows) => rows.map((r) => Number(r.dataset.status)));
  check(statuses.every((st) => st >= 400), `refused only shows statuses ${statuses}`);
  await fits("audit");
  log(`  audit: the batch by action, the tablet's pairing by who, ${statuses.length} refused changes`);

  // Sync health and configuration.
  await part("sync");
  await page.locator('[data-testid="sync-link"]', { hasText: "Last contact" }).waitFor();
  check(/enrolled/.test(await t.tid("sync-link").innerText()), "sync health does not show the demo cloud's link");
  await fits("sync");
  await part("config");
  await t.tid("config-filter").fill("capacity.orders");
  await t.tid("config-capacity.orders_per_day").waitFor();
  const shown = await page.$$eval('[data-testid="config-effective"] tr', (rows) => rows.map((r) => r.dataset.testid));
  check(shown.length >= 1 && shown.every((id) => id.startsWith("config-capacity.orders")), `the config filter shows ${shown}`);
  await fits("config");

  // The demo cloud's transfer to another store: marked as one, with where it goes.
  const { orders: transfers } = await t.api("/api/v1/orders?kind=transfer");
  check(transfers.some((o) => o.id === "TRF-DEMO-1"), "the demo's transfer TRF-DEMO-1 is not in the queue");
  await page.evaluate(() => (location.hash = "#/order/TRF-DEMO-1"));
  await page.locator('[data-testid="order-method"]', { hasText: "Transfer" }).waitFor();
  const to = await t.tid("order-customer").innerText();
  check(/Transfer to store STORE-DEMO-2/.test(to), `the transfer's order screen says "${to}"`);
  await page.setViewportSize({ width: 1280, height: 800 });
  log("  sync health and configuration shown; every part fits 820 and 390 px");
}

// J: fulfild goes away: the queue keeps what it showed, marked stale, actions wait; it comes
// back by itself when fulfild does.
async function scenarioOffline(env, tablet) {
  log("J: fulfild down and back");
  await tablet.page.evaluate(() => (location.hash = "#/queue"));
  await tablet.t.tid("screen-queue").waitFor();
  await tablet.page.locator('[data-testid^="queue-order-"]').first().waitFor();
  const rows = await tablet.page.locator('[data-testid^="queue-order-"]').count();
  await env.stopMain();
  const stale = tablet.t.tid("stale");
  await stale.waitFor({ timeout: 30_000 });
  const shown = await tablet.page.locator('[data-testid^="queue-order-"]').count();
  check(shown === rows, `the queue showed ${rows} orders and ${shown} once fulfild was down`);
  const todo = Number(await tablet.t.tid("queue-chip-todo").getAttribute("data-count"));
  check(todo > 0, "the to-do count went to 0 with fulfild down");
  await tablet.shot("29-offline");
  log(`  down: ${shown} orders still shown, marked stale: "${await stale.innerText()}"`);
  await env.restartMain();
  try {
    await tablet.page.waitForFunction(() => document.querySelector('[data-testid="stale"]').hidden, null, { timeout: 30_000 });
  } catch {
    throw new TestFailure("the stale banner stayed after fulfild came back");
  }
  await tablet.page.locator('[data-testid^="queue-order-"]').first().waitFor();
  log("  back: the page reconnected by itself");
}

// ---------------------------------------------------------------------------------------
// E: the desk's hardware scanner
// ---------------------------------------------------------------------------------------

// A network scanner sled as fulfild sees one: a TCP server it connects to, sending one read
// per CR LF-terminated line.
async function startSled() {
  const sockets = new Set();
  let onConnect = null;
  const connected = new Promise((resolve) => (onConnect = resolve));
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    onConnect();
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return {
    port: server.address().port,
    connected,
    // A read goes to every connection (fulfild keeps one).
    send(code) {
      check(sockets.size > 0, `fulfild is not connected to the scanner sled; cannot send ${code}`);
      for (const s of sockets) s.write(`${code}\r\n`);
      return Promise.resolve();
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve())); // also after an earlier close
    },
  };
}

async function send(base, method, pathname, body, token) {
  const headers = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const r = await fetch(base + pathname, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await r.json();
  check(r.ok, `${method} ${pathname} answered ${r.status}: ${JSON.stringify(data)}`);
  return data;
}
const postJson = (base, pathname, body, token) => send(base, "POST", pathname, body, token);

// The desk's session as GET /api/v1/stations reports it (null: none).
async function deskSession(t, station) {
  const { stations } = await t.api("/api/v1/stations");
  const s = stations.find((x) => x.station === station);
  return s ? s.session : null;
}

async function waitFor(what, fn, timeout = STEP_TIMEOUT_MS) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await fn();
    if (value) return value;
    check(Date.now() < deadline, `${what} within ${timeout / 1000} s`);
    await sleep(200);
  }
}

// `env` gives the binary, the browser, where artifacts go and how to register cleanups.
async function scenarioDeskScanner(env) {
  log("E: the desk's hardware scanner");
  const STATION = "desk-1";
  const SCANNER = "desk1-sled";
  const sled = await startSled();
  env.cleanup(() => sled.close());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fulfild-ui-test-desk-"));
  env.cleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  const configFile = path.join(dir, "fulfild.json");
  // A short grace for a desk session whose terminal went away (30 s by default), yet long
  // enough for the manager's session below (no WebSocket) to outlive its check.
  const GRACE_S = 8;
  fs.writeFileSync(configFile, JSON.stringify({
    api: { desk_session_grace_s: GRACE_S },
    scanners: [{ id: SCANNER, kind: "network", station: STATION, host: "127.0.0.1", port: sled.port }],
  }, null, 2));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const child = startFulfild(env.binary, port, path.join(dir, "state"), path.join(env.artifacts, "fulfild-desk.log"), ["--config", configFile]);
  env.spawned(child);
  env.cleanup(() => stopFulfild(child));
  await waitHealthy(base, child);
  log(`  second fulfild on ${base}, scanner sled on 127.0.0.1:${sled.port}`);

  // A manager (the demo code, paired over the API) issues an associate code for desk-1.
  const { code: demoCode } = await postJson(base, "/api/v1/demo/pairing-code", {});
  const { token: managerToken } = await postJson(base, "/api/v1/pair", { code: demoCode });
  const { code } = await postJson(base, "/api/v1/pairing-codes", { role: "associate", name: "Desk 1 tablet", station: STATION }, managerToken);

  const context = await env.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  env.watch(page);
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  const t = makeHelpers(page, base, env.artifacts);
  await page.goto(`${base}/`);
  await t.tid("screen-pair").waitFor();
  await t.tid("pair-code-input").fill(code);
  await t.tid("pair-submit").click();
  await t.tid("screen-queue").waitFor();
  const who = await t.tid("terminal-name").innerText();
  check(who.includes(STATION), `terminal paired to ${STATION} shows "${who}"`);
  log(`  paired: ${who}`);
  await Promise.race([sled.connected, sleep(STEP_TIMEOUT_MS).then(() => {
    throw new TestFailure(`fulfild did not connect to the scanner sled within ${STEP_TIMEOUT_MS / 1000} s; see fulfild-desk.log`);
  })]);

  // Picking opens the desk's session on the order.
  const id = await findRouted(t, "ship");
  await t.openFromQueue(id);
  await t.action("accept", "accepted");
  await t.action("start_picking", "picking");
  try {
    await page.locator('[data-testid="desk-indicator"][data-state="on"]').waitFor();
  } catch {
    throw new TestFailure(`no "desk scanner picking" indicator on the pick card (shows "${await t.tid("desk-indicator").textContent({ timeout: 1000 }).catch(() => "no such element: an older UI?")}"); banner: ${await t.alertText()}`);
  }
  const opened = await deskSession(t, STATION);
  check(opened && opened.order_id === id, `desk-1's session is ${JSON.stringify(opened)}, expected order ${id}`);
  log(`  start picking → ${STATION}'s session on ${id}`);

  // A wrong item from the sled: the same red banner as a typed scan, nothing picked.
  const order = await t.api(`/api/v1/orders/${id}`);
  const onOrder = new Set(order.lines.map((l) => l.sku));
  const { items } = await t.api("/api/v1/inventory?q=SKU-1");
  const stranger = items.find((i) => !onOrder.has(i.sku) && i.barcodes.length > 0);
  check(stranger, "found no catalog item off this order to scan");
  await sled.send(stranger.barcodes[0]);
  const text = await t.expectErrorBanner("wrong_item", `the sled read ${stranger.barcodes[0]}`);
  check(/wrong item/i.test(text), `wrong-item banner does not carry the server's message: "${text}"`);
  check((await t.pickedTotal()) === 0, "a wrong-item sled read ticked a line");
  check(/✕/.test(await t.tid("scan-last").innerText()), "the last-scan line does not show the refused read");
  await t.shot("08-desk-wrong-item");
  log(`  sled: wrong item ${stranger.sku} refused`);

  // Every unit read by the sled; each must tick in the page.
  await t.pickAll(order, (c) => sled.send(c));
  check(!(await t.tid("alert").isVisible()), `banner still shown after good sled reads: ${await t.alertText()}`);
  const picked = await t.api(`/api/v1/orders/${id}`);
  check(picked.lines.every((l) => l.picked === l.quantity), "the server did not pick every unit read by the sled");
  await t.shot("09-desk-picked");

  // Picking done, by the sled reading the COMPLETE PICKING action barcode: the agent passes
  // it to the desk's terminal, which presses the button; the terminal ends its session.
  await sled.send("*ACT-COMPLETE");
  await t.expectState("picked");
  check(!(await t.tid("alert").isVisible()), `banner after the COMPLETE action barcode: ${await t.alertText()}`);
  log("  sled: *ACT-COMPLETE → picked");
  await waitFor("desk-1's session did not end after complete picking", async () => (await deskSession(t, STATION)) === null);
  log("  complete picking → session ended");

  // Leaving an order being picked ends the session too ...
  const id2 = await findRouted(t, "ship");
  await t.openFromQueue(id2);
  await t.action("accept", "accepted");
  // A wedge scan of the START PICKING action barcode presses Start picking (not a pick).
  await t.expectFocus("scan-input");
  await t.wedge("*ACT-START");
  await t.expectState("picking");
  check(!(await t.tid("alert").isVisible()), `banner after the START action barcode: ${await t.alertText()}`);
  check((await t.pickedTotal()) === 0, "the START action barcode picked something");
  log(`  wedge: *ACT-START → ${id2} picking`);
  await waitFor(`desk-1's session did not open on ${id2}`, async () => (await deskSession(t, STATION))?.order_id === id2);
  await t.tid("nav-queue").click();
  await waitFor("desk-1's session did not end when the terminal left the order", async () => (await deskSession(t, STATION)) === null);
  log(`  left ${id2} while picking → session ended`);
  // An action barcode that does nothing on the queue screen is refused loudly, in words,
  // and changes nothing: still the queue, the order still picking.
  await t.tid("screen-queue").waitFor();
  await t.wedge("*ACT-PACK");
  const refusal = await t.expectErrorBanner("action_refused", "the PACK action barcode on the queue");
  check(/PACK/.test(refusal) && /no order is open/.test(refusal), `the refusal does not say what and why: "${refusal}"`);
  check(await t.tid("screen-queue").isVisible(), "the refused action barcode left the queue screen");
  check((await t.tid("find-input").inputValue()) === "", "the refused action barcode was left in the find field");
  check((await t.api(`/api/v1/orders/${id2}`)).state === "picking", "the refused action barcode changed the order");
  await t.shot("10a-action-refused");
  log("  queue: *ACT-PACK refused loudly, nothing changed");
  // ... but only the terminal's own: one another terminal (the manager) opened stays.
  await t.openFromQueue(id2);
  await waitFor(`desk-1's session did not reopen on ${id2}`, async () => (await deskSession(t, STATION))?.order_id === id2);
  // The order is the tablet's: the manager releases it first, then takes it with the desk.
  await postJson(base, `/api/v1/orders/${id2}/release-claim`, {}, managerToken);
  await send(base, "PUT", `/api/v1/stations/${STATION}/session`, { order_id: id2 }, managerToken);
  await t.tid("nav-queue").click();
  await t.tid("screen-queue").waitFor();
  await sleep(1000); // time for a wrong DELETE to land
  const kept = await deskSession(t, STATION);
  const me = (await t.api("/api/v1/session")).id;
  check(kept && kept.order_id === id2 && kept.opened_by !== `terminal:${me}`,
    `leaving ended or took over a session another terminal opened: ${JSON.stringify(kept)}`);
  await send(base, "DELETE", `/api/v1/stations/${STATION}/session`, undefined, managerToken);
  log("  a session another terminal opened is left alone");

  // The devices screen: the scanner connected, with its reads counted; the station listed.
  await t.tid("nav-devices").click();
  const scanner = page.locator(`[data-testid="scanner-${SCANNER}"][data-state="connected"]`);
  try {
    await scanner.waitFor();
  } catch {
    throw new TestFailure(`devices screen does not show ${SCANNER} connected: "${await t.tid("devices-scanners").innerText()}"`);
  }
  const label = await t.tid(`scanner-state-${SCANNER}`).innerText();
  check(/connected/i.test(label), `scanner state label reads "${label}"`);
  await t.tid(`station-${STATION}`).waitFor();
  const reads = await scanner.innerText();
  log(`  devices: ${reads.replace(/\s+/g, " ").trim()}`);

  // No session now: a read is shown, not picked.
  const line = order.pick_walk[0];
  await sled.send(line.barcodes[0]);
  await page.locator('[data-testid="toast"]', { hasText: "open an order to pick into it" }).waitFor();
  await t.shot("10-devices");
  // ... and on the stock screen it looks the item up.
  await t.tid("nav-stock").click();
  await t.tid("screen-stock").waitFor();
  await sled.send(line.barcodes[0]);
  await t.tid(`stock-row-${line.sku}`).waitFor();
  check((await t.tid("stock-query").inputValue()) === line.barcodes[0], "the sled read did not fill the stock query");
  const after = await t.api(`/api/v1/orders/${id}`);
  const counts = (o) => JSON.stringify(o.lines.map((l) => l.picked));
  check(counts(after) === counts(picked), "a read without a session picked something");
  log(`  no session: read shown as a toast, stock lookup of ${line.sku}`);

  // The sled goes away: the open devices screen follows the agent's push, without a reload.
  await t.tid("nav-devices").click();
  await scanner.waitFor();
  await sled.close();
  try {
    await page.locator(`[data-testid="scanner-${SCANNER}"]:not([data-state="connected"])`).waitFor();
  } catch {
    throw new TestFailure(`devices screen still shows ${SCANNER} connected after the sled went away`);
  }
  await t.shot("11-devices-disconnected");
  log(`  sled gone: devices screen shows ${SCANNER} ${await t.tid(`scanner-state-${SCANNER}`).innerText()}`);

  // The tablet is closed while picking: its desk session ends a grace later, not never.
  const id3 = await findRouted(t, "ship");
  await t.openFromQueue(id3);
  await t.action("accept", "accepted");
  await t.action("start_picking", "picking");
  await waitFor(`desk-1's session did not open on ${id3}`, async () => (await deskSession(t, STATION))?.order_id === id3);
  await context.close();
  const managerSession = async () => {
    const { stations } = await send(base, "GET", "/api/v1/stations", undefined, managerToken);
    return (stations.find((x) => x.station === STATION) || {}).session || null;
  };
  await waitFor(`desk-1's session on ${id3} did not end ${GRACE_S} s after the tablet was closed`,
    async () => (await managerSession()) === null, GRACE_S * 1000 + STEP_TIMEOUT_MS);
  const { entries } = await send(base, "GET", "/api/v1/audit?limit=1", undefined, managerToken);
  check(entries[0].actor === "system:desk-sessions" && entries[0].detail === "terminal_disconnected",
    `the session's end is not audited as the terminal's absence: ${JSON.stringify(entries[0])}`);
  log(`  tablet closed while picking ${id3} → session ended after the ${GRACE_S} s grace`);
}

// ---------------------------------------------------------------------------------------
// Main: everything under one deadline, cleanup always
// ---------------------------------------------------------------------------------------

async function main() {
  const [binary, artifactsArg] = process.argv.slice(2);
  if (!binary || !artifactsArg) {
    console.error("usage: node ui_test.mjs /path/to/fulfild /path/to/artifacts");
    return 1;
  }
  check(fs.existsSync(binary), `no fulfild binary at ${binary}`);
  check(fs.existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (apt-get install chromium)`);
  const artifacts = path.resolve(artifactsArg);
  fs.mkdirSync(artifacts, { recursive: true });
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "fulfild-ui-test-"));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const pageErrors = [];
  let child = null;
  let browser = null;
  let page = null;
  let timer = null;
  const cleanups = []; // later scenarios' daemons, sleds and folders, undone last first
  const children = [];

  const stopAll = async () => {
    clearTimeout(timer);
    if (browser) await browser.close().catch(() => {});
    browser = null;
    while (cleanups.length) await cleanups.pop()().catch(() => {});
    await stopFulfild(child);
    fs.rmSync(stateDir, { recursive: true, force: true });
  };
  // Ctrl-C or a CI cancel must not leave a daemon behind.
  for (const sig of ["SIGINT", "SIGTERM"])
    process.once(sig, () => stopAll().finally(() => process.exit(1)));
  process.once("exit", () => {
    for (const c of [child, ...children]) if (c && c.exitCode === null) c.kill("SIGKILL");
  });

  const scenario = async () => {
    log(`fulfild ${binary} on ${base}${process.env.UI_DIR ? ` (UI from ${process.env.UI_DIR})` : ""}`);
    child = startFulfild(binary, port, stateDir, path.join(artifacts, "fulfild.log"));
    const health = await waitHealthy(base, child);
    log(`fulfild ${health.version} healthy (store ${health.store_id})`);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    log(`Chromium ${browser.version()} started`);
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.setDefaultTimeout(STEP_TIMEOUT_MS);
    // Uncaught exceptions and CSP refusals are bugs even when the flow works.
    const watch = (p) => {
      p.on("pageerror", (e) => pageErrors.push(`uncaught: ${e.message}`));
      p.on("console", (m) => {
        if (m.type() === "error" && /Content Security Policy|Refused to/i.test(m.text())) pageErrors.push(`CSP: ${m.text()}`);
      });
    };
    watch(page);
    const t = makeHelpers(page, base, artifacts);
    await pairWithDemoCode(page, t, base);
    const shipped = await scenarioShip(page, t, path.join(stateDir, "labels"));
    await scenarioPickup(page, t);
    await scenarioOtherScreens(page, t, shipped);
    await scenarioManifest(page, t);
    const cleanup = (fn) => cleanups.push(async () => fn());
    const env = {
      binary, artifacts, browser, watch, cleanup, base,
      spawned: (c) => children.push(c),
      stopMain: () => stopFulfild(child),
      restartMain: async () => {
        child = startFulfild(binary, port, stateDir, path.join(artifacts, "fulfild.log"));
        await waitHealthy(base, child);
      },
    };
    const taken = new Set();
    const tablet = await scenarioKeyboardShip(env, t, taken);
    await checkNoOverflow(tablet.page, "tablet order screen after shipping");
    const phone = await scenarioKeyboardPickup(env, t, taken);
    await scenarioUncollected(phone, tablet, t, page);
    await scenarioClaims(env, tablet, t, page, taken);
    await scenarioAlerts(tablet);
    await scenarioWave(env, tablet, t, taken);
    await scenarioReceiving(tablet);
    await scenarioCapacity(page, t);
    await scenarioManagerDesk(env, page, t);
    await scenarioNarrowScreens(phone, "SKU-1", "phone");
    await scenarioNarrowScreens(tablet, "SKU-1", "tablet");
    await scenarioCount(env, tablet, phone, t, page);
    await phone.context.close();
    await scenarioDeskScanner(env);
    await scenarioOffline(env, tablet);
    check(pageErrors.length === 0, `the page logged errors:\n  ${pageErrors.join("\n  ")}`);
  };

  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new TestFailure(`global timeout: not done after ${GLOBAL_TIMEOUT_MS / 1000} s`)), GLOBAL_TIMEOUT_MS);
  });

  try {
    await Promise.race([scenario(), deadline]);
    log(`PASS in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${artifacts}`);
    return 0;
  } catch (e) {
    // Playwright colours its call logs; a CI log wants plain text.
    const why = e instanceof TestFailure ? e.message : String(e.stack || e).replace(/\x1b\[[0-9;]*m/g, "");
    console.error(`\nFAIL: ${why}`);
    if (pageErrors.length) console.error(`page errors:\n  ${pageErrors.join("\n  ")}`);
    if (page) await page.screenshot({ path: path.join(artifacts, "failure.png") }).catch(() => {});
    console.error(`artifacts (screenshots, fulfild.log): ${artifacts}`);
    return 1;
  } finally {
    await stopAll();
  }
}

const code = await main().catch((e) => {
  console.error(`FAIL: ${e.stack || e}`);
  return 1;
});
// Exit now: a scenario abandoned by the global timeout may still hold a timer.
process.exit(code);
