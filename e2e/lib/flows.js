// Steps many tests share, written the way a receptionist would do them.
import { byLabel, byRole, click, fill, waitGone } from "./a11y.js";

/** Sign in on the sign-in screen and wait for the app's main navigation. */
export async function signIn(browser, username, password) {
  await fill(browser, "Username", username, { timeout: 20_000 });
  await fill(browser, "Password", password);
  await click(browser, "button", "Sign in");
  await byRole(browser, "navigation", "Main", { timeout: 15_000 });
}

/** Follow a link of the main navigation and wait for the screen's heading. */
export async function goTo(browser, screen, heading = screen) {
  const nav = await byRole(browser, "navigation", "Main");
  await click(browser, "link", screen, { within: nav });
  return byRole(browser, "heading", heading instanceof RegExp ? heading : new RegExp(`^${heading}\\b`));
}

/** Choose the option shown as `text` in the <select> labelled `label`. */
export async function choose(browser, label, text, opts) {
  const el = await byLabel(browser, label, opts);
  await el.selectByVisibleText(text);
  return el;
}

/**
 * Pick a patient in the patient typeahead: type `query`, wait for the option whose name
 * matches `option` (RegExp), click it.
 */
export async function pickPatient(browser, query, option, { label = "Patient", within } = {}) {
  const box = await byLabel(browser, label, { within });
  await box.clearValue();
  await box.setValue(query);
  const list = await byRole(browser, "listbox", "Matching patients", { within });
  await click(browser, "option", option, { within: list });
  await waitGone(browser, "listbox", "Matching patients", { within });
}
