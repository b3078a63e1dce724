// (b) Sign in: a wrong password is refused with the API's message; the right one opens the app
// with the screens of the user's role.
import assert from "node:assert/strict";
import { allByRole, axeViolations, byRole, click, expectAccessible, fill, waitForAlert, waitGone } from "../lib/a11y.js";
import { PASSWORD, clinicDay } from "../lib/clinic.js";
import { e2e } from "../lib/harness.js";

e2e("sign in: a wrong password is refused, the right one opens the front desk's screens", async ({ launch, cli }) => {
  clinicDay(cli);
  const browser = await launch();

  await byRole(browser, "heading", "ClinicDesk", { timeout: 30_000 });
  // The checker works in this engine: a grey-on-grey line it must flag, then taken away.
  await browser.execute(() => {
    const p = document.createElement("p");
    p.id = "axe-probe";
    p.textContent = "faint";
    p.style.cssText = "color:#bbb;background:#ccc";
    document.body.append(p);
  });
  const probe = await axeViolations(browser, { only: ["color-contrast"] });
  assert.deepEqual(probe.map((v) => v.id), ["color-contrast"], "axe-core flags low contrast in WebKit");
  await browser.execute(() => document.getElementById("axe-probe")?.remove());
  await expectAccessible(browser, "the sign-in screen");
  await fill(browser, "Username", "frontdesk");
  await fill(browser, "Password", "not the password");
  await click(browser, "button", "Sign in");
  await waitForAlert(browser, "wrong username or password");

  await fill(browser, "Password", PASSWORD);
  await click(browser, "button", "Sign in");
  const nav = await byRole(browser, "navigation", "Main", { timeout: 15_000 });
  await waitGone(browser, "button", "Sign in");

  // A front desk sees the desk's screens, not the manager's or the admin's.
  const links = (await allByRole(browser, "link", null, { within: nav })).length;
  assert.ok(links >= 3, "the navigation lists the front desk's screens");
  for (const link of ["Schedule", "Today", "Waitlist"]) await byRole(browser, "link", link, { within: nav });
  for (const hidden of ["Admin", "KPIs"]) {
    assert.equal((await allByRole(browser, "link", hidden, { within: nav })).length, 0, `no ${hidden} link for the front desk`);
  }
  // The signed-in user's name: the account menu (a disclosure) is named after them.
  await byRole(browser, "button", "Fran Desk");
  // Each of the desk's screens, as WebKit draws it (colour contrast included).
  for (const screen of ["Schedule", "Today", "Waitlist"]) {
    await click(browser, "link", screen, { within: nav });
    await byRole(browser, "heading", new RegExp(`^${screen}\\b`), { timeout: 15_000 });
    await expectAccessible(browser, `the ${screen} screen`);
  }
});
