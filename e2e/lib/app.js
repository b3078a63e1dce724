// Starts the real desktop app under tauri-driver (→ WebKitWebDriver → the app's WebKitGTK
// webview) and hands back a WebdriverIO browser for it.
//
// One tauri-driver per test, on free ports, with the test's own environment: tauri-driver
// passes its environment down through WebKitWebDriver to the app it launches, and that is how
// the app gets the test's database (CLINICDESK_DB / CLINICDESK_DB_KEY_FILE, see
// src-tauri/state.rs). Capabilities cannot carry environment variables.
import { spawn } from "node:child_process";
import { createWriteStream, existsSync, mkdirSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { remote } from "webdriverio";
import { APP_BIN, ARTIFACTS, tauriDriverBin } from "./paths.js";

/**
 * A WebDriver session with the app `application` through the tauri-driver on `port`
 * (WebKitWebDriver launches the app while serving the request). WebdriverIO 9 must speak
 * classic WebDriver to WebKitWebDriver; no retries, so a failed start shows at once.
 */
export function openSession(port, application, { timeoutMs = 60_000 } = {}) {
  return remote({
    hostname: "127.0.0.1",
    port,
    logLevel: "error",
    connectionRetryCount: 0,
    connectionRetryTimeout: timeoutMs,
    capabilities: { browserName: "wry", "wdio:enforceWebDriverClassic": true, "tauri:options": { application } },
  });
}

/** A free TCP port on 127.0.0.1 (asked from the kernel, then released). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {net.AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** File-name-safe form of a test name. */
export function slug(name) {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .slice(0, 80);
}

/**
 * The window as a base64 PNG. WebKitGTK with accelerated compositing off (the app's default on
 * Linux, see src-tauri/lib.rs) answers a snapshot at its next display update, and a page at
 * rest has none: a plain takeScreenshot() on a still screen (Today, Waitlist) waited out the
 * WebDriver timeout and saved nothing. So while it is taken, a 1 px element in the top-left
 * corner changes colour every 50 ms, which keeps an update coming.
 * @param {WebdriverIO.Browser} browser
 */
export async function screenshotOf(browser) {
  await browser.execute(() => {
    const dot = Object.assign(document.createElement("div"), { id: "e2e-repaint" });
    dot.setAttribute("aria-hidden", "true");
    Object.assign(dot.style, { position: "fixed", left: "0", top: "0", width: "1px", height: "1px", pointerEvents: "none", zIndex: "2147483647" });
    document.body.append(dot);
    let n = 0;
    // @ts-ignore: a test-only handle on the page
    window.__e2eRepaint = setInterval(() => (dot.style.background = n++ % 2 ? "#fefefe" : "#fdfdfd"), 50);
  });
  try {
    return await browser.takeScreenshot();
  } finally {
    await browser
      .execute(() => {
        // @ts-ignore
        clearInterval(window.__e2eRepaint);
        document.getElementById("e2e-repaint")?.remove();
      })
      .catch(() => {});
  }
}

/**
 * Launch the app on the database in `env` (CLINICDESK_DB, CLINICDESK_DB_KEY_FILE, …).
 * Returns `{ browser, close }`; `close()` saves the screenshot (when `screenshot` is given),
 * ends the session (the app exits with it) and stops tauri-driver and everything it started.
 *
 * @param {{ env: Record<string,string|undefined>, log: string }} opts  env: for the app (an
 *   undefined value removes the variable); log: file for tauri-driver's, WebKitWebDriver's and
 *   the app's output
 */
export async function launchApp({ env, log }) {
  if (!existsSync(APP_BIN)) throw new Error(`${APP_BIN} is missing: run scripts/e2e.sh (it builds the app)`);
  const [port, nativePort] = [await freePort(), await freePort()];
  mkdirSync(path.dirname(log), { recursive: true });
  const out = createWriteStream(log);
  // Its own process group, so close() can stop tauri-driver, WebKitWebDriver and the app
  // together by the group id of this one process we started.
  const fullEnv = Object.fromEntries(Object.entries({ ...process.env, ...env }).filter(([, v]) => v !== undefined));
  const driver = spawn(tauriDriverBin(), ["--port", String(port), "--native-port", String(nativePort)], {
    env: fullEnv,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  driver.stdout.pipe(out);
  driver.stderr.pipe(out);
  let exited = null;
  driver.on("exit", (code, sig) => (exited = `tauri-driver exited (${code ?? sig})`));
  const stopDriver = async () => {
    if (exited) return;
    try {
      process.kill(-driver.pid, "SIGTERM");
    } catch {
      return;
    }
    for (let i = 0; i < 20 && !exited; i++) await sleep(100);
    if (!exited) {
      try {
        process.kill(-driver.pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
  };

  // Ready when both listen: tauri-driver accepts connections before the WebKitWebDriver it
  // starts does, and a session requested in between fails ("Connection refused" in the log).
  const deadline = Date.now() + 20_000;
  while (!((await canConnect(port)) && (await canConnect(nativePort)))) {
    if (exited) throw new Error(`${exited} before listening; see ${log}`);
    if (Date.now() > deadline) {
      await stopDriver();
      throw new Error(`tauri-driver (port ${port}) or WebKitWebDriver (port ${nativePort}) did not listen within 20 s; see ${log}`);
    }
    await sleep(100);
  }

  let browser;
  try {
    browser = await openSession(port, APP_BIN);
  } catch (e) {
    await stopDriver();
    throw new Error(`could not start a session with ${APP_BIN}: ${e.message}; see ${log}`);
  }

  // Page errors from here on land in the test's log (see diagnose()).
  await browser.execute(collectErrors).catch(() => undefined);

  return {
    browser,
    /** @param {string=} screenshot  PNG path */
    async close(screenshot) {
      out.write(`\n[e2e] page: ${await diagnose(browser)}\n`);
      if (screenshot) {
        try {
          mkdirSync(path.dirname(screenshot), { recursive: true });
          writeFileSync(screenshot, Buffer.from(await screenshotOf(browser), "base64"));
        } catch (e) {
          out.write(`\n[e2e] screenshot failed: ${e.message}\n`);
        }
      }
      try {
        await browser.deleteSession();
      } catch (e) {
        out.write(`\n[e2e] deleteSession failed: ${e.message}\n`);
      }
      await stopDriver();
      out.end();
    },
  };
}

/** In the page: keep uncaught errors and rejections in window.__e2eErrors. */
function collectErrors() {
  if (window.__e2eErrors) return;
  window.__e2eErrors = [];
  window.addEventListener("error", (e) => window.__e2eErrors.push(`error: ${e.message} (${e.filename}:${e.lineno})`));
  window.addEventListener("unhandledrejection", (e) => window.__e2eErrors.push(`unhandled rejection: ${e.reason}`));
}

/**
 * What the page looked like at the end, for the log: its URL, the errors collected, and, when
 * nothing rendered, why — an error thrown while the UI's module was evaluated (before any
 * listener could be installed) is found by importing the module again under another URL.
 */
async function diagnose(browser) {
  try {
    return await browser.executeAsync((done) => {
      const info = { url: location.href, errors: window.__e2eErrors ?? [], text: document.body?.innerText.slice(0, 300) ?? "" };
      const script = document.querySelector("script[type=module][src]");
      if (info.text.trim() || !script) return done(JSON.stringify(info));
      import(`${script.src}?e2e-diagnose`).then(
        () => done(JSON.stringify({ ...info, blank: "nothing rendered; the UI module imports without error" })),
        (e) => done(JSON.stringify({ ...info, blank: `nothing rendered; the UI module throws: ${e} ${e?.stack ?? ""}`.slice(0, 800) })),
      );
    });
  } catch (e) {
    return `(not readable: ${e.message.split("\n")[0]})`;
  }
}

export { ARTIFACTS };
