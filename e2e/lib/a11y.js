// Find elements the way a person (or a screen reader) does: by role and accessible name.
//
// WebdriverIO's `aria/Name` selector ignores the role and, in classic WebDriver sessions (the
// only kind WebKitWebDriver offers), is an XPath guess. So: the page is searched with a small
// implementation of the ARIA role mapping and accessible-name computation (`inPage` below), and
// every element found that way is then confirmed against WebKit's own accessibility tree
// (WebDriver "Get Computed Role" / "Get Computed Label"), which is what assistive technology
// reads. A mismatch fails the test with both views, so a test never passes on an element a
// screen reader would not announce under that role and name.
//
// WebKit quirks the confirmation allows for (seen with WebKitGTK's WebKitWebDriver): a <select>
// is a "button" whose label has the selected option appended ("Patient Ann Lee"); number and
// date/time inputs are "textbox"es whose label has the field parts appended ("Start month /
// day / year , hour : minutes"). Hence: computed label must START WITH the expected name.
// WebKit computes no label for table cells and rows (their name comes from content in ARIA), so
// for those only the role is confirmed. A <summary> (the toggle of a <details>) has no ARIA
// role; WebKit reports "", and these helpers call it a "button", as a person would.

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const norm = (s) => (s ?? "").replace(/\s+/g, " ").trim();

/** Roles WebKit may report for elements of the given ARIA role (see above). */
const WEBKIT_ROLES = {
  combobox: ["combobox", "button", "popupbutton"],
  listbox: ["listbox"],
  spinbutton: ["spinbutton", "textbox"],
  searchbox: ["searchbox", "textbox", "searchfield"],
  textbox: ["textbox", "searchfield"],
  link: ["link"],
};

/**
 * Runs in the page. Returns [{ el, role, name }] of the visible elements under `scope` (or
 * the document) with the role (any role when null) whose accessible name matches `spec`
 * ({ exact } | { source, flags } | null = any name). With `labelled`, form controls whose
 * label matches, whatever their role.
 */
