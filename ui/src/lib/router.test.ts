import { describe, expect, it } from "vitest";
import { href, parseHash } from "./router.svelte";

describe("hash router", () => {
  it("reads the screen and the rest of the path", () => {
    expect(parseHash("#/admin/audit")).toEqual({ screen: "admin", rest: ["audit"] });
    expect(parseHash("#/today")).toEqual({ screen: "today", rest: [] });
  });
  it("falls back to the schedule for an unknown or empty hash", () => {
    expect(parseHash("")).toEqual({ screen: "schedule", rest: [] });
    expect(parseHash("#/nowhere")).toEqual({ screen: "schedule", rest: [] });
  });
  it("builds links", () => {
    expect(href("admin", "users")).toBe("#/admin/users");
  });
});
