// (c) Book an appointment from a free slot; (d) a double booking is refused with its message.
// Data: lib/clinic.js clinicDay — Maya Singh works 08:00–17:00 tomorrow, Ann Lee is booked with
// her at 09:00, Ben Okafor has nothing booked.
import assert from "node:assert/strict";
import { byRole, click, fill, waitForAlert, waitGone } from "../lib/a11y.js";
import { PASSWORD, clinicDay } from "../lib/clinic.js";
import { choose, goTo, pickPatient, signIn } from "../lib/flows.js";
import { e2e } from "../lib/harness.js";

/** Signed in as the front desk, on the schedule of tomorrow, the booking dialog open. */
async function openBookingTomorrow(browser) {
  await signIn(browser, "frontdesk", PASSWORD);
  await goTo(browser, "Schedule");
  await click(browser, "button", "Next day");
  await click(browser, "button", "Book appointment");
  return byRole(browser, "dialog", "Book appointment");
}

const dayOf = (cli, f, date) =>
  cli.run(["appointment", "day", "--clinic", f.clinicId, "--date", date]).entries.map((e) => [e.patient_name, e.start_at, e.status]);

e2e("book an appointment from a free slot", async ({ launch, cli }) => {
  const f = clinicDay(cli);
  const browser = await launch();
  const dialog = await openBookingTomorrow(browser);

  await pickPatient(browser, "Okafor", /^Okafor, Ben\b/, { within: dialog });
  await choose(browser, "Provider", "Maya Singh", { within: dialog });
  await fill(browser, "Duration (minutes)", "30", { within: dialog });
  // The free slots of the day, as the API computes them; 09:00 is Ann Lee's.
  await click(browser, "button", "Free slots", { within: dialog });
  await click(browser, "button", "Find free slots", { within: dialog });
  const slots = await byRole(browser, "list", "Free slots", { within: dialog });
  await byRole(browser, "button", "08:00 Maya Singh", { within: slots });
  await waitGone(browser, "button", "09:00 Maya Singh", { within: slots, timeout: 1000 });
  await click(browser, "button", "10:00 Maya Singh", { within: slots });
  const start = await byRole(browser, "textbox", "Start", { within: dialog });
  assert.equal(await start.getValue(), `${f.dates.tomorrow} 10:00`);
  await click(browser, "button", "Book", { within: dialog });

  await waitGone(browser, "dialog", "Book appointment");
  const booked = cli.run(["appointment", "day", "--clinic", f.clinicId, "--date", f.dates.tomorrow]).entries;
  const ben = booked.find((e) => e.patient_name === "Ben Okafor");
  assert.ok(ben, "the booking is in the database");
  assert.equal(ben.end_at - ben.start_at, 30 * 60_000);
  assert.equal(ben.status, "pending");
  // …and on the schedule (its list of the day's appointments, which a screen reader reads).
  await byRole(browser, "button", "10:00 Ben Okafor with Maya Singh");
});

e2e("a double booking is refused with the reason shown", async ({ launch, cli }) => {
  const f = clinicDay(cli);
  const before = dayOf(cli, f, f.dates.tomorrow);
  const browser = await launch();
  const dialog = await openBookingTomorrow(browser);

  await pickPatient(browser, "Okafor", /^Okafor, Ben\b/, { within: dialog });
  await choose(browser, "Provider", "Maya Singh", { within: dialog });
  await fill(browser, "Start", `${f.dates.tomorrow} 09:15`, { within: dialog });
  await fill(browser, "Duration (minutes)", "30", { within: dialog });
  await click(browser, "button", "Book", { within: dialog });

  const refusal = await waitForAlert(browser, "already has an appointment", { within: dialog });
  assert.match(refusal, /Maya Singh already has an appointment from 09:00 to 09:30/);
  assert.match(refusal, /Ann Lee/);
  // The dialog stays open with what was typed, and nothing was booked.
  const start = await byRole(browser, "textbox", "Start", { within: dialog });
  assert.equal(await start.getValue(), `${f.dates.tomorrow} 09:15`);
  assert.deepEqual(dayOf(cli, f, f.dates.tomorrow), before);
});
