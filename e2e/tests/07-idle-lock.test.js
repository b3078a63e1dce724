// (h) Idle lock: an admin sets this device's idle timeout to 1 minute (the shortest the API
// allows); a minute without input brings up the lock screen; the same user unlocks with the
// password and is back where they were.
import { byRole, click, fill, waitForStatus, waitGone } from "../lib/a11y.js";
import { PASSWORD, clinicDay } from "../lib/clinic.js";
import { goTo, signIn } from "../lib/flows.js";
import { e2e } from "../lib/harness.js";

e2e(
  "idle lock after the admin's 1-minute timeout, unlock with the password",
  async ({ launch, cli }) => {
    clinicDay(cli);
    const browser = await launch();
    await signIn(browser, "admin", PASSWORD);
    await goTo(browser, "Admin");
    const sections = await byRole(browser, "navigation", "Admin sections");
    await click(browser, "link", "Reminders and lock", { within: sections });

    const form = await byRole(browser, "form", "Reminder policy and lock");
    await fill(browser, "Lock after idle (minutes)", "1", { within: form });
    await click(browser, "button", "Save policy", { within: form });
    await waitForStatus(browser, "lock time saved");

    // No input from here on: the lock screen comes up after a minute.
    const started = Date.now();
    await byRole(browser, "heading", "Locked", { timeout: 90_000 });
    if (Date.now() - started < 45_000) throw new Error("locked before the idle minute was up");
    await waitGone(browser, "navigation", "Main");

    await fill(browser, "Password", PASSWORD);
    await click(browser, "button", "Unlock");
    await byRole(browser, "navigation", "Main", { timeout: 15_000 });
    await byRole(browser, "heading", /^Admin/);
  },
  { timeout: 240_000 },
);
