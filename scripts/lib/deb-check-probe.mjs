// The probe of scripts/check-deb.sh: through the WebKitWebDriver running inside the Debian
// root (plain WebDriver over HTTP, no client library), launch the installed app, wait until its
// page shows the first-run setup form or the sign-in form and one frame has been painted after
// it, then save the X screen (Xvfb) as a PNG. Exits 0 when the screen showed, 1 otherwise.
//
//   node scripts/lib/deb-check-probe.mjs <port> <app> <png> <timeout s> <display number>
import { execFileSync } from "node:child_process";

const [port, app, png, timeoutS, display] = process.argv.slice(2);
const base = `http://127.0.0.1:${port}`;
const deadline = Date.now() + Number(timeoutS) * 1000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (m) => console.log(`check-deb: ${m}`);

async function wd(method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    // Never past the deadline (a session the app never connects to would wait minutes).
    signal: AbortSignal.timeout(Math.max(1000, deadline - Date.now())),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json.value ?? json).slice(0, 400)}`);
  return json.value;
}

// What the page shows: the screens before the app are one card with a form (ui/src/App.svelte).
const SCREEN = `
  const form = (name) => document.querySelector('form[aria-label="' + name + '"]');
  const alert = document.querySelector('[role="alert"]');
  return {
    setup: !!form("Set up the clinic"),
    signin: !!form("Sign in"),
    heading: document.querySelector("h1")?.textContent ?? null,
    alert: alert ? alert.textContent : null,
    title: document.title,
    url: location.href,
  };`;

function screenshot() {
  execFileSync("import", ["-display", `:${display}`, "-window", "root", png], { stdio: ["ignore", "pipe", "pipe"] });
  const sd = Number(execFileSync("identify", ["-format", "%[fx:standard_deviation]", png]).toString());
  return sd;
}

let session = null;
let ok = false;
try {
  // The driver inside the root answers once the session's services are up.
  for (;;) {
    try {
      if ((await wd("GET", "/status"))?.ready) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) throw new Error("WebKitWebDriver did not answer (see the log)");
    await sleep(250);
  }
  const t0 = Date.now();
  const created = await wd("POST", "/session", {
    capabilities: { alwaysMatch: { "webkitgtk:browserOptions": { binary: app, args: [] } } },
  });
  session = created.sessionId;
  log(`the app's window is up (WebDriver session) after ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  let seen = null;
  for (;;) {
    try {
      seen = await wd("POST", `/session/${session}/execute/sync`, { script: SCREEN, args: [] });
    } catch (e) {
      // The session is gone when the app has exited (crashed): no point waiting.
      if (/invalid session|fetch failed|ECONNREFUSED/i.test(String(e.message))) throw new Error(`the app is gone: ${e.message}`);
      seen = { error: String(e.message) };
    }
    if (seen.setup || seen.signin) break;
    // The screens that are not the ones wanted are final: say what the app said.
    if (seen.alert && !seen.setup && !seen.signin && seen.heading) {
      await sleep(1000);
      seen = await wd("POST", `/session/${session}/execute/sync`, { script: SCREEN, args: [] });
      if (!seen.setup && !seen.signin) throw new Error(`the app shows an error: ${seen.alert}`);
    }
    if (Date.now() > deadline) throw new Error(`no setup or sign-in screen within ${timeoutS} s; last seen: ${JSON.stringify(seen)}`);
    await sleep(250);
  }
  // One frame painted after the form appeared (the paint instrumentation's definition).
  await wd("POST", `/session/${session}/execute/async`, {
    script: "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => setTimeout(() => done(true), 0));",
    args: [],
  });
  const screen = seen.setup ? "first-run setup" : "sign-in";
  log(`the page shows the ${screen} screen (heading "${seen.heading}", ${seen.url}) ${((Date.now() - t0) / 1000).toFixed(1)} s after launch`);
  const sd = screenshot();
  if (!(sd > 0.02)) throw new Error(`the screenshot is (nearly) one colour (standard deviation ${sd.toFixed(4)})`);
  log(`screenshot saved (pixel standard deviation ${sd.toFixed(3)})`);
  ok = true;
} catch (e) {
  console.error(`check-deb: ${e.message}`);
  try {
    screenshot();
    console.error(`check-deb: the screen at the failure: ${png}`);
  } catch {
    /* no display */
  }
} finally {
  if (session) await wd("DELETE", `/session/${session}`).catch(() => {});
}
process.exit(ok ? 0 : 1);
