// `e2e(name, fn)`: one node:test test with its own temporary database folder, a `cli` to
// prepare data in it, and `launch()` to start the real app on it. Whatever happens, the app's
// window is saved to artifacts/e2e/<test>.png and tauri-driver's/the app's output to
// artifacts/e2e/<test>.log, and the app is stopped.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { test } from "node:test";
import { ARTIFACTS, launchApp, slug } from "./app.js";
import { Cli } from "./clinic.js";

/**
 * @typedef {object} Ctx
 * @property {string} dir   the test's temporary folder
 * @property {string} db    its database file (does not exist until the CLI or the app makes it)
 * @property {string} key   its key file
 * @property {Cli} cli      the clinicdesk CLI on that database
 * @property {(env?: Record<string,string>) => Promise<WebdriverIO.Browser>} launch
 *   start the app on that database (extra environment variables for the app may be given)
 */

/**
 * @param {string} name
 * @param {(ctx: Ctx) => Promise<void>} fn
 * @param {{ pending?: string, timeout?: number }} [opts]  pending: why this test cannot run yet
 *   (it is reported as skipped; E2E_RUN_PENDING=1 runs it anyway, as a "todo" whose failure
 *   does not fail the run — to see how far a half-built screen gets)
 */
export function e2e(name, fn, { pending, timeout = 240_000 } = {}) {
  if (pending && !process.env.E2E_RUN_PENDING) {
    return test(name, { skip: `pending: ${pending}` }, () => {});
  }
  return test(name, { timeout, todo: pending ? `pending: ${pending}` : undefined }, async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "clinicdesk-e2e-"));
    const db = path.join(dir, "clinic.db");
    const key = path.join(dir, "clinic.key");
    const base = path.join(ARTIFACTS, slug(name));
    /** @type {Awaited<ReturnType<typeof launchApp>> | undefined} */
    let app;
    const ctx = {
      dir,
      db,
      key,
      cli: new Cli(db, key),
      async launch(env = {}) {
        if (app) throw new Error("launch() twice in one test");
        app = await launchApp({
          env: { CLINICDESK_DB: db, CLINICDESK_DB_KEY_FILE: key, CLINICDESK_DB_KEY: undefined, CLINICDESK_USER: undefined, ...env },
          log: `${base}.log`,
        });
        return app.browser;
      },
    };
    try {
      await fn(ctx);
    } catch (e) {
      if (e instanceof Error) e.message += `\n    (window: ${path.relative(process.cwd(), base)}.png, app output and page errors: ${path.relative(process.cwd(), base)}.log)`;
      throw e;
    } finally {
      await app?.close(`${base}.png`);
      if (!process.env.E2E_KEEP) rmSync(dir, { recursive: true, force: true });
    }
  });
}
