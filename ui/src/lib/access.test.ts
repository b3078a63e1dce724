import { describe, expect, it } from "vitest";
import { can, navFor, roleHas } from "./access";
import type { Role, Session } from "../bindings";

const session = (roles: [string, Role][]): Session => ({
  user_id: "u", username: "u", display_name: "U", roles: roles.map(([clinic_id, role]) => ({ clinic_id, role })),
});
const labels = (s: Session, c: string | null) => navFor(s, c).map((n) => n.label);

describe("navigation by role", () => {
  it("front desk sees the front-desk screens and the roster (for their own requests)", () => {
    expect(labels(session([["c1", "front_desk"]]), "c1")).toEqual(["Schedule", "Today", "Waitlist", "Conflicts", "Reminders", "Roster"]);
  });
  it("managers see the manager screens and the admin sections they may use", () => {
    expect(labels(session([["c1", "manager"]]), "c1")).toEqual(["Schedule", "Today", "Waitlist", "Conflicts", "Reminders", "Credentials", "Roster", "Cases", "KPIs", "Capacity", "Admin"]);
  });
  it("admins see everything", () => {
    expect(labels(session([["c1", "admin"]]), "c1")).toHaveLength(11);
  });
  it("viewers and clinicians see little", () => {
    expect(labels(session([["c1", "viewer"]]), "c1")).toEqual(["Schedule", "Today"]);
    expect(labels(session([["c1", "clinician"]]), "c1")).toEqual(["Schedule", "Today", "Roster", "Cases"]);
  });
  it("roles are per clinic", () => {
    const s = session([["c1", "manager"], ["c2", "front_desk"]]);
    expect(can(s, "c1", "read_kpis")).toBe(true);
    expect(can(s, "c2", "read_kpis")).toBe(false);
    expect(labels(s, "c2")).not.toContain("KPIs");
  });
  it("matches the Rust matrix for admin-only capabilities", () => {
    expect(roleHas("manager", "backup_restore")).toBe(false);
    expect(roleHas("manager", "read_audit")).toBe(true);
    expect(roleHas("front_desk", "override_booking_rules")).toBe(false);
  });
});
