// The pieces of the desktop benchmarks (bench/ui.mjs) and of their profile (bench/profile-ui.mjs):
// the app under tauri-driver, its processes and their memory, and the functions that run in the
// page (each is serialised by WebDriver, so each stands alone).
import { spawn } from "node:child_process";
import { readFileSync, readdirSync, readlinkSync, realpathSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { freePort, openSession } from "../e2e/lib/app.js";
import { tauriDriverBin } from "../e2e/lib/paths.js";

const env = process.env;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- processes and memory



function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    s.once("connect", () => (s.destroy(), resolve(true)));
    s.once("error", () => resolve(false));
  });
}

/** pid → { ppid, name } of every process now. */
export function processTable() {
  const t = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      const name = stat.slice(stat.indexOf("(") + 1, close);
      const fields = stat.slice(close + 2).split(" ");
      t.set(Number(d), { ppid: Number(fields[1]), name, state: fields[0], startTicks: Number(fields[19]) });
    } catch {
      /* gone */
    }
  }
  return t;
}

export function descendants(root, table = processTable()) {
  const out = [];
  const todo = [root];
  while (todo.length) {
    const p = todo.pop();
    for (const [pid, info] of table) if (info.ppid === p) (out.push(pid), todo.push(pid));
  }
  return out;
}

const exeOf = (pid) => {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return null;
  }
};

/** The app's pid among the descendants of tauri-driver (its binary is APP). */
function findApp(driverPid, APP) {
  const real = realpathSync(APP);
  const table = processTable();
  return descendants(driverPid, table).find((pid) => table.get(pid)?.state !== "Z" && exeOf(pid) === real) ?? null;
}

const CLK_TCK = 100; // USER_HZ on Linux
/** Epoch ms of the boot, to 10 ms (/proc/stat's btime is in whole seconds). */
const bootMs = () => Date.now() - Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]) * 1000;

