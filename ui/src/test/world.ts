// A whole clinic behind the fake Rust side: every command a screen reads at first sight answers
// with realistic, non-empty data (two providers, today's appointments, a waitlist offer,
// reminders, expiring credentials, a roster with requests, a case, KPIs and goals, a capacity
// snapshot, users, rooms, the audit log…). For tests that mount the whole app or any screen and
// look at everything it draws (the accessibility check, src/a11y.test.ts).
import { fakeBackend } from "./ipc";
import { ann, appointment, clinic, CLINIC_ID, drLee, gridEntry, scheduleEntry, status } from "./fixtures";
import { TEST_NOW } from "./clock";

type Handler = (args: Record<string, unknown>) => unknown;
type Role = "admin" | "manager" | "front_desk" | "clinician";

const HOUR = 3_600_000;
/** Edmonton wall clock (MDT, UTC-6) on Monday 9 March 2026. */
const at = (h: number, m = 0) => Date.UTC(2026, 2, 9, h + 6, m);

/** A second clinic, for users with roles at two. */
export const SOUTH = "0190a000-0000-7000-8000-000000000002";
export const kim = { ...drLee, id: "s2", first_name: "Kim", last_name: "Wu", discipline: "massage", user_id: "u1" };
const robin = { ...drLee, user_id: null, employment_type: "full_time", email: "robin@example.org", phone: null };
const room = { id: "r1", clinic_id: CLINIC_ID, name: "Room 1", room_type: "treatment", capacity: 1, status: "available", is_active: true, created_at: 0, updated_at: 0, deleted_at: null };
const physio = { id: "t1", clinic_id: CLINIC_ID, name: "Physio", code: "PHY", duration_minutes: 30, color: "#c2410c", required_credential_type_ids: ["ct1"], is_active: true, created_at: 0, updated_at: 0, deleted_at: null };
const review = { ...physio, id: "t2", name: "Review", code: "REV", color: null, required_credential_type_ids: [] };

const waiting = appointment({ id: "a1", status: "checked_in", start_at: at(9, 45), end_at: at(10, 15), checked_in_at: at(9, 48), appointment_type_id: "t1", room_id: "r1" });
const seen = appointment({ id: "a2", status: "completed", start_at: at(8), end_at: at(8, 30), provider_id: "s2" });
const later = appointment({ id: "a3", status: "confirmed", start_at: at(13), end_at: at(13, 30), appointment_type_id: "t2", series_id: "se1" });
const dayAppointments = [waiting, seen, later];

const shift = (id: string, staffId: string, date: string, h = 8) => ({
  schedule: { id, clinic_id: CLINIC_ID, staff_id: staffId, shift_id: "sh1", schedule_date: date, start_at: Date.parse(`${date}T00:00:00Z`) + (h + 6) * HOUR, end_at: Date.parse(`${date}T00:00:00Z`) + (h + 14) * HOUR, status: "scheduled", override_reason: null, notes: null },
  staff_name: staffId === "s1" ? "Robin Lee" : "Kim Wu",
  shift_name: "Day",
});
const template = { id: "sh1", clinic_id: CLINIC_ID, name: "Day", shift_type: "morning", start_time: "08:00", end_time: "16:00", default_capacity: 1, color: null, is_active: true, created_at: 0, updated_at: 0, deleted_at: null };
const swap = { id: "sw1", clinic_id: CLINIC_ID, requester_staff_id: "s1", requester_schedule_id: "ss1", target_staff_id: "s2", target_schedule_id: null, status: "requested", reason: "dentist" };
const timeOff = { id: "to1", clinic_id: CLINIC_ID, staff_id: "s2", start_date: "2026-03-16", end_date: "2026-03-18", kind: "vacation", reason: "family", status: "requested" };
const need = { id: "n1", clinic_id: CLINIC_ID, shift_id: "sh1", schedule_id: null, need_date: "2026-03-12", start_at: Date.UTC(2026, 2, 12, 14), end_at: Date.UTC(2026, 2, 12, 22), reason: "demand", status: "open", original_staff_id: null, filled_by_staff_id: null, filled_schedule_id: null, notes: null };

