// What the navigation shows. The Rust side checks every operation (crates/domain/src/access.rs
// is the permission matrix); this copy only decides which screens to offer, so a user is not
// sent to a screen every button of which would be refused.

import type { Role, Session } from "../bindings";

export type Capability =
  | "manage_clinics" | "manage_users" | "manage_roles" | "manage_rooms" | "manage_credential_types"
  | "manage_shift_templates" | "manage_staff" | "manage_credentials" | "manage_payers_and_employers"
  | "register_patients" | "delete_patients" | "import_patients" | "read_clinic_data" | "read_patients" | "read_audit"
  | "backup_restore" | "manage_schedule" | "manage_waitlist" | "manage_schedule_settings"
  | "override_booking_rules" | "approve_staffing" | "manage_cases" | "update_own_cases" | "read_kpis";

const ADMIN_ONLY: Capability[] = ["manage_clinics", "manage_users", "manage_roles", "backup_restore"];

/** Role::has of crates/domain/src/access.rs. */
export function roleHas(role: Role, c: Capability): boolean {
  switch (role) {
    case "admin":
      return true;
    case "manager":
      return !ADMIN_ONLY.includes(c);
    case "front_desk":
      return ["read_clinic_data", "read_patients", "register_patients", "manage_schedule", "manage_waitlist"].includes(c);
    case "clinician":
      return ["read_clinic_data", "read_patients", "update_own_cases"].includes(c);
    case "viewer":
      return c === "read_clinic_data";
  }
}

/** Whether the session holds the capability at the clinic (any clinic when clinicId is null). */
export function can(session: Session | null, clinicId: string | null, c: Capability): boolean {
  if (!session) return false;
  return session.roles.some((r) => (clinicId === null || r.clinic_id === clinicId) && roleHas(r.role, c));
}

export type Screen =
  | "schedule" | "today" | "waitlist" | "conflicts" | "reminders" | "credentials" | "roster" | "cases" | "kpis"
  | "capacity" | "admin";

export type NavItem = { screen: Screen; label: string; any: Capability[] };

/** The navigation, in order; an item shows when the user has any of its capabilities. */
export const NAV: NavItem[] = [
  { screen: "schedule", label: "Schedule", any: ["read_clinic_data"] },
  { screen: "today", label: "Today", any: ["read_clinic_data"] },
  { screen: "waitlist", label: "Waitlist", any: ["manage_waitlist"] },
  // The sync conflicts inbox; App.svelte hides it on the front desk while nothing is open.
  { screen: "conflicts", label: "Conflicts", any: ["manage_schedule"] },
  { screen: "reminders", label: "Reminders", any: ["manage_schedule"] },
  { screen: "credentials", label: "Credentials", any: ["manage_credentials"] },
  // Managers run the roster; the staff who work shifts (front desk, clinicians) see it with
  // their own requests. Viewers only read.
  { screen: "roster", label: "Roster", any: ["approve_staffing", "manage_schedule", "update_own_cases"] },
  { screen: "cases", label: "Cases", any: ["manage_cases", "update_own_cases"] },
  { screen: "kpis", label: "KPIs", any: ["read_kpis"] },
  { screen: "capacity", label: "Capacity", any: ["read_kpis"] },
  {
    screen: "admin",
    label: "Admin",
    any: ["manage_users", "manage_clinics", "manage_rooms", "manage_credential_types", "manage_shift_templates", "read_audit", "backup_restore"],
  },
];

export function navFor(session: Session | null, clinicId: string | null): NavItem[] {
  return NAV.filter((n) => n.any.some((c) => can(session, clinicId, c)));
}

/** Clinics the session has any role at, in order of first appearance. */
export function sessionClinics(session: Session | null): string[] {
  if (!session) return [];
  return [...new Set(session.roles.map((r) => r.clinic_id))];
}
