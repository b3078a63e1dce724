// (g) The manager's credential dashboard lists a credential expiring in 30 days and the shift it
// puts at risk. Data: lib/clinic.js clinicDay — Omar Haddad's physiotherapy licence expires on
// D0+30 and he is rostered on D0+35.
import assert from "node:assert/strict";
import { byRole } from "../lib/a11y.js";
import { PASSWORD, clinicDay, localDate } from "../lib/clinic.js";
import { goTo, signIn } from "../lib/flows.js";
import { e2e } from "../lib/harness.js";

e2e("the credential dashboard lists a credential expiring in 30 days and its at-risk shift", async ({ launch, cli }) => {
  const f = clinicDay(cli);
  const expiry = localDate(f.timezone, 30);
  const shiftDate = localDate(f.timezone, 35);
  const browser = await launch();
  await signIn(browser, "admin", PASSWORD);
  await goTo(browser, "Credentials");

  const counts = await byRole(browser, "list", "Credential expiry counts");
  assert.match(await counts.getText(), /Within 30 days\s*1/);

  const expiring = await byRole(browser, "table", "Expiring credentials");
  const row = await expiring.$(`//tr[td[normalize-space(.)="Omar Haddad"]]`);
  const cells = await row.$$("td").map((td) => td.getText());
  assert.deepEqual(cells.slice(0, 5), ["Omar Haddad", "Physiotherapy licence", "PT-Omar", expiry, "30"]);
  await byRole(browser, "button", "Record renewal for Omar Haddad", { within: expiring });

  const atRisk = await byRole(browser, "list", "Staff at risk");
  await byRole(browser, "heading", "Omar Haddad (physiotherapy)", { within: atRisk });
  const lapses = await byRole(browser, "list", "Lapses of Omar Haddad", { within: atRisk });
  assert.match(await lapses.getText(), new RegExp(`Physiotherapy licence expires on ${expiry}`));
  const shifts = await byRole(browser, "table", "Shifts at risk for Omar Haddad", { within: atRisk });
  await byRole(browser, "cell", shiftDate, { within: shifts });
  assert.match(await shifts.getText(), /need raised/);
  // Maya Singh's licence is valid for a year: she is not at risk.
  assert.doesNotMatch(await atRisk.getText(), /Maya Singh/);
});
