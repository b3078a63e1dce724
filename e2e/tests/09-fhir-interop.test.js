// (j) FHIR export → import through the real app (issue 14 point 4): Admin → Export and import
// writes the clinic's FHIR files into a folder the Rust side chose (answered from
// CLINICDESK_DIALOG_DIR, as automation does — the page never names a path), with the progress
// events wired; the import then reads the real files of that folder (its manifest skipped):
// what the export wrote is already here and skipped, and a new patient from another system
// is imported once.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { byRole, click, waitForStatus } from "../lib/a11y.js";
import { PASSWORD, clinicDay } from "../lib/clinic.js";
import { goTo, signIn } from "../lib/flows.js";
import { e2e } from "../lib/harness.js";

e2e("FHIR export to a folder and import of its files, through the app's own dialogs", async ({ launch, cli, dir }) => {
  clinicDay(cli);
  const folder = path.join(dir, "fhir");
  mkdirSync(folder);
  const browser = await launch({ CLINICDESK_DIALOG_DIR: folder });
  await signIn(browser, "admin", PASSWORD);
  await goTo(browser, "Admin");
  const sections = await byRole(browser, "navigation", "Admin sections");
  await click(browser, "link", "Export and import", { within: sections });

  await click(browser, "button", "Export to a folder…");
  const done = await waitForStatus(browser, /resources written to /, { timeout: 60_000 });
  assert.ok(done.includes(folder), done);
  const manifest = JSON.parse(readFileSync(path.join(folder, "manifest.json"), "utf8"));
  const count = (type) => manifest.output.find((o) => o.type === type).count;
  assert.equal(count("Patient"), 4);
  assert.equal(statSync(path.join(folder, "Patient.ndjson")).mode & 0o077, 0, "exports are private to this account");
  await byRole(browser, "table", "Resources exported");

  // Another system's patient beside the export's files.
  writeFileSync(
    path.join(folder, "from-elsewhere.ndjson"),
    `${JSON.stringify({ resourceType: "Patient", id: "legacy-77", name: [{ family: "Moreau", given: ["Elise"] }] })}\n`,
  );
  await click(browser, "button", "Choose files and import…");
  const imported = await waitForStatus(browser, /^Imported 1 patient, /, { timeout: 60_000 });
  assert.match(imported, /skipped \(already here\)/, imported);
  assert.equal(cli.run(["patient", "search", "Moreau"]).length, 1);
  // Again: nothing new.
  await click(browser, "button", "Choose files and import…");
  await waitForStatus(browser, /^Imported 0 patients, /, { timeout: 60_000 });
  assert.equal(cli.run(["patient", "search", "Moreau"]).length, 1);
  assert.ok(existsSync(path.join(folder, "Appointment.ndjson")));
});
