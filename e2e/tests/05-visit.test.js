// (f) The visit flow on the Today screen: check in, start, complete (and check out).
// Data: lib/clinic.js clinicDay — Dev Patel is booked with Maya Singh today 11:00.
import assert from "node:assert/strict";
import { byRole, click } from "../lib/a11y.js";
import { PASSWORD, clinicDay } from "../lib/clinic.js";
import { goTo, signIn } from "../lib/flows.js";
import { e2e } from "../lib/harness.js";

/** The status cell of `patient`'s row in the Today table. */
async function statusOf(browser, patient) {
  const table = await byRole(browser, "table", "Today's appointments");
  return table.$(`//tr[.//button[normalize-space(.)="${patient}"]]/td[5]`).getText();
}

async function waitStatus(browser, patient, status) {
  await browser.waitUntil(async () => (await statusOf(browser, patient)) === status, {
    timeout: 10_000,
    timeoutMsg: `${patient} never showed as ${status} (shows ${await statusOf(browser, patient).catch(() => "?")})`,
  });
}

e2e("check a patient in and complete the visit", async ({ launch, cli }) => {
  const f = clinicDay(cli);
  const browser = await launch();
  await signIn(browser, "frontdesk", PASSWORD);
  await goTo(browser, "Today");

  const table = await byRole(browser, "table", "Today's appointments");
  await click(browser, "button", "Dev Patel", { within: table });
  const panel = await byRole(browser, "complementary", "Dev Patel");

  await click(browser, "button", "Check in", { within: panel });
  await waitStatus(browser, "Dev Patel", "Checked in");
  await click(browser, "button", "Start", { within: panel });
  await waitStatus(browser, "Dev Patel", "In progress");
  await click(browser, "button", "Complete", { within: panel });
  await waitStatus(browser, "Dev Patel", "Completed");
  await click(browser, "button", "Check out", { within: panel });
  await waitStatus(browser, "Dev Patel", "Checked out");

  const counts = await byRole(browser, "list", "Today's counts");
  assert.match(await counts.getText(), /Completed\s*1/);
  const dev = cli.run(["appointment", "day", "--clinic", f.clinicId, "--date", f.dates.today]).entries.find((e) => e.patient_name === "Dev Patel");
  assert.equal(dev.status, "completed");
});
