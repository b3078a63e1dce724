import { describe, expect, it, vi } from "vitest";
import { groupShortcuts, handleShortcut, isTypingTarget, keyName, type Shortcut } from "./shortcuts";

function key(k: string, target: EventTarget | null = document.body, mods: Partial<KeyboardEventInit> = {}) {
  const e = new KeyboardEvent("keydown", { key: k, cancelable: true, ...mods });
  Object.defineProperty(e, "target", { value: target });
  return e;
}

describe("keyboard shortcuts", () => {
  const checkIn = vi.fn();
  const help = vi.fn();
  let selected = false;
  const table: Shortcut[] = [
    { key: "?", group: "Everywhere", description: "Help", run: help },
    { key: "i", group: "Selected appointment", description: "Check in", run: checkIn, enabled: () => selected },
  ];

  it("runs the shortcut for the key and prevents the default", () => {
    const e = key("?");
    expect(handleShortcut(e, table)).toBe(true);
    expect(help).toHaveBeenCalledTimes(1);
    expect(e.defaultPrevented).toBe(true);
  });

  it("does nothing while the user types in a field", () => {
    const input = document.createElement("input");
    expect(handleShortcut(key("i", input), table)).toBe(false);
    expect(isTypingTarget(document.createElement("textarea"))).toBe(true);
    const box = document.createElement("input");
    box.type = "checkbox";
    expect(isTypingTarget(box)).toBe(false);
  });

  it("respects enabled() (no appointment selected)", () => {
    selected = false;
    expect(handleShortcut(key("i"), table)).toBe(false);
    selected = true;
    expect(handleShortcut(key("I"), table)).toBe(true);
    expect(checkIn).toHaveBeenCalledTimes(1);
  });

  it("ignores keys with Ctrl, Alt or Meta", () => {
    selected = true;
    expect(handleShortcut(key("i", document.body, { ctrlKey: true }), table)).toBe(false);
    expect(checkIn).toHaveBeenCalledTimes(1);
  });

  it("names keys and groups the table for the help overlay", () => {
    expect(keyName({ key: "A" })).toBe("a");
    expect(keyName({ key: "ArrowLeft" })).toBe("ArrowLeft");
    expect(groupShortcuts(table).map((g) => [g.group, g.items.length])).toEqual([["Everywhere", 1], ["Selected appointment", 1]]);
  });
});