function kb(file, field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(file, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * Where a process's resident memory is, from /proc/<pid>/smaps: anonymous (heaps: JS, DOM,
 * Rust, SQLite's page cache), code and libraries, shared memory and graphics buffers, other
 * mapped files (fonts, ICU data, …). Values in MB: { rss: {…}, pss: {…}, engineRss }, where
 * engineRss is the resident part of the web engine's own libraries (WebKitGTK, JavaScriptCore,
 * and Mesa's GL driver with the LLVM it links, which WebKitGTK loads for its EGL display) —
 * memory no app change can avoid, counted once per process by an RSS sum.
 */
export function memoryDetail(pid) {
  const rss = {};
  const pss = {};
  let kind = "other";
  let engine = false;
  let engineRss = 0;
  let text = "";
  try {
    text = readFileSync(`/proc/${pid}/smaps`, "utf8");
  } catch {
    return { rss, pss, engineRss };
  }
  for (const line of text.split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[1];
      kind =
        name === "" || name.startsWith("[heap]") || name.startsWith("[stack") || name.startsWith("[anon")
          ? "anonymous"
          : /\.so(\.|$)|\/clinicdesk|\/WebKit|\/libexec\//.test(name)
            ? "code and libraries"
            : /^\/(memfd:|dev\/(dri|shm)|SYSV)/.test(name)
              ? "shared memory and graphics"
              : name.startsWith("[")
                ? "kernel"
                : "other files";
      engine = /\/lib(webkit2gtk|javascriptcoregtk|LLVM|gallium)[^/]*\.so|\/dri\/[^/]+\.so/.test(name);
      continue;
    }
    const m = /^(Rss|Pss):\s+(\d+) kB/.exec(line);
    if (m) {
      const into = m[1] === "Rss" ? rss : pss;
      into[kind] = (into[kind] ?? 0) + Number(m[2]) / 1024;
      if (engine && m[1] === "Rss") engineRss += Number(m[2]) / 1024;
    }
  }
  return { rss, pss, engineRss };
}

/**
 * The memory a process owns itself, from /proc/<pid>/smaps: the private pages (Private_Clean +
 * Private_Dirty, plus any swapped out) of its anonymous mappings — the C heap ([heap]), unnamed
 * mmaps (JavaScriptCore's heap and its JIT code, WebKit's bmalloc/libpas pages, the DOM, render
 * tree and layers, Rust's heap, SQLite's page cache, thread stacks) and named anonymous ones
 * ([anon:…], [stack]). Left out: every file-backed mapping (the code and data of libraries and
 * the binary, fonts, ICU data: the same whatever the app does, and shared between processes),
 * shared memory and graphics buffers (memfd:, /dev/shm, /dev/dri, SYSV, [anon_shmem]: the
 * compositor's surfaces, shared with another process), and anonymous pages shared after a fork
 * (counted by the process that made them). Mesa's software rasteriser (llvmpipe) allocates its
 * textures and JIT-compiled shaders with malloc/mmap, so what it holds is in this figure too and
 * cannot be told apart by mapping; it is bounded by the window's size, not by the data shown.
 * KB: { anonKb, anonRssKb } (anonRssKb: all resident anonymous pages, shared or not).
 */
export function ownedOf(pid) {
  let text = "";
  try {
    text = readFileSync(`/proc/${pid}/smaps`, "utf8");
  } catch {
    return { anonKb: 0, anonRssKb: 0 };
  }
  let anon = false;
  let anonKb = 0;
  let anonRssKb = 0;
  for (const line of text.split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const name = head[1];
      anon = name === "" || name === "[heap]" || name.startsWith("[stack") || (name.startsWith("[anon:") && !name.startsWith("[anon_shmem"));
      continue;
    }
    if (!anon) continue;
    const m = /^(Rss|Private_Clean|Private_Dirty|Swap):\s+(\d+) kB/.exec(line);
    if (!m) continue;
    if (m[1] === "Rss") anonRssKb += Number(m[2]);
    else anonKb += Number(m[2]);
  }
  return { anonKb, anonRssKb };
}

/** The processes whose own memory is the app's: the app process (Rust, GTK, WebKit's UI
 *  process side) and the web process (JavaScript, DOM, layout, painting). WebKitNetworkProcess
 *  and the rest are in the RSS and PSS sums only. */
export const isAppOwned = (name) => name === "clinicdesk-app" || /^WebKitWebProc/.test(name);

/**
 * RSS and PSS of the app and every process under it (WebKitWebProcess, WebKitNetworkProcess, …),
 * and the app-owned figure: the private anonymous memory (ownedOf) of the app and web processes.
 */
export function memoryOf(appPid) {
  const table = processTable();
  const pids = [appPid, ...descendants(appPid, table)].filter((p) => table.get(p)?.state !== "Z");
  const procs = pids.map((pid) => {
    const name = pid === appPid ? "clinicdesk-app" : (table.get(pid)?.name ?? "?");
    return {
      pid,
      name,
      rssKb: kb(`/proc/${pid}/status`, "VmRSS"),
      pssKb: kb(`/proc/${pid}/smaps_rollup`, "Pss"),
      ...(isAppOwned(name) ? ownedOf(pid) : { anonKb: 0, anonRssKb: 0 }),
    };
  });
  const sum = (k) => procs.reduce((s, p) => s + p[k], 0);
  return { rssMb: sum("rssKb") / 1024, pssMb: sum("pssKb") / 1024, ownedMb: sum("anonKb") / 1024, procs };
}

// ---------------------------------------------------------------- the app under tauri-driver

/** Apps still running (closed on the way out, also after an error). */
export const running = new Set();

/**
 * Start the app (`app`, a binary built with the custom protocol) on `db`/`key` under its own
 * tauri-driver and open a WebDriver session (WebKitWebDriver spawns the app). `out`: a stream
 * for tauri-driver's, WebKitWebDriver's and the app's output. `t0` is the epoch ms of the
 * session request; `appStartedAt` the app process's start (10 ms resolution).
 */
