// Accessibility checked by a tool: axe-core's WCAG 2.0/2.1 level A and AA rules (src/test/axe.ts).
// First, a check that the checker can fail. Colour contrast is not checked here: jsdom has
// no layout and no computed colours (axe reports it as "incomplete"; see src/test/axe.ts).
import { beforeEach, describe, expect, it } from "vitest";
import { resetSession } from "./lib/session.svelte";
import { shimMissingCommands } from "./test/ipc";
import axe from "axe-core";
import { axeViolations, describeViolations, expectNoAxeViolations, WCAG_TAGS } from "./test/axe";
import indexHtml from "../index.html?raw";

/** The page as index.html makes it: jsdom's test document has neither a language nor a title. */
function asIndexHtml() {
  document.documentElement.lang = "en";
  document.title = "ClinicDesk";
}

beforeEach(() => {
  resetSession();
  shimMissingCommands();
  asIndexHtml();
});

describe("the checker", () => {
  it("reports an unlabeled field, a nameless button and an image without text", async () => {
    const box = document.createElement("div");
    box.innerHTML = `<form><input type="text" name="q"><button type="submit"></button></form><img src="x.png">`;
    document.body.appendChild(box);
    try {
      const found = await axeViolations(box);
      expect(found.map((v) => v.id).sort()).toEqual(["button-name", "image-alt", "label"]);
      const text = describeViolations(found);
      expect(text).toContain("[label] Form elements must have labels");
      expect(text).toContain('<input type="text" name="q">');
      await expect(expectNoAxeViolations(box)).rejects.toThrow(/3 WCAG 2.1 A\/AA violation\(s\)[\s\S]*\[button-name\]/);
    } finally {
      box.remove();
    }
  });

  it("reports page-level problems when given the document", async () => {
    document.documentElement.removeAttribute("lang");
    const found = await axeViolations(document);
    expect(found.map((v) => v.id)).toContain("html-has-lang");
  });

  it("cannot judge colour contrast in jsdom: it says so (incomplete), never passes it", async () => {
    const box = document.createElement("div");
    box.innerHTML = `<p style="color: #777; background: #888">Faint text</p>`;
    document.body.appendChild(box);
    try {
      const r = await axe.run(box, { runOnly: { type: "tag", values: WCAG_TAGS } });
      expect(r.passes.map((x) => x.id)).not.toContain("color-contrast");
      expect(r.violations.map((x) => x.id)).not.toContain("color-contrast");
      expect(r.incomplete.map((x) => x.id)).toContain("color-contrast");
    } finally {
      box.remove();
    }
  });

  it("the page it checks is index.html's: English, with a title", () => {
    expect(indexHtml).toMatch(/<html lang="en">/);
    expect(indexHtml).toMatch(/<title>ClinicDesk<\/title>/);
  });
});