function inPage(role, spec, scope, labelled) {
  const norm = (s) => (s ?? "").replace(/\s+/g, " ").trim();
  const root = scope ?? document.body;
  const hidden = (el) => {
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      if (e.hidden || e.inert || e.getAttribute("aria-hidden") === "true") return true;
      if (e.tagName === "DIALOG" && !e.open) return true;
      // Inside a closed <details>, only its own <summary> shows.
      const details = e.parentElement;
      if (details?.tagName === "DETAILS" && !details.open && !(e.tagName === "SUMMARY" && details.querySelector(":scope > summary") === e)) return true;
      if (getComputedStyle(e).display === "none") return true;
    }
    const v = getComputedStyle(el).visibility;
    return v === "hidden" || v === "collapse";
  };
  const INPUT_ROLES = { button: "button", submit: "button", reset: "button", image: "button", checkbox: "checkbox", radio: "radio", range: "slider", number: "spinbutton", hidden: "" };
  const roleOf = (el) => {
    const explicit = (el.getAttribute("role") ?? "").trim().split(/\s+/)[0];
    if (explicit && explicit !== "none" && explicit !== "presentation") return explicit;
    const tag = el.tagName.toLowerCase();
    const named = el.hasAttribute("aria-label") || el.hasAttribute("aria-labelledby");
    switch (tag) {
      case "button": case "summary": return "button";
      case "a": case "area": return el.hasAttribute("href") ? "link" : "";
      case "h1": case "h2": case "h3": case "h4": case "h5": case "h6": return "heading";
      case "input": {
        const type = (el.getAttribute("type") ?? "text").toLowerCase();
        if (type in INPUT_ROLES) return INPUT_ROLES[type];
        if (el.hasAttribute("list")) return "combobox";
        return type === "search" ? "searchbox" : "textbox";
      }
      case "textarea": return "textbox";
      case "select": return el.multiple || el.size > 1 ? "listbox" : "combobox";
      case "option": return "option";
      case "dialog": return "dialog";
      case "nav": return "navigation";
      case "main": return "main";
      case "aside": return "complementary";
      case "form": return named ? "form" : "";
      case "section": return named ? "region" : "";
      case "fieldset": case "details": return "group";
      case "table": return "table";
      case "tr": return "row";
      case "td": return "cell";
      case "th": return el.closest("thead") || el.getAttribute("scope") === "col" ? "columnheader" : "rowheader";
      case "ul": case "ol": return "list";
      case "li": return "listitem";
      case "img": return el.getAttribute("alt") === "" ? "" : "img";
      case "output": return "status";
      case "progress": return "progressbar";
      case "meter": return "meter";
      default: return "";
    }
  };
  const FROM_CONTENT = new Set(["button", "link", "heading", "cell", "columnheader", "rowheader", "option", "listitem", "tab", "menuitem", "menuitemcheckbox", "menuitemradio", "checkbox", "radio", "switch", "treeitem", "tooltip", "row", "gridcell"]);
  const CONTROLS = new Set(["INPUT", "SELECT", "TEXTAREA"]);
  // Text of a subtree for a name (skipping hidden parts and `skip`, which is the element being
  // named when it sits inside its own label).
  const textOf = (node, skip) => {
    if (node.nodeType === 3) return node.textContent;
    if (node.nodeType !== 1 || node === skip || hidden(node)) return "";
    const el = /** @type {Element} */ (node);
    if (el.hasAttribute("aria-label") && norm(el.getAttribute("aria-label"))) return ` ${el.getAttribute("aria-label")} `;
    if (el.tagName === "IMG") return el.getAttribute("alt") ?? "";
    if (el.tagName === "SELECT") return el.selectedOptions[0]?.textContent ?? "";
    if (el.tagName === "INPUT" || el.tagName === "TEXTAREA") return el.value ?? "";
    const inline = getComputedStyle(el).display.startsWith("inline");
    const inner = [...el.childNodes].map((c) => textOf(c, skip)).join("");
    return inline ? inner : ` ${inner} `;
  };
  const nameOf = (el, r) => {
    const by = el.getAttribute("aria-labelledby");
    if (by) {
      const t = by.split(/\s+/).map((id) => document.getElementById(id)).filter(Boolean).map((x) => textOf(x, null)).join(" ");
      if (norm(t)) return norm(t);
    }
    const label = el.getAttribute("aria-label");
    if (label && norm(label)) return norm(label);
    if (CONTROLS.has(el.tagName) && el.labels?.length) {
      const t = [...el.labels].map((l) => textOf(l, el)).join(" ");
      if (norm(t)) return norm(t);
    }
    if (el.tagName === "INPUT" && ["submit", "reset", "button"].includes(el.type)) {
      return norm(el.value) || (el.type === "submit" ? "Submit" : el.type === "reset" ? "Reset" : "");
    }
    if (el.tagName === "IMG") return norm(el.getAttribute("alt"));
    if (el.tagName === "FIELDSET") {
      const legend = el.querySelector(":scope > legend");
      if (legend) return norm(textOf(legend, null));
    }
    if (el.tagName === "TABLE" && el.caption) return norm(textOf(el.caption, null));
    if (FROM_CONTENT.has(r)) {
      const t = norm([...el.childNodes].map((c) => textOf(c, null)).join(""));
      if (t) return t;
    }
    return norm(el.getAttribute("title") ?? (CONTROLS.has(el.tagName) ? el.getAttribute("placeholder") : ""));
  };
  const matches = (name) => spec === null || (spec.exact !== undefined ? name === norm(spec.exact) : new RegExp(spec.source, spec.flags).test(name));
  const out = [];
  for (const el of root.querySelectorAll("*")) {
    if (labelled) {
      const r = roleOf(el);
      const control = CONTROLS.has(el.tagName) ? el.type !== "hidden" && !["button", "submit", "reset", "image"].includes(el.type) : ["textbox", "searchbox", "combobox", "listbox", "spinbutton", "checkbox", "radio", "switch", "slider"].includes(r) || el.isContentEditable;
      if (!control || hidden(el)) continue;
      const name = nameOf(el, r);
      if (matches(name)) out.push({ el, role: r, name, tag: el.tagName });
      continue;
    }
    const r = roleOf(el);
    if (!r || (role !== null && r !== role)) continue;
    if (hidden(el)) continue;
    const name = nameOf(el, r);
    if (matches(name)) out.push({ el, role: r, name, tag: el.tagName });
  }
  return out;
}