const cpr = { id: "ct1", name: "CPR", code: "CPR", description: null, required_for_disciplines: [], is_required_for_clinical: true, renewal_period_months: 24, alert_thresholds_days: [90, 30, 7], is_active: true };
const licence = { ...cpr, id: "ct2", name: "Licence", code: "LIC" };
const credential = { id: "cr1", staff_id: "s1", credential_type_id: "ct1", credential_number: "X1", issuing_authority: "Red Cross", issuing_state: null, issue_date: "2024-03-01", expiry_date: "2026-03-12", status: "active", verification_status: "verified", verified_at: null, verified_by: null, renewed_at: null, document_ref: null, notes: null };
const expiring = { credential_id: "cr1", staff_id: "s1", staff_name: "Robin Lee", clinic_id: CLINIC_ID, credential_type_id: "ct1", credential_type: "CPR", credential_number: "X1", expiry_date: "2026-03-12", days_left: 3, status: "active", window_days: 7 };
const expired = { ...expiring, credential_id: "cr2", staff_id: "s2", staff_name: "Kim Wu", credential_type_id: "ct2", credential_type: "Licence", expiry_date: "2026-03-01", days_left: -8, status: "expired", window_days: null };

const kase = {
  id: "k1", case_number: "CGY-26-0001", patient_id: "p1", clinic_id: CLINIC_ID, case_type: "workers_comp", diagnosis_code: null, diagnosis_description: "Knee sprain",
  status: "active", priority: "medium", opened_at: Date.UTC(2026, 2, 1), closed_at: null, primary_clinician_id: "s1", authorization_number: "WCB-1", authorization_expiry: "2026-03-20",
  chief_complaint: "Knee pain", treatment_plan: "Six sessions",
};

const m = (v: number | null) => ({ value: v, numerator: 1, denominator: 20 });
const goal = (over: Record<string, unknown> = {}) => ({
  id: "g1", clinic_id: null, name: "Few no-shows", description: null, metric_key: "no_show_rate", comparator: "lte", target_value: 0.05, period: "month", is_system: true, is_active: true, ...over,
});
const snapshot = {
  id: "c1", clinic_id: CLINIC_ID, snapshot_timestamp: at(9), snapshot_date: "2026-03-09", snapshot_hour: 9, total_staff_available: 5, total_staff_scheduled: 4, total_staff_on_duty: 4,
  staff_utilization_percent: 75, total_rooms: 5, rooms_available: 3, rooms_in_use: 2, rooms_maintenance: 0, room_utilization_percent: 40, total_appointment_slots: 40, slots_booked: 30,
  slots_available: 10, active_patients_in_clinic: 8, waiting_patients: 6, critical_equipment_available: null, critical_equipment_in_use: null, average_wait_time_minutes: 12,
  average_visit_duration_minutes: 35, is_at_capacity: false, is_overcapacity: false, capacity_status: "high",
};

const day = (date: string) => ({ clinic_id: CLINIC_ID, date, hours: 24, day_start: 0, day_end: 0, entries: date === "2026-03-09" ? dayAppointments.map((a) => gridEntry(a, a.id === "a2" ? "Ben Ode" : "Ann Smith")) : [] });

