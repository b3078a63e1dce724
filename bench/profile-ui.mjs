#!/usr/bin/env node
// Where the time of the desktop benchmarks goes (bench/ui.mjs measures; this explains): starts
// the app as bench/ui.mjs does, signs in, then breaks a few day navigations and typeahead
// keystrokes into their steps — click → load() starts → IPC answers → state set → DOM updated
// (Svelte and the calendar) → next frame begins → painted —, times the IPC calls behind them
// directly, the calendar's full style and layout, and prints the page's size (DOM nodes,
// calendar columns), the frame rate when idle and where each process's memory is. Same environment as bench/ui.mjs
// (BENCH_APP, BENCH_DB, BENCH_KEY, BENCH_NAV_PAUSE_MS, BENCH_KEY_INTERVAL_MS); PROFILE_NAVS (30),
// PROFILE_KEYS (20), PROFILE_CSS (extra CSS added to the page, to try a style's cost).
//
//   BENCH_DB=… BENCH_KEY=… xvfb-run -a node bench/profile-ui.mjs
import { createWriteStream } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { clearPatient, installHelpers, installKeyRecorder, launch, memoryDetail, memoryOf, running, signInForm, stats, timeNavigations, timeSignIn, typeInto, waitKey } from "./lib.mjs";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const env = process.env;
const APP = path.resolve(env.BENCH_APP ?? path.join(ROOT, "target/bench-ui/clinicdesk-app"));
const NAVS = Number(env.PROFILE_NAVS ?? 30);
const KEYS = Number(env.PROFILE_KEYS ?? 20);
const NAV_PAUSE_MS = Number(env.BENCH_NAV_PAUSE_MS ?? 250);
const KEY_INTERVAL_MS = Number(env.BENCH_KEY_INTERVAL_MS ?? 150);
const out = createWriteStream(env.BENCH_LOG ?? path.join(ROOT, "artifacts/profile-ui.log"));

/**
 * In the page: round trips of the IPC calls the measured screens make, each called directly
 * (window.__TAURI_INTERNALS__.invoke, which the generated bindings call) `n` times on the
 * schedule's clinic and `date`: { command: { p50, max, kb } }. `login` signs the same user in
 * again (its cost is the password hash).
 */
async function timeIpc(date, password, done) {
  const inv = (cmd, args) => window.__TAURI_INTERNALS__.invoke(cmd, args);
  const st = await inv("session_status", {});
  const clinicId = st.user.roles[0].clinic_id;
  const res = {};
  const time = async (cmd, args, n = 10) => {
    const ts = [];
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const r = await inv(cmd, args);
      ts.push(performance.now() - t);
      bytes = JSON.stringify(r ?? null).length;
    }
    ts.sort((x, y) => x - y);
    res[cmd + (args.query && typeof args.query === "string" ? ` "${args.query}"` : "")] = { p50: ts[Math.floor(n / 2)], max: ts[n - 1], kb: bytes / 1024 };
  };
  try {
    await time("session_status", {});
    await time("app_info", {});
    await time("login", { username: st.user.username, password }, 3);
    await time("day_schedule", { clinicId, date, providerId: null });
    await time("list_roster", { clinicId, from: date, to: date, staffId: null });
    await time("list_availability_blocks", { clinicId, from: date, to: date, providerId: null });
    await time("search_patients", { query: "sm", limit: 20 });
    await time("search_patients", { query: "tremb", limit: 20 });
  } catch (e) {
    res.error = String(e?.message ?? JSON.stringify(e));
  }
  done(res);
}

/** In the page: how big the page is. */
function pageSize() {
  const cal = document.querySelector(".calendar");
  return {
    domNodes: document.getElementsByTagName("*").length,
    calendarNodes: cal ? cal.getElementsByTagName("*").length : 0,
    columns: document.querySelectorAll(".calendar .ec-col-head").length,
    events: document.querySelectorAll(".calendar .ec-event").length,
    bgEvents: document.querySelectorAll(".calendar .ec-bg-event").length,
  };
}

