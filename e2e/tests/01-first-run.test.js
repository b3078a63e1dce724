// (a) First run: the app starts on an empty database, creates it (encrypted, with its key file),
// asks for the clinic and its administrator, shows the recovery key and the audit verification
// key once (Continue waits for "written down"), and lands signed in.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { byRole, click, expectAccessible, fill } from "../lib/a11y.js";
import { PASSWORD } from "../lib/clinic.js";
import { e2e } from "../lib/harness.js";

e2e("first-run setup creates the clinic and admin and lands signed in", async ({ launch, db, key, cli }) => {
  assert.ok(!existsSync(db), "the test starts without a database");
  const browser = await launch();

  await byRole(browser, "heading", "Set up ClinicDesk", { timeout: 30_000 });
  assert.ok(existsSync(db) && existsSync(key), "the app created its database and key file");
  await expectAccessible(browser, "the setup screen");

  await fill(browser, "Clinic name", "Bow Valley Physio");
  await fill(browser, "Clinic code", "bvp");
  await fill(browser, "Time zone", "America/Edmonton");
  await fill(browser, "Admin username", "riley");
  await fill(browser, "Admin display name", "Riley Admin");
  await fill(browser, "Admin password", PASSWORD);
  await click(browser, "button", "Create clinic");

  // The keys, shown this once: 14 groups of 4 (the last a check) and 64 hex digits.
  await byRole(browser, "heading", "Your recovery key", { timeout: 20_000 });
  await expectAccessible(browser, "the recovery key notice");
  const body = await browser.$("body").getText();
  assert.match(body, /([0-9A-Z]{4}-){13}[0-9A-Z]{4}/, "the recovery key is shown");
  assert.match(body, /[0-9a-f]{64}/, "the audit verification key is shown");
  const go = await byRole(browser, "button", "Continue");
  assert.equal(await go.isEnabled(), false, "Continue waits for the confirmation");
  await click(browser, "checkbox", "I have written it down or printed it");
  await click(browser, "button", "Continue");

  // Signed in: the main navigation, the admin's screens, the admin's name and the clinic.
  const nav = await byRole(browser, "navigation", "Main", { timeout: 20_000 });
  for (const link of ["Schedule", "Credentials", "Admin"]) await byRole(browser, "link", link, { within: nav });
  // The account menu (a disclosure named after the signed-in user).
  await byRole(browser, "button", "Riley Admin", { timeout: 10_000 });
  // Every screen of the admin's navigation, as WebKit draws it (colour contrast included).
  for (const screen of ["Schedule", "Today", "Waitlist", "Reminders", "Credentials", "Roster", "Cases", "KPIs", "Capacity", "Admin"]) {
    await click(browser, "link", screen, { within: nav });
    await byRole(browser, "heading", new RegExp(`^${screen}\\b`), { timeout: 15_000 });
    await expectAccessible(browser, `the ${screen} screen (admin)`);
  }

  // The database holds what was typed (read back through the CLI, signed in as the new admin).
  const clinics = cli.run(["clinic", "list"], { user: "riley" });
  assert.deepEqual(
    clinics.map((c) => [c.name, c.code, c.timezone]),
    [["Bow Valley Physio", "BVP", "America/Edmonton"]],
  );
});