/** The handlers: every read a screen makes when it opens, answered; writes answer plausibly. */
export function worldHandlers(role: Role = "admin"): Record<string, Handler> {
  return {
    app_info: () => ({ version: "0.1.0", database: "/data/clinicdesk.db", initialised: true, device_id: "d" }),
    session_status: () => status(role === "clinician" ? "front_desk" : role),
    activity: () => status(role === "clinician" ? "front_desk" : role),
    display_preferences: () => ({ display_locale: null, hour_cycle: null }),
    set_display_preferences: (a) => ({ display_locale: (a.fields as Record<string, string>).display_locale || null, hour_cycle: (a.fields as Record<string, string>).hour_cycle || null }),
    sync_status: () => ({ enrolled: true, server: "sync.example.org", online: true, pending_changes: 2, last_ok_at: at(9, 59), last_error: null, clock_skew_ms: 40, clock_warning: null }),
    list_clinics: () => [clinic, { ...clinic, id: SOUTH, name: "Calgary South", code: "CGS" }],
    list_staff: () => [robin, kim],
    list_rooms: () => [room],
    list_appointment_types: () => [physio, review],
    day_schedule: (a) => day(a.date as string),
    week_schedule: (a) => [day(a.start as string)],
    list_roster: () => [shift("ss1", "s1", "2026-03-09"), shift("ss2", "s2", "2026-03-10", 12)],
    list_availability_blocks: () => [{ id: "b1", clinic_id: CLINIC_ID, provider_id: null, start_at: at(12), end_at: at(13), is_available: false, block_reason: "Staff meeting", created_by: null, created_at: 0, updated_at: 0, deleted_at: null }],
    get_appointment: (a) => dayAppointments.find((x) => x.id === a.appointmentId) ?? waiting,
    get_patient: () => ann,
    search_patients: () => [ann, { ...ann, id: "p2", mrn: "CGY-0002", first_name: "Ben", last_name: "Ode" }],
    available_slots: () => [{ provider_id: "s1", start_at: at(11, 30), end_at: at(12), local_start: "2026-03-09 11:30" }],
    list_cases: () => [kase, { ...kase, id: "k2", case_number: "CGY-26-0002", status: "on_hold", priority: "high", diagnosis_description: "Low back pain" }],
    get_case_detail: () => ({ case: kase, appointments: [waiting, later] }),
    case_warnings: () => [{ case: kase, days_left: 11, message: "authorization for case CGY-26-0001 expires on 2026-03-20 (11 days)", appointments_after_expiry: [appointment({ id: "a7", start_at: Date.UTC(2026, 2, 23, 15) })] }],
    todays_appointments: () => ({
      clinic_id: CLINIC_ID, date: "2026-03-09",
      entries: [
        { ...scheduleEntry({ id: "a1", status: "checked_in", start_at: at(9, 45) }), local_time: "09:45", waiting_minutes: 12 },
        { ...scheduleEntry({ id: "a3", status: "confirmed", start_at: at(13) }), local_time: "13:00", waiting_minutes: null },
      ],
      counts: { booked: 3, checked_in: 1, in_progress: 0, completed: 1, no_show: 0 },
    }),
    // One open sync conflict: this PC's booking for Jane Doe lost Robin Lee's 10:00 to Ann's.
    list_sync_conflicts: (a) => [{
      id: "sc1", clinic_id: CLINIC_ID, kind: "appointment_overlap", resource: "provider", appointment_id: "a9", winner_id: "a1",
      patient: "Jane Doe", patient_phone: "+1 403 555 0101", provider: "Robin Lee", slot: "Tue 2026-03-10 10:00–10:30",
      winner: "Ann Smith with Robin Lee", detail: "the provider was already booked", device_id: "d1", this_pc: true,
      created_at: at(9), resolved_at: null, resolved_by: null, resolution: null, rebooked_id: null, note: null, message: "",
    }, ...(a.all ? [{
      id: "sc0", clinic_id: CLINIC_ID, kind: "appointment_overlap", resource: "room", appointment_id: "a8", winner_id: null,
      patient: "Bo Chan", patient_phone: null, provider: "Kim Wu", slot: "Mon 2026-03-09 08:00–08:30", winner: null, detail: null,
      device_id: "d2", this_pc: false, created_at: at(8), resolved_at: at(8, 30), resolved_by: "Dana Desk", resolution: "dismissed",
      rebooked_id: null, note: "patient cancelled", message: "",
    }] : [])],
    suggest_rebook_slots: () => [
      { provider_id: "s1", provider: "Robin Lee", same_provider: true, start_at: at(11), end_at: at(11, 30), local_start: "2026-03-09 11:00", label: "Mon 2026-03-09 11:00–11:30 with Robin Lee" },
    ],
    list_waitlist: () => [
      {
        entry: { id: "w1", clinic_id: CLINIC_ID, patient_id: "p1", provider_ids: ["s1"], duration_minutes: 30, earliest_date: "2026-03-09", latest_date: "2026-03-20", preferred_days: [1, 3], preferred_time_start: "09:00", preferred_time_end: "12:00", priority: 1, status: "offered", notes: "mornings", created_at: 0 },
        patient_name: "Ann Smith",
        offer: { id: "o1", waitlist_id: "w1", provider_id: "s1", room_id: null, start_at: TEST_NOW + 24 * HOUR, end_at: TEST_NOW + 24.5 * HOUR, expires_at: TEST_NOW + 10 * 60_000, outcome: "pending" },
      },
      {
        entry: { id: "w2", clinic_id: CLINIC_ID, patient_id: "p2", provider_ids: [], duration_minutes: 60, earliest_date: "2026-03-10", latest_date: "2026-03-31", preferred_days: [], preferred_time_start: null, preferred_time_end: null, priority: 2, status: "waiting", notes: null, created_at: 0 },
        patient_name: "Ben Ode",
        offer: null,
      },
    ],
    pending_reminders: () => [
      {
        reminder: { id: "rm1", clinic_id: CLINIC_ID, appointment_id: "a3", channel: "sms", due_at: at(11), status: "pending", sent_at: null, failure_reason: null, attempts: 0, created_at: 0, updated_at: 0, deleted_at: null },
        patient_id: "p1", patient_name: "Ann Smith", phone: "403-555-0101", email: null, provider_name: "Robin Lee", appointment_start_at: at(13),
      },
    ],
    credential_dashboard: () => ({
      within_days: 90, counts: { expired: 1, within_7: 1, within_30: 1, within_60: 1, within_90: 1 }, expired: [expired], expiring: [expiring], horizon_days: 90,
      at_risk: [{
        staff_id: "s2", staff_name: "Kim Wu", clinic_id: CLINIC_ID, discipline: "massage",
        lapses: [{ credential_type: "Licence", credential_id: "cr2", kind: "expired", from: "2026-03-02", until: null, reason: "expired" }],
        shifts: [{ schedule_id: "ss2", schedule_date: "2026-03-10", start_at: at(12), end_at: at(20), status: "scheduled", coverage_need_id: "n1", reason: "Licence expired" }], more_shifts: false,
        appointments: [{ appointment_id: "a2", patient_name: "Ben Ode", start_at: at(8), local_start: "2026-03-10 08:00", status: "confirmed", reason: "Licence expired" }], more_appointments: true,
      }],
    }),
    list_credential_alerts: () => [{ id: "al1", credential_id: "cr1", staff_id: "s1", threshold_days: 7, expiry_date: "2026-03-12", alert_date: "2026-03-05", message: "CPR expires in 7 days", acknowledged_at: null, staff_name: "Robin Lee", credential_type: "CPR", current: true }],
    list_credential_types: () => [cpr, licence],
    list_credentials: () => [credential],
    credential_history: () => ({
      credential,
      verifications: [{ id: "v1", credential_id: "cr1", verified_by: null, method: "online_lookup", result: "verified", verified_at: Date.UTC(2026, 1, 2, 18), reference: "REF-9", notes: null }],
      adverse_actions: [{ id: "aa1", credential_id: "cr1", staff_id: "s1", action_type: "probation", reason: "late renewal", authority: "College", start_date: "2026-01-01", end_date: null, reported_by: null }],
      alerts: [{ id: "al1", credential_id: "cr1", staff_id: "s1", threshold_days: 30, expiry_date: "2026-03-12", alert_date: "2026-02-10", message: "CPR expires in 30 days", acknowledged_at: null, acknowledged_by: null }],
    }),
    list_shift_templates: () => [template],
    list_swaps: () => [swap],
    list_time_off: () => [timeOff],
    list_coverage_needs: () => [need],
    my_swaps: () => [{ swap: { ...swap, id: "sw2", requester_staff_id: "s2", requester_schedule_id: "ss2", target_staff_id: "s1", target_schedule_id: "ss1", reason: "wedding" }, requester_name: "Kim Wu", target_name: "Robin Lee", handed_over: shift("ss2", "s2", "2026-03-10", 12), in_return: shift("ss1", "s1", "2026-03-09"), is_requester: true }],
    my_time_off: () => [timeOff, { ...timeOff, id: "to2", start_date: "2026-04-01", end_date: "2026-04-02", status: "approved" }],
    kpi_report: () => ({
      clinic_id: CLINIC_ID, timezone: "America/Edmonton", period: "week", from: "2026-02-23", to: "2026-03-09",
      rows: [
        { period_start: "2026-02-23", period_end: "2026-03-01", no_show_rate: m(0.06), cancellation_rate: m(0.1), provider_utilization: m(0.7), waitlist_fill_rate: m(0.5), waitlist_time_to_fill_hours: m(20), credential_compliance: m(1) },
        { period_start: "2026-03-02", period_end: "2026-03-08", no_show_rate: m(0.04), cancellation_rate: m(0.08), provider_utilization: m(0.75), waitlist_fill_rate: m(null), waitlist_time_to_fill_hours: m(null), credential_compliance: m(0.9) },
      ],
    }),
    list_goals: () => [goal(), goal({ id: "g2", name: "Busy providers", metric_key: "provider_utilization", comparator: "gte", target_value: 0.8, is_system: false, clinic_id: CLINIC_ID })],
    goal_progress: () => [
      { goal: goal(), period_start: "2026-03-01", period_end: "2026-03-31", value: 0.04, numerator: 2, denominator: 50, target: 0.05, met: true, gap: -0.01 },
      { goal: goal({ id: "g2", name: "Busy providers", metric_key: "provider_utilization", comparator: "gte", target_value: 0.8 }), period_start: "2026-03-01", period_end: "2026-03-31", value: 0.75, numerator: 30, denominator: 40, target: 0.8, met: false, gap: 0.05 },
    ],
    list_capacity_snapshots: () => [snapshot, { ...snapshot, id: "c0", snapshot_timestamp: at(8), snapshot_hour: 8, waiting_patients: 2, capacity_status: "normal" }],
    list_users: () => [
      { id: "u1", username: "desk", display_name: "Dana Desk", email: null, is_active: true, locked_until: null, last_login_at: at(7), created_at: 0, updated_at: 0, deleted_at: null },
      { id: "u2", username: "admin", display_name: "Alex Admin", email: "alex@example.org", is_active: true, locked_until: null, last_login_at: null, created_at: 0, updated_at: 0, deleted_at: null },
    ],
    list_roles: () => [
      { id: "ur1", user_id: "u1", clinic_id: CLINIC_ID, role: "front_desk", is_active: true, created_at: 0, updated_at: 0, deleted_at: null },
      { id: "ur2", user_id: "u2", clinic_id: CLINIC_ID, role: "admin", is_active: true, created_at: 0, updated_at: 0, deleted_at: null },
    ],
    list_audit: () => [
      { seq: 2, at: at(9, 50), table_name: "appointments", row_id: "a1", action: "update", old_values: null, new_values: null, changed_fields: "status", user_id: "u1", device_id: "d", hash: "h2" },
      { seq: 1, at: at(9), table_name: "patients", row_id: "p1", action: "insert", old_values: null, new_values: null, changed_fields: null, user_id: "u1", device_id: "d", hash: "h1" },
    ],
    verify_audit: () => ({ entries: 2, ok: true, first_broken_seq: null, reason: null, seals_checked: false, rows_checked: 2, problems: [] }),
    audit_anchor: () => ({ seq: null, at: null, flag: null, flagged_at: null, anchored_entry_changed: false }),
    recovery_kit: () => ({ database_id: "db1", clinics: ["Calgary North"], recovery_key: "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345-6789" }),
    get_idle_timeout: () => 15,
  };
}

/** Install the whole clinic as the fake backend, with `over` replacing or adding commands;
 *  `unanswered()` names the commands a screen asked for that have no fake (they were refused). */
export function world(role: Role = "admin", over: Record<string, Handler> = {}) {
  const handlers = { ...worldHandlers(role), ...over };
  const calls = fakeBackend(handlers, { events: true });
  return { calls, unanswered: () => [...new Set(calls.map((c) => c.cmd).filter((c) => !(c in handlers)))] };
}
