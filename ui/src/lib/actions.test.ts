// The UI's list of appointment steps against the domain's (the generated bindings): the same
// actions, the same order, keys that do not clash with the schedule's own.
import { describe, expect, it } from "vitest";
import { APPOINTMENT_NEXT_STEPS } from "../bindings";
import { ACTIONS, ALL_ACTIONS, nextSteps, stepsOf } from "./actions";

describe("appointment next steps", () => {
  it("the UI knows exactly the domain's actions, in the domain's order", () => {
    const fromDomain = [...new Set(APPOINTMENT_NEXT_STEPS.flatMap((r) => [...r.actions]))];
    expect([...ALL_ACTIONS].sort()).toEqual([...fromDomain].sort());
    // Each row keeps the domain's order, which is the order of ALL_ACTIONS.
    for (const r of APPOINTMENT_NEXT_STEPS) expect(ALL_ACTIONS.filter((a) => r.actions.includes(a as never))).toEqual([...r.actions]);
  });

  it("has one distinct key per step, none of the schedule's other keys", () => {
    const keys = ALL_ACTIONS.map((a) => ACTIONS[a].key);
    expect(new Set(keys).size).toBe(keys.length);
    for (const k of ["b", "t", "d", "w", "r", "[", "]", "?", "ArrowLeft", "ArrowRight", "Escape"]) expect(keys).not.toContain(k);
  });

  it("reads the table by status and checked-out flag", () => {
    expect(nextSteps("confirmed", false)).toEqual(["check_in", "remind", "no_show", "move", "cancel"]);
    expect(nextSteps("checked_in", false)).toEqual(["start", "cancel"]);
    expect(stepsOf({ status: "completed", checked_out_at: null })).toEqual(["check_out"]);
    expect(stepsOf({ status: "completed", checked_out_at: 1 })).toEqual([]);
    expect(nextSteps("cancelled", false)).toEqual([]);
  });
});