function specOf(name) {
  if (name === undefined || name === null) return null;
  if (name instanceof RegExp) return { source: name.source, flags: name.flags };
  return { exact: String(name) };
}

const describe = (role, name) => `${role ?? "element"}${name === undefined || name === null ? "" : ` named ${name instanceof RegExp ? name : JSON.stringify(name)}`}`;

/** A page being replaced under the query (navigation, reload): try again, don't fail. */
const TRANSIENT = /unload event|no such frame|stale element|detached|document unloaded/i;

async function query(browser, role, name, { within, labelled = false } = {}) {
  let found;
  try {
    found = await browser.execute(inPage, role, specOf(name), within ?? null, labelled);
  } catch (e) {
    if (TRANSIENT.test(String(e?.message))) return [];
    throw e;
  }
  return Promise.all(found.map(async (f) => ({ ...f, el: await browser.$(f.el) })));
}

/** Roles whose accessible name WebKit does not compute (WebDriver's computed label is ""). */
const WEBKIT_UNNAMED = new Set(["cell", "gridcell", "row", "rowheader", "columnheader"]);

/**
 * Confirm against WebKit's accessibility tree; throws with both views when they differ.
 * Returns null when the element went away meanwhile (the page re-rendered): search again.
 */
async function confirm(f, role, name) {
  let webRole, webLabel;
  try {
    [webRole, webLabel] = [await f.el.getComputedRole(), norm(await f.el.getComputedLabel())];
  } catch (e) {
    if (TRANSIENT.test(e.message) || !(await f.el.isExisting().catch(() => false))) return null;
    throw new Error(`${describe(role, name)}: found in the page but WebKit has no accessibility node for it (${e.message.split("\n")[0]})`);
  }
  const roles = f.tag === "SUMMARY" && role === "button" ? ["button", ""] : WEBKIT_ROLES[role] ?? [role];
  const roleOk = role === null || roles.includes(webRole);
  const unnamed = WEBKIT_UNNAMED.has(role) && webLabel === "";
  const nameOk = name === undefined || name === null || unnamed || (name instanceof RegExp ? name.test(webLabel) || name.test(f.name) : webLabel.startsWith(norm(name)));
  if (!roleOk || !nameOk) {
    throw new Error(`${describe(role, name)}: the page has a ${f.role} named ${JSON.stringify(f.name)}, but WebKit's accessibility tree says role ${JSON.stringify(webRole)}, label ${JSON.stringify(webLabel)}`);
  }
  return f.el;
}

async function onScreen(browser, role) {
  try {
    const all = await browser.execute(inPage, role, null, null, false);
    return all.map((x) => (role ? JSON.stringify(x.name) : `${x.role} ${JSON.stringify(x.name)}`)).slice(0, 25).join(", ") || "none";
  } catch {
    return "(page not readable)";
  }
}

/**
 * The element with this role and accessible name (exact after collapsing white space, or a
 * RegExp), waiting up to `timeout` ms for it to appear. With several, the first in page order.
 * @returns {Promise<WebdriverIO.Element>}
 */
export async function byRole(browser, role, name, { timeout = 10_000, within } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const found = await query(browser, role, name, { within });
    const el = found.length ? await confirm(found[0], role, name) : null;
    if (el) return el;
    if (Date.now() > deadline) {
      throw new Error(`no ${describe(role, name)} within ${timeout} ms; elements with role ${role} on screen: ${await onScreen(browser, role)}`);
    }
    await sleep(200);
  }
}

/** Every visible element with the role (and name, if given), now; confirmed as byRole. */
export async function allByRole(browser, role, name, { within } = {}) {
  const found = await query(browser, role, name, { within });
  return (await Promise.all(found.map((f) => confirm(f, role, name)))).filter(Boolean);
}

/** The form control (text field, select, checkbox, …) labelled `label`, waiting for it. */
export async function byLabel(browser, label, { timeout = 10_000, within } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const found = await query(browser, null, label, { within, labelled: true });
    const el = found.length ? await confirm(found[0], null, label) : null;
    if (el) return el;
    if (Date.now() > deadline) {
      const fields = await browser
        .execute(inPage, null, null, null, true)
        .then((a) => a.map((x) => JSON.stringify(x.name)).join(", ") || "none")
        .catch(() => "(page not readable)");
      throw new Error(`no form field labelled ${JSON.stringify(label)} within ${timeout} ms; fields on screen: ${fields}`);
    }
    await sleep(200);
  }
}

