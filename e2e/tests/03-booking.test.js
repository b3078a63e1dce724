// (c) Book an appointment from a free slot; (d) a double booking is refused with its message.
// Data: lib/clinic.js clinicDay — Maya Singh works 08:00–17:00 tomorrow, Ann Lee is booked with
// her at 09:00, Ben Okafor has nothing booked.
import assert from "node:assert/strict";
import { byLabel, byRole, click, fill, waitForAlert, waitGone } from "../lib/a11y.js";
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
  await byRole(browser, "button", "8:00 a.m. Maya Singh", { within: slots });
  await waitGone(browser, "button", "9:00 a.m. Maya Singh", { within: slots, timeout: 1000 });
  await click(browser, "button", "10:00 a.m. Maya Singh", { within: slots });
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
  await byRole(browser, "button", "10:00 a.m. Ben Okafor with Maya Singh");
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

e2e("book by clicking an empty cell of the grid", async ({ launch, cli }) => {
  const f = clinicDay(cli);
  const browser = await launch();
  await signIn(browser, "frontdesk", PASSWORD);
  await goTo(browser, "Schedule");
  await click(browser, "button", "Next day");
  await byRole(browser, "button", "9:00 a.m. Ann Lee with Maya Singh");
  // Where 08:30–08:45 is in Maya Singh's column: her column head gives the x, the day column's
  // height (06:00–22:00) the y. Then a real pointer click there, as a mouse would.
  const at = await browser.execute(() => {
    const heads = [...document.querySelectorAll(".ec-col-head")].filter((h) => h.querySelector(".lane-name")?.textContent.trim() === "Maya Singh");
    const head = heads[0]?.getBoundingClientRect();
    const day = [...document.querySelectorAll(".ec-body .ec-day")].map((d) => d.getBoundingClientRect()).find((r) => head && Math.abs(r.left - head.left) < 2);
    if (!head || !day) return null;
    return { x: Math.round(head.left + head.width / 2), y: Math.round(day.top + (day.height * (8.5 - 6)) / 16 + 6) };
  });
  assert.ok(at, "Maya Singh's column is on the grid");
  await browser.performActions([
    {
      type: "pointer",
      id: "mouse",
      parameters: { pointerType: "mouse" },
      actions: [
        { type: "pointerMove", x: at.x, y: at.y, origin: "viewport", duration: 0 },
        { type: "pointerDown", button: 0 },
        { type: "pointerUp", button: 0 },
      ],
    },
  ]);
  await browser.releaseActions();
  // The booking dialog opens at that cell: her column, 08:30.
  const dialog = await byRole(browser, "dialog", "Book appointment");
  const start = await byRole(browser, "textbox", "Start", { within: dialog });
  assert.equal(await start.getValue(), `${f.dates.tomorrow} 08:30`);
  const provider = await byLabel(browser, "Provider", { within: dialog });
  assert.equal(await browser.execute((el) => el.selectedOptions[0]?.textContent.trim(), provider), "Maya Singh");
  await pickPatient(browser, "Okafor", /^Okafor, Ben\b/, { within: dialog });
  await click(browser, "button", "Book", { within: dialog });
  await waitGone(browser, "dialog", "Book appointment");
  const ben = cli.run(["appointment", "day", "--clinic", f.clinicId, "--date", f.dates.tomorrow]).entries.find((e) => e.patient_name === "Ben Okafor");
  assert.ok(ben, "the booking is in the database");
  await byRole(browser, "button", "8:30 a.m. Ben Okafor with Maya Singh");
});
