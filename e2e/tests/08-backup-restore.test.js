// (i) Backup and restore through the real app: the Rust side opens the file dialogs (here
// answered from a folder, CLINICDESK_DIALOG_DIR, as automation does — the page never names a
// path), the progress bar is fed by the app's `progress` events (which only reach the page when
// the capability file is loaded: the backup's size in the message comes from them), and a
// restore brings back the data of the backup and signs out.
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { byRole, click, waitForStatus } from "../lib/a11y.js";
import { PASSWORD, clinicDay } from "../lib/clinic.js";
import { goTo, signIn } from "../lib/flows.js";
import { e2e } from "../lib/harness.js";

e2e("back up and restore through the app's own file dialogs, with progress", async ({ launch, cli, dir }) => {
  const f = clinicDay(cli);
  const backups = path.join(dir, "backups");
  mkdirSync(backups);
  const browser = await launch({ CLINICDESK_DIALOG_DIR: backups });
  await signIn(browser, "admin", PASSWORD);
  await goTo(browser, "Admin");
  const sections = await byRole(browser, "navigation", "Admin sections");
  await click(browser, "link", "Backup and restore", { within: sections });

  await click(browser, "button", "Back up now…");
  const done = await waitForStatus(browser, /Backup written to .*clinicdesk-backup-[0-9-]+\.cdbk \([0-9.]+ MB\)\./, { timeout: 30_000 });
  const files = readdirSync(backups);
  assert.equal(files.length, 1, `${files}`);
  assert.ok(done.includes(path.join(backups, files[0])), done);
  assert.equal(statSync(path.join(backups, files[0])).mode & 0o077, 0, "the backup is private to this account");

  // A patient registered after the backup is gone once the backup is restored.
  cli.run(["patient", "create", "--clinic", f.clinicId, "--set", "first_name=Late", "--set", "last_name=Arrival"]);
  assert.equal(cli.run(["patient", "search", "Arrival"]).length, 1);
  await click(browser, "button", "Restore from a backup…");
  await byRole(browser, "button", "Sign in", { timeout: 30_000 });
  assert.equal(cli.run(["patient", "search", "Arrival"]).length, 0);
  await signIn(browser, "admin", PASSWORD);
});