export async function launch({ app: APP, db: DB, key: KEY, out, label }) {
  const LOG = out.path ?? "the log";
  const [port, nativePort] = [await freePort(), await freePort()];
  out.write(`\n===== ${label} =====\n`);
  const appEnv = { ...env, CLINICDESK_DB: DB, CLINICDESK_DB_KEY_FILE: KEY };
  delete appEnv.CLINICDESK_DB_KEY;
  delete appEnv.CLINICDESK_USER;
  // Its own process group: stopping it stops WebKitWebDriver and the app with it.
  const driver = spawn(tauriDriverBin(), ["--port", String(port), "--native-port", String(nativePort)], { env: appEnv, stdio: ["ignore", "pipe", "pipe"], detached: true });
  driver.stdout.pipe(out, { end: false });
  driver.stderr.pipe(out, { end: false });
  let exited = null;
  driver.on("exit", (c, s) => (exited = `tauri-driver exited (${c ?? s})`));
  const deadline = Date.now() + 20_000;
  while (!((await canConnect(port)) && (await canConnect(nativePort)))) {
    if (exited) throw new Error(`${exited}; see ${LOG}`);
    if (Date.now() > deadline) throw new Error(`tauri-driver did not listen within 20 s; see ${LOG}`);
    await sleep(50);
  }
  // t0: the session request; WebKitWebDriver spawns the app while serving it.
  const t0 = Date.now();
  let browser, tSession, appPid;
  try {
    browser = await openSession(port, APP, { timeoutMs: 120_000 });
    tSession = Date.now();
    await browser.setTimeout({ script: 600_000 });
    appPid = findApp(driver.pid, APP);
    if (!appPid) throw new Error(`the app (${APP}) is not running under tauri-driver`);
  } catch (e) {
    await browser?.deleteSession().catch(() => undefined);
    try {
      process.kill(-driver.pid, "SIGKILL");
    } catch {
      /* gone */
    }
    throw new Error(`${label}: ${e.message}; see ${LOG}`);
  }
  const st = processTable().get(appPid);
  const appStartedAt = bootMs() + (st.startTicks * 1000) / CLK_TCK; // 10 ms resolution
  const handle = {
    browser,
    appPid,
    t0,
    tSession,
    appStartedAt,
    async close() {
      await browser.deleteSession().catch(() => undefined);
      if (!exited) {
        try {
          process.kill(-driver.pid, "SIGTERM");
        } catch {
          /* gone */
        }
      }
      // The next launch on this database must not find this one still running: the app is a
      // single instance per database and would hand over to it.
      for (let i = 0; i < 100 && (processTable().get(appPid)?.state ?? "Z") !== "Z"; i++) await sleep(100);
      try {
        process.kill(-driver.pid, "SIGKILL");
      } catch {
        /* gone */
      }
      for (let i = 0; i < 50 && !exited; i++) await sleep(100);
      running.delete(handle);
    },
  };
  running.add(handle);
  return handle;
}

// ---------------------------------------------------------------- in-page pieces

/** In the page: epoch ms at which the sign-in form was painted, or null (not yet). */
export function signInPaintedAt() {
  const m = performance.getEntriesByName("cd:signin-painted")[0];
  return m ? { at: performance.timeOrigin + m.startTime, origin: performance.timeOrigin } : null;
}

/** In the page: the control labelled `label` (a <label> wrapping it or naming it with for=). */
export function fieldByLabel(label) {
  for (const l of document.querySelectorAll("label")) {
    if ((l.textContent ?? "").trim().startsWith(label)) return l.control ?? l.querySelector("input,select,textarea");
  }
  return null;
}

