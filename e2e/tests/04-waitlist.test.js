// (e) Cancelling an appointment offers the freed slot to the waitlist; the offer is accepted and
// books the waiting patient into it. Data: lib/clinic.js clinicDay — Ann Lee is booked with Maya
// Singh tomorrow 09:00; Cara Diaz waits for Maya, tomorrow to a week later, 30 minutes.
import assert from "node:assert/strict";
import { byRole, click, fill, waitGone } from "../lib/a11y.js";
import { PASSWORD, clinicDay } from "../lib/clinic.js";
import { goTo, signIn } from "../lib/flows.js";
import { e2e } from "../lib/harness.js";

e2e("cancel an appointment, the waitlist offer appears and is accepted", async ({ launch, cli }) => {
  const f = clinicDay(cli);
  const browser = await launch();
  await signIn(browser, "frontdesk", PASSWORD);

  // Nobody has an offer yet.
  await goTo(browser, "Waitlist");
  const entries = await byRole(browser, "table", "Waitlist entries");
  await byRole(browser, "button", "Remove Cara Diaz", { within: entries });
  await waitGone(browser, "button", "Accept offer for Cara Diaz", { timeout: 1000 });

  // Cancel Ann Lee's appointment from the schedule.
  await goTo(browser, "Schedule");
  await click(browser, "button", "Next day");
  const grid = await byRole(browser, "region", "Appointments grid");
  await click(browser, "button", /^9:00 a\.m\.\s*[–-]\s*9:30 a\.m\. Pending Ann Lee$/, { within: grid });
  const panel = await byRole(browser, "complementary", "Ann Lee");
  await click(browser, "button", "Cancel appointment", { within: panel });
  await fill(browser, "Cancellation reason", "Patient called in sick", { within: panel });
  await click(browser, "button", "Confirm cancellation", { within: panel });
  await waitGone(browser, "button", "9:00 a.m. Ann Lee with Maya Singh");

  // The freed 09:00 is offered to Cara Diaz; accepting books it.
  await goTo(browser, "Waitlist");
  await click(browser, "button", "Accept offer for Cara Diaz");
  await waitGone(browser, "button", "Accept offer for Cara Diaz");

  const day = cli.run(["appointment", "day", "--clinic", f.clinicId, "--date", f.dates.tomorrow]).entries;
  const cara = day.find((e) => e.patient_name === "Cara Diaz");
  const ann = day.find((e) => e.patient_name === "Ann Lee");
  assert.ok(cara, "Cara Diaz is booked");
  assert.equal(cara.start_at, f.appointments.annVisit.start_at, "into Ann Lee's old slot");
  assert.equal(ann?.status, "cancelled");

  await goTo(browser, "Schedule");
  await click(browser, "button", "Next day");
  await byRole(browser, "button", "9:00 a.m. Cara Diaz with Maya Singh");
});
