import { describe, expect, it } from "vitest";
import { sanitizeNavigatorLanguage, validTag } from "./locale";

describe("navigator.language sanitising", () => {
  it("knows a BCP 47 tag from a POSIX locale name", () => {
    expect(validTag("en-CA")).toBe(true);
    expect(validTag("C")).toBe(false);
    expect(validTag("")).toBe(false);
  });

  it("replaces an invalid language so Intl users do not throw", () => {
    const nav = { language: "C", languages: ["C"] } as unknown as Navigator;
    expect(sanitizeNavigatorLanguage(nav)).toBe(true);
    expect(validTag(nav.language)).toBe(true);
    expect(() => new Intl.NumberFormat(nav.language)).not.toThrow();
    const ok = { language: "fr-CA", languages: ["fr-CA"] } as unknown as Navigator;
    expect(sanitizeNavigatorLanguage(ok)).toBe(false);
    expect(ok.language).toBe("fr-CA");
  });
});