/**
 * In the page: define window.__benchScheduleDom(), what the schedule shows now, to check a
 * painted event against the DOM: the date field and the calendar's appointments (its events
 * that are not background ones: shifts and blocks). The hidden list "Appointments in view"
 * follows a frame after the paint (ui/src/screens/Schedule.svelte), so it is counted but not
 * checked. (Installed as a global: the app's CSP forbids building functions from text in the
 * page.)
 */
export function installHelpers() {
  window.__benchScheduleDom = () => {
    const date = document.querySelector('.schedule input[type="date"]')?.value ?? null;
    const listed = document.querySelectorAll('ul[aria-label="Appointments in view"] li button').length;
    const evs = [...document.querySelectorAll(".calendar .ec-event:not(.ec-bg-event)")];
    // Each appointment drawn with its status in words and its patient (a title).
    const complete = evs.filter((e) => e.querySelector(".appt-status")?.textContent.trim() && e.querySelector(".ec-event-title")?.textContent.trim()).length;
    return { date, listed, calendarEvents: evs.length, calendarEventsComplete: complete };
  };
}

/**
 * In the page: click "Sign in" and time it to the schedule painted. The user name and password
 * were typed before (not timed).
 */
export function timeSignIn(done) {
  const scheduleDom = window.__benchScheduleDom;
  const btn = [...document.querySelectorAll("button")].find((b) => b.textContent.trim() === "Sign in");
  if (!btn) return done({ error: "no Sign in button" });
  const onPaint = (e) => {
    if (e.detail.view !== "day") return;
    window.removeEventListener("cd:schedule-painted", onPaint);
    done({ ms: e.detail.at - t0, detail: e.detail, dom: scheduleDom() });
  };
  window.addEventListener("cd:schedule-painted", onPaint);
  const t0 = performance.now();
  btn.click();
}

/**
 * In the page: `dirs` navigations (+1 "Next day", -1 "Previous day"), each timed to its paint,
 * `pauseMs` between a paint and the next click.
 */
