import { describe, expect, it } from "vitest";
import { commands } from "../bindings";
import source from "./commands.ts?raw";

// The screens reach Rust only through `api` in commands.ts. Every Tauri command the Rust side
// registers (the generated bindings) must be listed there, so a command added in Rust without
// its line here fails this test instead of silently never being used.
function listed(text: string): Set<string> {
  const code = text.replace(/^\s*\/\/.*$/gm, ""); // not the comments' examples
  return new Set([...code.matchAll(/\bcommands\.([A-Za-z0-9_]+)\(/g)].map((m) => m[1] ?? ""));
}

describe("the UI's command list", () => {
  it("lists every Tauri command of the bindings", () => {
    const ours = listed(source);
    const missing = Object.keys(commands).filter((name) => !ours.has(name));
    expect(missing).toEqual([]);
  });

  it("names only commands that exist", () => {
    const bound = new Set(Object.keys(commands));
    const unknown = [...listed(source)].filter((name) => !bound.has(name));
    expect(unknown).toEqual([]);
  });

  it("notices a command missing from the list", () => {
    const without = source.replace(/\bcommands\.appInfo\(/g, "commands_appInfo(");
    expect(Object.keys(commands).filter((name) => !listed(without).has(name))).toEqual(["appInfo"]);
  });
});