/** In the page: a full style and layout of the calendar (hidden, then shown again), 3 times. */
function calendarLayout() {
  const cal = document.querySelector(".calendar");
  const ms = [];
  for (let i = 0; i < 3; i++) {
    cal.style.display = "none";
    void document.body.offsetHeight;
    cal.style.display = "";
    const t = performance.now();
    void document.body.offsetHeight;
    ms.push(performance.now() - t);
  }
  return ms;
}

/** In the page: mean interval of 60 animation frames while idle. */
function frameRate(done) {
  const ts = [];
  const f = (t) => (ts.push(t), ts.length < 61 ? requestAnimationFrame(f) : done((ts[60] - ts[0]) / 60));
  requestAnimationFrame(f);
}

const fmt = (x) => (Number.isFinite(x) ? x.toFixed(1) : "-");
function summary(name, xs) {
  const s = stats(xs);
  console.log(`  ${name.padEnd(34)} p50 ${fmt(s.p50).padStart(7)}  p95 ${fmt(s.p95).padStart(7)}  max ${fmt(s.max).padStart(7)} ms`);
}

try {
  const app = await launch({ app: APP, db: env.BENCH_DB, key: env.BENCH_KEY, out, label: "profile" });
  const { browser, appPid } = app;
  await signInForm(browser);
  await typeInto(browser, "Username", "frontdesk");
  await typeInto(browser, "Password", "clinicdesk-demo");
  await browser.execute(installHelpers);
  // PROFILE_CSS: extra CSS put in the page first (to try a style's cost on paint).
  if (env.PROFILE_CSS) await browser.execute((css) => document.head.append(Object.assign(document.createElement("style"), { textContent: css })), env.PROFILE_CSS);
  const si = await browser.executeAsync(timeSignIn);
  console.log(`sign in → schedule: ${fmt(si.ms)} ms (${si.detail.shown} appointments on ${si.detail.date})`);
  console.log(`page: ${JSON.stringify(await browser.execute(pageSize))}`);
  console.log(`idle frame interval: ${fmt(await browser.executeAsync(frameRate))} ms`);
  const m = memoryOf(appPid);
  console.log(`memory: app-owned ${fmt(m.ownedMb)} MB, RSS ${fmt(m.rssMb)} MB, PSS ${fmt(m.pssMb)} MB: ${m.procs.map((p) => `${p.name}(${p.pid}) owned ${(p.anonKb / 1024).toFixed(0)} RSS ${(p.rssKb / 1024).toFixed(0)} PSS ${(p.pssKb / 1024).toFixed(0)}`).join(", ")}`);

  // IPC round trips, on the next weekday's schedule.
  const next = new Date(Date.parse(`${si.detail.date}T12:00:00Z`) + 86_400_000 * (new Date(`${si.detail.date}T12:00:00Z`).getUTCDay() >= 5 ? 3 : 1)).toISOString().slice(0, 10);
  const ipc = await browser.executeAsync(timeIpc, next, "clinicdesk-demo");
  console.log(`\nIPC round trips, called directly from the page (${next}):`);
  for (const [cmd, t] of Object.entries(ipc)) console.log(typeof t === "string" ? `  ${cmd}: ${t}` : `  ${cmd.padEnd(34)} p50 ${fmt(t.p50).padStart(7)}  max ${fmt(t.max).padStart(7)} ms  ${t.kb.toFixed(1)} KB`);

  // Day navigation: forward a week, back a week, …
  const dirs = Array.from({ length: NAVS }, (_, i) => (Math.floor(i / 7) % 2 === 0 ? 1 : -1));
  // Keep the painted events' details (timeNavigations keeps only the totals).
  await browser.execute(() => {
    window.__paints = [];
    window.addEventListener("cd:schedule-painted", (e) => window.__paints.push(e.detail));
  });
  const nav = await browser.executeAsync(timeNavigations, dirs, NAV_PAUSE_MS);
  if (nav.error) throw new Error(nav.error);
  const paints = await browser.execute(() => window.__paints);
  console.log(`\nday navigation (${nav.samples.length}), click → painted:`);
  // The painted events in order, each navigation's own: the first for its date after the last.
  let pi = 0;
  const rows = nav.samples.map((s) => {
    while (pi < paints.length && paints[pi].date !== s.date) pi++;
    return { total: s.ms, d: paints[pi++] };
  });
  summary("total", rows.map((r) => r.total));
  summary("click → load() starts", rows.map((r) => r.d.startedAt - (r.d.at - r.total)));
  summary("load() → all IPC answers (wall)", rows.map((r) => r.d.dataAt - r.d.startedAt));
  summary("state set → DOM updated (JS)", rows.map((r) => r.d.domAt - r.d.dataAt));
  summary("DOM updated → frame begins", rows.map((r) => r.d.frameAt - r.d.domAt));
  summary("frame → painted (style/layout/paint)", rows.map((r) => r.d.at - r.d.frameAt));
  console.log(`  appointments a day: ${rows.map((r) => r.d.shown).join(" ")}`);
  console.log(`  totals: ${rows.map((r) => r.total.toFixed(0)).join(" ")}`);
  console.log(`page after: ${JSON.stringify(await browser.execute(pageSize))}`);
  console.log(`calendar's full style + layout (forced, in the page): ${(await browser.execute(calendarLayout)).map(fmt).join(", ")} ms`);

  // Typeahead.
  await browser.execute(() => [...document.querySelectorAll("button")].find((b) => b.textContent.trim() === "Book appointment")?.click());
  const box = await browser.$('[role="dialog"] input[role="combobox"]');
  await box.waitForExist({ timeout: 10_000 });
  await box.click();
  await browser.execute(installKeyRecorder);
  await browser.execute(() => {
    window.__tpaints = [];
    window.addEventListener("cd:typeahead-painted", (e) => window.__tpaints.push(e.detail));
  });
  let n = 0;
  let lastKey = 0;
  const words = ["smith", "brown", "tremblay", "wilson", "campbell"];
  for (let w = 0; n < KEYS; w++) {
    await browser.execute(clearPatient);
    for (const ch of words[w % words.length]) {
      await new Promise((r) => setTimeout(r, Math.max(0, lastKey + KEY_INTERVAL_MS - Date.now())));
      lastKey = Date.now();
      await browser.keys(ch);
      await browser.executeAsync(waitKey, n++);
    }
  }
  const keys = await browser.execute(() => window.__benchKeys.keys);
  const tp = await browser.execute(() => window.__tpaints);
  const krows = keys
    .filter((k) => (k.value ?? "").trim().length >= 2 && k.paintAt)
    .map((k) => {
      const d = tp.find((p) => p.at === k.paintAt);
      return { k, d };
    });
  console.log(`\ntypeahead (${krows.length} searching keystrokes), keydown → results painted:`);
  summary("total", krows.map((r) => r.k.paintAt - r.k.t0));
  summary("keydown → handler", krows.map((r) => r.k.handlerLagMs));
  summary("keydown → results arrive (IPC)", krows.map((r) => r.d.dataAt - r.k.t0));
  summary("results → DOM updated", krows.map((r) => r.d.domAt - r.d.dataAt));
  summary("DOM updated → frame begins", krows.map((r) => r.d.frameAt - r.d.domAt));
  summary("frame → painted", krows.map((r) => r.d.at - r.d.frameAt));
  console.log(`page with the dialog: ${JSON.stringify(await browser.execute(pageSize))}`);
  const m2 = memoryOf(appPid);
  console.log(`memory: app-owned ${fmt(m2.ownedMb)} MB (bench/lib.mjs ownedOf), RSS ${fmt(m2.rssMb)} MB, PSS ${fmt(m2.pssMb)} MB`);
  for (const p of m2.procs) {
    const d = memoryDetail(p.pid);
    const show = (o) => Object.entries(o).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(", ");
    console.log(`  ${p.name}(${p.pid}): RSS ${show(d.rss)}; PSS ${show(d.pss)}`);
  }
} finally {
  for (const a of [...running]) await a.close();
  out.end();
}