export function timeNavigations(dirs, pauseMs, done) {
  const scheduleDom = window.__benchScheduleDom;
  const addDays = (d, n) => new Date(Date.parse(`${d}T00:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
  const button = (name) => [...document.querySelectorAll("button")].find((b) => b.getAttribute("aria-label") === name);
  // Every painted event of this batch (what the page did when one is missing).
  const seen = [];
  const record = (e) => seen.push({ date: e.detail.date, view: e.detail.view, at: Math.round(e.detail.at) });
  window.addEventListener("cd:schedule-painted", record);
  const samples = [];
  let missed = 0;
  const finish = (extra) => {
    window.removeEventListener("cd:schedule-painted", record);
    done({ samples, ...extra });
  };
  const one = (i) => {
    if (i >= dirs.length) return finish({});
    const dir = dirs[i];
    const from = document.querySelector('.schedule input[type="date"]')?.value;
    if (!from) return finish({ error: `no schedule on screen: ${document.body.innerText.slice(0, 200)}` });
    const want = addDays(from, dir);
    const btn = button(dir > 0 ? "Next day" : "Previous day");
    if (!btn) return finish({ error: `no ${dir > 0 ? "Next" : "Previous"} day button` });
    // A navigation not painted within 10 s is a failed sample (the row fails); three in a row
    // stop the batch.
    const timer = setTimeout(() => {
      window.removeEventListener("cd:schedule-painted", onPaint);
      samples.push({ dir, date: want, ms: null, missed: true, ok: false, dom: scheduleDom(), recentPaints: seen.slice(-5), clickedAt: Math.round(t0) });
      if (++missed >= 3) return finish({ error: `3 navigations in a row not painted within 10 s (last: ${want})` });
      setTimeout(() => one(i + 1), pauseMs);
    }, 10_000);
    const onPaint = (e) => {
      if (e.detail.date !== want || e.detail.view !== "day") return;
      clearTimeout(timer);
      missed = 0;
      window.removeEventListener("cd:schedule-painted", onPaint);
      const ms = e.detail.at - t0;
      const dom = scheduleDom();
      const ok = dom.date === want && dom.calendarEvents === e.detail.shown && dom.calendarEventsComplete === e.detail.shown;
      samples.push({ dir, date: want, ms, entries: e.detail.entries, shown: e.detail.shown, ok, dom: ok ? undefined : dom });
      setTimeout(() => one(i + 1), pauseMs);
    };
    window.addEventListener("cd:schedule-painted", onPaint);
    const t0 = performance.now();
    btn.click();
  };
  one(0);
}

/** In the page: record keydown times, the field's text after each, and the typeahead's paints. */
export function installKeyRecorder() {
  if (window.__benchKeys) return;
  const rec = (window.__benchKeys = { keys: [], errors: [] });
  const isPatient = (t) => t instanceof HTMLInputElement && t.getAttribute("role") === "combobox";
  window.addEventListener(
    "keydown",
    (e) => {
      if (!isPatient(e.target)) return;
      const now = performance.now();
      // The event's own timeStamp (when WebKit created it) when it is on performance.now()'s
      // clock; else the handler's time.
      const ts = e.timeStamp > 0 && e.timeStamp <= now && now - e.timeStamp < 1000 ? e.timeStamp : now;
      rec.keys.push({ key: e.key, t0: ts, handlerLagMs: now - ts, value: null, paintAt: null });
    },
    true,
  );
  window.addEventListener(
    "input",
    (e) => {
      if (!isPatient(e.target)) return;
      const k = rec.keys[rec.keys.length - 1];
      if (k && k.value === null) k.value = e.target.value;
    },
    true,
  );
  window.addEventListener("cd:typeahead-painted", (e) => {
    const k = rec.keys[rec.keys.length - 1];
    if (!k || k.paintAt !== null || k.value === null || k.value.trim() !== e.detail.query) return;
    k.paintAt = e.detail.at;
    k.results = e.detail.results;
    const list = document.querySelector('[role="listbox"][aria-label="Matching patients"]');
    const opts = list ? [...list.querySelectorAll('[role="option"]:not([aria-disabled="true"])')] : [];
    k.shown = opts.length;
    k.firstShown = opts[0]?.textContent.trim().slice(0, 60) ?? null;
    k.ok = !!list && (e.detail.results === 0 ? list.textContent.includes("No patient matches") : opts.length === e.detail.results);
  });
}

/** In the page: wait until keystroke #n has its paint (or 5 s), then return it. */
export function waitKey(n, done) {
  const end = performance.now() + 5000;
  const poll = () => {
    const k = window.__benchKeys.keys[n];
    if (k && k.paintAt !== null) return done(k);
    if (performance.now() > end) return done({ ...(k ?? {}), timeout: true });
    setTimeout(poll, 2);
  };
  poll();
}

/** In the page: empty the Patient field as a person would (the typeahead closes; not timed). */
export function clearPatient() {
  const box = document.querySelector('[role="dialog"] input[role="combobox"]');
  box.value = "";
  box.dispatchEvent(new Event("input", { bubbles: true }));
  box.focus();
}

export function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p) => (s.length ? s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)] : NaN); // nearest rank
  return { n: s.length, p50: q(0.5), p95: q(0.95), max: s.length ? s[s.length - 1] : NaN };
}


/** Wait for the sign-in form's paint mark; returns { at, origin } (epoch ms). */
export async function signInForm(browser) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const m = await browser.execute(signInPaintedAt).catch(() => null);
    if (m) return m;
    if (Date.now() > deadline) throw new Error("the sign-in form did not appear within 60 s");
    await sleep(20);
  }
}

/** Type into the field labelled `label` through WebDriver (real key events). */
export async function typeInto(browser, label, text) {
  const el = await browser.execute(fieldByLabel, label);
  if (!el) throw new Error(`no field labelled ${label}`);
  await (await browser.$(el)).setValue(text);
}