/** Wait until no visible element has this role and name. */
export async function waitGone(browser, role, name, { timeout = 10_000, within } = {}) {
  const deadline = Date.now() + timeout;
  while ((await query(browser, role, name, { within })).length) {
    if (Date.now() > deadline) throw new Error(`${describe(role, name)} still on screen after ${timeout} ms`);
    await sleep(200);
  }
}

/**
 * Texts of the visible live regions with this role ("alert": errors, "status": confirmations)
 * that say something. Their text is what a screen reader announces; ARIA gives them no name
 * from content, so they are matched by text, not by name.
 */
export async function liveTexts(browser, role = "alert", { within } = {}) {
  const found = await query(browser, role, null, { within });
  const texts = await Promise.all(found.map((f) => f.el.getText().catch(() => "")));
  return texts.map(norm).filter(Boolean);
}

/** Wait for a live region (role "alert" or "status") whose text matches `pattern`. */
export async function waitForLive(browser, role, pattern, { timeout = 10_000, within } = {}) {
  const deadline = Date.now() + timeout;
  const ok = (t) => (pattern instanceof RegExp ? pattern.test(t) : t.includes(pattern));
  for (;;) {
    const texts = await liveTexts(browser, role, { within });
    const hit = texts.find(ok);
    if (hit) return hit;
    if (Date.now() > deadline) throw new Error(`no ${role} matching ${pattern} within ${timeout} ms; ${role}s: ${JSON.stringify(texts)}`);
    await sleep(200);
  }
}

/** Texts of the visible error messages (role="alert"). */
export const alertTexts = (browser, opts) => liveTexts(browser, "alert", opts);

/** Wait for an error message (role="alert") matching `pattern` (RegExp or substring). */
export const waitForAlert = (browser, pattern, opts) => waitForLive(browser, "alert", pattern, opts);

/** Wait for a confirmation (role="status") matching `pattern` (RegExp or substring). */
export const waitForStatus = (browser, pattern, opts) => waitForLive(browser, "status", pattern, opts);

/** Type into the field labelled `label` (clearing it first). */
export async function fill(browser, label, value, opts) {
  const el = await byLabel(browser, label, opts);
  await el.clearValue();
  await el.setValue(value);
  return el;
}

/** Click the element with this role and name. */
export async function click(browser, role, name, opts) {
  const el = await byRole(browser, role, name, opts);
  await el.click();
  return el;
}

// axe-core in the real engine: what jsdom cannot judge (colour contrast, text over images)
// is judged here, on WebKit's own layout and colours. The checker's source is injected through
// WebDriver (not subject to the page's CSP) and run with the WCAG 2.0/2.1 A and AA tags, as
// the component tests do (ui/src/test/axe.ts); any violation fails the test with its nodes.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/** The violations axe-core finds in the page as WebKit draws it (`only`: rule ids to run). */
export async function axeViolations(browser, { only } = {}) {
  await browser.execute(AXE_SOURCE);
  const options = only ? { runOnly: { type: "rule", values: only } } : { runOnly: { type: "tag", values: AXE_TAGS } };
  const json = await browser.executeAsync((opts, done) => {
    // eslint-disable-next-line no-undef
    axe.run(document, opts).then(
      (r) => done(JSON.stringify(r.violations.map((v) => ({ id: v.id, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target.join(" "), summary: n.failureSummary })) })))),
      (e) => done(JSON.stringify([{ id: "axe-error", help: String(e), nodes: [] }])),
    );
  }, options);
  return JSON.parse(json);
}

/** Fails with a readable list when axe-core finds any violation on the screen shown. */
export async function expectAccessible(browser, what, opts) {
  const v = await axeViolations(browser, opts);
  if (v.length) {
    const lines = v.flatMap((x) => [`${x.id}: ${x.help}`, ...x.nodes.slice(0, 8).map((n) => `  ${n.target}: ${(n.summary ?? "").replace(/\s+/g, " ")}`)]);
    throw new Error(`axe-core (WebKit) found ${v.length} violation(s) on ${what}:\n${lines.join("\n")}`);
  }
}
