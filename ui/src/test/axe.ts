// Accessibility checked by a tool: axe-core's WCAG 2.0/2.1 level A and AA rules over what a
// component test rendered. `expectNoAxeViolations` fails the test with one readable line per
// violation (rule, help, and each offending node's selector and HTML).
//
// What jsdom cannot check. jsdom does no layout and computes no colours, so the rules that need
// them cannot pass or fail here: axe reports `color-contrast` (and `link-in-text-block`) as
// "incomplete", never as a pass. Contrast is therefore not checked by these tests: that needs a
// real browser. axe also leaves as "incomplete" what it cannot decide (e.g.
// `label-content-name-mismatch` for the "?" help button, whose visible text is a symbol); only
// violations fail a test. No rule is switched off to make a screen pass (DISABLED below is
// empty: the rules that need layout or colours come back "incomplete" by themselves).
import axe from "axe-core";

/** The WCAG 2.0 and 2.1 level A and AA rules: the ones this project promises to pass. */
export const WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/** Rules switched off because they cannot work in jsdom. None of the WCAG A/AA rules needs it:
 *  those that need layout or colours come back "incomplete" by themselves (see above). */
const DISABLED: Record<string, { enabled: false }> = {};

export type AxeTarget = Element | Document;

/** Run axe-core's WCAG 2.1 A/AA rules over `target` (the whole document when omitted). */
export async function axeViolations(target: AxeTarget = document): Promise<axe.Result[]> {
  // axe asks for ::before/::after styles (pseudo-element content, contrast). jsdom answers those
  // with the element's own style and logs "Not implemented" each time; asking for the element's
  // style directly gives axe the same answer without the noise. Likewise a canvas (axe measures
  // glyphs to tell icon ligatures from words): jsdom has none and answers null after a log line;
  // so does this stand-in, silently.
  const computed = window.getComputedStyle;
  const getContext = HTMLCanvasElement.prototype.getContext;
  window.getComputedStyle = (el: Element) => computed.call(window, el);
  HTMLCanvasElement.prototype.getContext = (() => null) as typeof getContext;
  try {
    const results = await axe.run(target, {
      runOnly: { type: "tag", values: WCAG_TAGS },
      rules: DISABLED,
      resultTypes: ["violations"],
    });
    return results.violations;
  } finally {
    window.getComputedStyle = computed;
    HTMLCanvasElement.prototype.getContext = getContext;
  }
}

/** One line per violation and an indented line per offending node. */
export function describeViolations(violations: axe.Result[]): string {
  return violations
    .map((v) => {
      const nodes = v.nodes.map((n) => `    ${n.target.join(" ")}: ${n.html.replace(/\s+/g, " ").slice(0, 200)}\n      ${n.failureSummary?.replace(/\s+/g, " ") ?? ""}`);
      return `  [${v.id}] ${v.help} (${v.impact ?? "?"}, ${v.nodes.length} node${v.nodes.length === 1 ? "" : "s"})\n${nodes.join("\n")}`;
    })
    .join("\n");
}

/** Fail the test, naming every violation, when axe-core finds any in `target`. */
export async function expectNoAxeViolations(target: AxeTarget = document, what = "the page"): Promise<void> {
  const violations = await axeViolations(target);
  if (violations.length > 0) {
    throw new Error(`axe-core found ${violations.length} WCAG 2.1 A/AA violation(s) in ${what}:\n${describeViolations(violations)}`);
  }
}
